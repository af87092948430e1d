# Host unit tests of operating Tessera: the management shell behind the real
# console multiplexer (VM lifecycle and arch stubbed), and the VM lifecycle on
# the real scheduler, bus and device models (arch, allocator, console stubbed).
UNIT_TESTS += shell lifecycle
UNIT_SRCS_shell := core/shell.c core/shell_cmds.c core/console.c devices/uart16550.c
UNIT_SRCS_lifecycle := core/vm.c core/sched.c core/bus.c devices/uart16550.c devices/plic.c

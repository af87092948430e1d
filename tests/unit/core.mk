# Host unit tests of the portable core, lib and RISC-V helper modules.
UNIT_TESTS += gstage insn fdt sched palloc bus
UNIT_SRCS_gstage := arch/riscv64/gstage.c
UNIT_SRCS_insn := arch/riscv64/insn.c
UNIT_SRCS_bus := core/bus.c
UNIT_SRCS_fdt := lib/fdt.c lib/string.c
UNIT_SRCS_sched := core/sched.c lib/string.c
# palloc.c logs through log_printf(); test_palloc.c defines a silent stub.
UNIT_SRCS_palloc := core/palloc.c lib/string.c

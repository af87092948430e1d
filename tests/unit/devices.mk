UNIT_TESTS += uart16550 plic
UNIT_SRCS_uart16550 := devices/uart16550.c
UNIT_SRCS_plic := devices/plic.c

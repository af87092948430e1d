UNIT_TESTS += x86insn x86pt
UNIT_SRCS_x86insn := arch/x86_64/insn.c
UNIT_SRCS_x86pt := arch/x86_64/npt.c

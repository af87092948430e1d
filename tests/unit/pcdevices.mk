# Host unit tests of the PC device models shared by the x86 back ends.
UNIT_TESTS += i8259 i8254 cmos pci_stub lapic ioapic
UNIT_SRCS_i8259 := devices/i8259.c
UNIT_SRCS_i8254 := devices/i8254.c
UNIT_SRCS_cmos := devices/cmos.c
UNIT_SRCS_pci_stub := devices/pci_stub.c devices/debugport.c
UNIT_SRCS_lapic := devices/lapic.c
UNIT_SRCS_ioapic := devices/ioapic.c

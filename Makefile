# Tessera top-level Makefile. See README.md for the two commands that matter
# (make demo, make test) and docs/build.md for every target.

ARCH    ?= riscv64
CONFIG  ?= hello-pair
BUILD   ?= build
TIMEOUT ?= 60
PYTHON  ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)

.DEFAULT_GOAL := all
.PHONY: all run iso gdb demo demo-linux test unit integration deps clean guests

O       := $(BUILD)/$(ARCH)/$(CONFIG)
GEN     := $(O)/gen

# ---------------------------------------------------------------- riscv64
CROSS_riscv64 := riscv64-linux-gnu-
CC_riscv64    := $(CROSS_riscv64)gcc
OBJCOPY_riscv64 := $(CROSS_riscv64)objcopy
CFLAGS_riscv64 := -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany \
                  -mno-relax -mstrict-align

# ---------------------------------------------------------------- x86_64
CC_x86_64      := gcc
OBJCOPY_x86_64 := objcopy
CROSS_x86_64   :=
CFLAGS_x86_64  := -m64 -mno-red-zone -mgeneral-regs-only -mcmodel=small \
                  -fno-asynchronous-unwind-tables -fcf-protection=none

COMMON_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding \
                 -fno-builtin -nostdlib -fno-common -fno-pie -no-pie \
                 -fno-stack-protector -fno-omit-frame-pointer \
                 -fno-tree-loop-distribute-patterns \
                 -Wshadow -Wstrict-prototypes -Wmissing-prototypes -I. \
                 -ffunction-sections -fdata-sections -falign-functions=1 \
                 -falign-jumps=1 -falign-loops=1 -falign-labels=1

HV_SRCS_common := $(wildcard lib/*.c) $(wildcard core/*.c)
HV_DEVICES_riscv64 := devices/uart16550.c devices/plic.c
HV_SRCS_riscv64 := arch/riscv64/entry.S arch/riscv64/switch.S \
                   arch/riscv64/platform.c arch/riscv64/vcpu.c \
                   arch/riscv64/sbi.c arch/riscv64/gstage.c \
                   arch/riscv64/insn.c arch/riscv64/hostdev.c

HV_DEVICES_x86_64 := devices/uart16550.c devices/i8259.c devices/i8254.c \
                     devices/cmos.c devices/pci_stub.c devices/debugport.c devices/lapic.c \
                     devices/ioapic.c
HV_SRCS_x86_64 := arch/x86_64/boot.S arch/x86_64/trap.S arch/x86_64/svm_switch.S \
                  arch/x86_64/platform.c arch/x86_64/x86vcpu.c arch/x86_64/svm.c \
                  arch/x86_64/npt.c arch/x86_64/insn.c arch/x86_64/vmx.c \
                  arch/x86_64/vmx_switch.S arch/x86_64/pc.c

HV_SRCS := $(HV_SRCS_common) $(HV_DEVICES_$(ARCH)) $(HV_SRCS_$(ARCH)) \
           $(GEN)/config.c $(GEN)/images.S
HV_OBJS := $(patsubst %,$(O)/obj/%.o,$(filter-out $(GEN)/%,$(HV_SRCS))) \
           $(GEN)/config.o $(GEN)/images.o
ELF     := $(O)/tessera.elf

CC      := $(CC_$(ARCH))
CFLAGS  := $(COMMON_CFLAGS) $(CFLAGS_$(ARCH))

# Code no measured exit path runs is built for size: the shell, formatted
# output, the console multiplexer, the allocator, the boot-time FDT reader,
# stage-2 table building (at build and on a lazy RAM chunk's first touch),
# the instruction decoders (behind the MMIO decode caches), the PCI stub,
# port 0x80, and the PIT and RTC models (run only when their next event is
# due or the guest touches their ports; -Os left every bench row as it
# was). The footprint budget is 96 KiB (docs/bench.md); hot code
# stays -O2.
COLD_SRCS := core/shell.c core/shell_cmds.c core/console.c core/palloc.c lib/printf.c \
             lib/fdt.c arch/riscv64/gstage.c arch/riscv64/insn.c arch/x86_64/npt.c \
             arch/x86_64/insn.c devices/pci_stub.c devices/debugport.c devices/cmos.c \
             devices/i8254.c
$(patsubst %,$(O)/obj/%.o,$(COLD_SRCS)): CFLAGS += -Os

all: $(ELF)

-include guests/guests.mk

# Objects depend on this file: a changed flag rebuilds them.
$(O)/obj/%.c.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(O)/obj/%.S.o: %.S Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(GEN)/config.o: $(GEN)/config.c
	$(CC) $(CFLAGS) -c $< -o $@

$(GEN)/images.o: $(GEN)/images.S
	$(CC) $(CFLAGS) -c $< -o $@

# The generated tables depend on the TOML file and every guest image; the
# tool writes deps.mk naming the exact inputs it read. One run makes both
# files (a grouped target: with -j, two runs would race on deps.mk.tmp).
$(GEN)/config.c $(GEN)/images.S &: configs/$(ARCH)/$(CONFIG).toml tools/mkconfig.py $(GUEST_BINS_$(ARCH))
	@mkdir -p $(GEN)
	$(PYTHON) tools/mkconfig.py --arch $(ARCH) --guest-dir $(BUILD)/$(ARCH)/guests \
	    --out $(GEN) configs/$(ARCH)/$(CONFIG).toml

$(ELF): $(HV_OBJS) arch/$(ARCH)/tessera.ld
	$(CC) $(CFLAGS) -T arch/$(ARCH)/tessera.ld -Wl,--gc-sections -Wl,--build-id=none -Wl,--no-warn-rwx-segments -Wl,-z,noexecstack \
	    -Wl,-Map,$(O)/tessera.map $(HV_OBJS) -lgcc -o $@
	$(CROSS_$(ARCH))size $@ | tail -1
ifeq ($(ARCH),x86_64)
	# multiboot loaders (QEMU -kernel, GRUB) take an ELF32 file
	$(OBJCOPY_x86_64) -O elf32-i386 $@ $(O)/tessera.elf32
endif

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
-include $(GEN)/deps.mk

# ---------------------------------------------------------------- running
EMU ?= qemu
run: $(ELF)
	$(PYTHON) tools/run.py --arch $(ARCH) --emu $(EMU) --timeout $(TIMEOUT) $(RUNFLAGS) $(ELF)

# x86: a GRUB rescue ISO that boots the image as a multiboot kernel
iso: $(ELF)
	tools/mkiso.sh $(O)/tessera.elf32 $(O)/tessera.iso
	@echo "$(O)/tessera.iso"

gdb: $(ELF)
	$(PYTHON) tools/run.py --arch $(ARCH) --gdb $(ELF)

demo: deps
	$(MAKE) --no-print-directory run ARCH=riscv64 CONFIG=demo TIMEOUT=120

# Debian's Linux with a shell on its console beside a counter (Ctrl-A 0/1
# moves the keyboard; `poweroff -f` in Linux ends its VM). RISC-V unless
# ARCH=x86_64 is given (then QEMU with AMD SVM, or EMU=bochs for VMX).
DEMO_ARCH = $(if $(filter command line,$(origin ARCH)),$(ARCH),riscv64)
demo-linux: deps images
	$(MAKE) --no-print-directory run ARCH=$(DEMO_ARCH) CONFIG=demo-linux TIMEOUT=600

# ---------------------------------------------------------------- tests
UNIT_TESTS :=
-include tests/unit/*.mk
HOST_CC     ?= gcc
UNIT_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -I. -DTESSERA_HOST_TEST \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
UNIT_BINS   := $(patsubst %,$(BUILD)/host/test_%,$(UNIT_TESTS))

.SECONDEXPANSION:
$(BUILD)/host/test_%: tests/unit/test_%.c $$(UNIT_SRCS_$$*) $$(wildcard tests/unit/*.h) lib/types.h
	@mkdir -p $(dir $@)
	$(HOST_CC) $(UNIT_CFLAGS) $< $(UNIT_SRCS_$*) -lcmocka -o $@

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

# Feature areas add their own targets in mk/*.mk and may append to
# TEST_EXTRA (targets `make test` runs after the unit tests) and
# PYTEST_DIRS (directories of pytest tests).
TEST_EXTRA  :=
PYTEST_DIRS := tests/tools tests/integration
-include mk/*.mk

integration:
	$(PYTHON) -m pytest -q tests/integration

test: deps
	$(MAKE) --no-print-directory unit
	$(if $(strip $(TEST_EXTRA)),$(MAKE) --no-print-directory $(TEST_EXTRA))
	$(PYTHON) -m pytest -q $(PYTEST_DIRS)

deps:
	@tools/install-deps.sh

clean:
	rm -rf $(BUILD)

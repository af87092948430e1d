# Tessera's own test guests and their tiny runtimes: guests/rt/riscv64,
# guests/rt/x86_64, and guests/common (the architecture-neutral part of the
# runtime: printf, string, bootargs, time conversions).
#
# Included by the top-level Makefile (which sets BUILD and CROSS_riscv64);
# also usable on its own from the top of the tree:
#     make -f guests/guests.mk guests [BUILD=...] [GUEST_BASE=0x80200000]
#     make -f guests/guests.mk guests-riscv64 | guests-x86_64
# GUEST_BASE is the riscv64 link/load address: 0x80000000 inside a Tessera
# VM, 0x80200000 to run a guest directly under OpenSBI fw_jump on QEMU virt.
# A change of GUEST_BASE relinks (the value is recorded in a stamp file),
# but use a separate BUILD directory to keep both flavours around.
# x86_64 guests are always linked at 0x100000 (the x86 guest ABI).
#
# Sources of guest <g> for architecture <a>: guests/<g>/*.c and *.S (shared
# by every architecture that builds <g>) plus guests/<g>/<a>/*.c and *.S
# (that architecture only).
# Internal variables are prefixed G_ so they cannot collide with the main
# Makefile.

BUILD         ?= build
CROSS_riscv64 ?= riscv64-linux-gnu-
CROSS_x86_64  ?=
GUEST_BASE    ?= 0x80000000

GUESTS_riscv64     := hello counter isolation sbi-check timer echo fpcheck chaos prober victim bench
GUEST_BINS_riscv64 := $(patsubst %,$(BUILD)/riscv64/guests/%.bin,$(GUESTS_riscv64))

GUESTS_x86_64      := hello counter isolation timer devices-check fpcheck spin-cli bench chaos prober victim
GUEST_BINS_x86_64  := $(patsubst %,$(BUILD)/x86_64/guests/%.bin,$(GUESTS_x86_64))

G_COMMON      := guests/common
G_COMMON_SRCS := $(wildcard $(G_COMMON)/*.c)

# A guest's sources for an architecture: $(call G_SRCS,<guest>,<arch>)
G_SRCS = $(wildcard guests/$(1)/*.c guests/$(1)/*.S guests/$(1)/$(2)/*.c guests/$(1)/$(2)/*.S)

# The first rule in this file must not become the default goal of the
# top-level Makefile; standalone, `guests` is the default.
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := guests
endif

.PHONY: guests guests-riscv64 guests-x86_64 guests-clean guests-force
guests: guests-riscv64 guests-x86_64
guests-riscv64: $(GUEST_BINS_riscv64)
guests-x86_64: $(GUEST_BINS_x86_64)

# ---------------------------------------------------------------- riscv64

G_RV_OUT     := $(BUILD)/riscv64/guests
G_RV_RT      := guests/rt/riscv64
G_RV_CC      := $(CROSS_riscv64)gcc
G_RV_OBJCOPY := $(CROSS_riscv64)objcopy
G_RV_CFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -nostdlib \
                -fno-builtin -fno-pie -no-pie -fno-stack-protector \
                -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany \
                -ffunction-sections -fdata-sections -I$(G_RV_RT) -I$(G_COMMON)
G_RV_LDS     := $(G_RV_RT)/guest.ld
G_RV_LDFLAGS := -T $(G_RV_LDS) -Wl,--defsym=GUEST_BASE=$(GUEST_BASE) \
                -Wl,--build-id=none -Wl,--gc-sections
# Deferred (=): only evaluated when a guest is linked. binutils >= 2.39 warns
# about the single RWX segment, which is what a flat guest image is.
G_RV_NORWX    = $(shell $(G_RV_CC) -Wl,--no-warn-rwx-segments -Wl,--version >/dev/null 2>&1 \
                  && echo -Wl,--no-warn-rwx-segments)
G_RV_STAMP   := $(G_RV_OUT)/guest-base.stamp

G_RV_RT_SRCS := $(wildcard $(G_RV_RT)/*.c $(G_RV_RT)/*.S) $(G_COMMON_SRCS)
G_RV_RT_OBJS := $(patsubst guests/%,$(G_RV_OUT)/obj/%.o,$(G_RV_RT_SRCS))

guests-clean:
	rm -rf $(G_RV_OUT) $(G_X86_OUT)

$(G_RV_OUT)/obj/%.c.o: guests/%.c guests/guests.mk
	@mkdir -p $(dir $@)
	$(G_RV_CC) $(G_RV_CFLAGS) -MMD -MP -c $< -o $@

$(G_RV_OUT)/obj/%.S.o: guests/%.S guests/guests.mk
	@mkdir -p $(dir $@)
	$(G_RV_CC) $(G_RV_CFLAGS) -MMD -MP -c $< -o $@

# Rewritten only when GUEST_BASE changes, so a new base relinks everything.
$(G_RV_STAMP): guests-force
	@mkdir -p $(dir $@)
	@echo '$(GUEST_BASE)' | cmp -s - $@ || echo '$(GUEST_BASE)' > $@

define G_RV_GUEST_RULES
G_RV_OBJS_$(1) := $$(patsubst guests/%,$(G_RV_OUT)/obj/%.o,$$(call G_SRCS,$(1),riscv64))
$(G_RV_OUT)/$(1).elf: $$(G_RV_OBJS_$(1)) $(G_RV_RT_OBJS) $(G_RV_LDS) $(G_RV_STAMP)
	$(G_RV_CC) $(G_RV_CFLAGS) $(G_RV_LDFLAGS) $$(G_RV_NORWX) -Wl,-Map,$(G_RV_OUT)/$(1).map \
	    $$(G_RV_OBJS_$(1)) $(G_RV_RT_OBJS) -lgcc -o $$@
endef
$(foreach g,$(GUESTS_riscv64),$(eval $(call G_RV_GUEST_RULES,$(g))))

$(G_RV_OUT)/%.bin: $(G_RV_OUT)/%.elf
	$(G_RV_OBJCOPY) -O binary $< $@

-include $(wildcard $(G_RV_OUT)/obj/*/*.d $(G_RV_OUT)/obj/*/*/*.d)

# ---------------------------------------------------------------- x86_64
# Host gcc in 64-bit freestanding mode; crt0.S starts in 32-bit protected
# mode (.code32) and switches to long mode itself. -mgeneral-regs-only: the
# compiler never touches x87/SSE/AVX registers (the runtime's interrupt
# entry does not save them, and fpcheck owns them through inline asm).

G_X86_OUT     := $(BUILD)/x86_64/guests
G_X86_RT      := guests/rt/x86_64
G_X86_CC      := $(CROSS_x86_64)gcc
G_X86_OBJCOPY := $(CROSS_x86_64)objcopy
G_X86_CFLAGS  := -std=gnu11 -m64 -O2 -g -Wall -Wextra -Werror -ffreestanding -nostdlib \
                 -fno-builtin -fno-pie -no-pie -fno-stack-protector \
                 -mno-red-zone -mcmodel=small -fno-asynchronous-unwind-tables \
                 -fcf-protection=none -fno-tree-loop-distribute-patterns -mgeneral-regs-only \
                 -ffunction-sections -fdata-sections -I$(G_X86_RT) -I$(G_COMMON)
G_X86_LDS     := $(G_X86_RT)/guest.ld
G_X86_LDFLAGS := -T $(G_X86_LDS) -Wl,--build-id=none -Wl,--gc-sections \
                 -Wl,-z,noexecstack -Wl,-z,max-page-size=0x1000
G_X86_NORWX    = $(shell $(G_X86_CC) -Wl,--no-warn-rwx-segments -Wl,--version >/dev/null 2>&1 \
                   && echo -Wl,--no-warn-rwx-segments)

G_X86_RT_SRCS := $(wildcard $(G_X86_RT)/*.c $(G_X86_RT)/*.S) $(G_COMMON_SRCS)
G_X86_RT_OBJS := $(patsubst guests/%,$(G_X86_OUT)/obj/%.o,$(G_X86_RT_SRCS))

$(G_X86_OUT)/obj/%.c.o: guests/%.c guests/guests.mk
	@mkdir -p $(dir $@)
	$(G_X86_CC) $(G_X86_CFLAGS) -MMD -MP -c $< -o $@

$(G_X86_OUT)/obj/%.S.o: guests/%.S guests/guests.mk
	@mkdir -p $(dir $@)
	$(G_X86_CC) $(G_X86_CFLAGS) -MMD -MP -c $< -o $@

define G_X86_GUEST_RULES
G_X86_OBJS_$(1) := $$(patsubst guests/%,$(G_X86_OUT)/obj/%.o,$$(call G_SRCS,$(1),x86_64))
$(G_X86_OUT)/$(1).elf: $$(G_X86_OBJS_$(1)) $(G_X86_RT_OBJS) $(G_X86_LDS)
	$(G_X86_CC) $(G_X86_CFLAGS) $(G_X86_LDFLAGS) $$(G_X86_NORWX) -Wl,-Map,$(G_X86_OUT)/$(1).map \
	    $$(G_X86_OBJS_$(1)) $(G_X86_RT_OBJS) -o $$@
endef
$(foreach g,$(GUESTS_x86_64),$(eval $(call G_X86_GUEST_RULES,$(g))))

$(G_X86_OUT)/%.bin: $(G_X86_OUT)/%.elf
	$(G_X86_OBJCOPY) -O binary $< $@

-include $(wildcard $(G_X86_OUT)/obj/*/*.d $(G_X86_OUT)/obj/*/*/*.d)

# Tessera's own riscv64 test guests and their runtime (guests/rt/riscv64).
#
# Included by the top-level Makefile (which sets BUILD and CROSS_riscv64);
# also usable on its own from the top of the tree:
#     make -f guests/guests.mk guests [BUILD=...] [GUEST_BASE=0x80200000]
# GUEST_BASE is the link/load address: 0x80000000 inside a Tessera VM,
# 0x80200000 to run a guest directly under OpenSBI fw_jump on QEMU virt.
# A change of GUEST_BASE relinks (the value is recorded in a stamp file),
# but use a separate BUILD directory to keep both flavours around.
# Internal variables are prefixed G_ so they cannot collide with the main
# Makefile.

BUILD         ?= build
CROSS_riscv64 ?= riscv64-linux-gnu-
GUEST_BASE    ?= 0x80000000

GUESTS_riscv64     := hello counter isolation sbi-check timer echo fpcheck
GUEST_BINS_riscv64 := $(patsubst %,$(BUILD)/riscv64/guests/%.bin,$(GUESTS_riscv64))

G_RV_OUT     := $(BUILD)/riscv64/guests
G_RV_RT      := guests/rt/riscv64
G_RV_CC      := $(CROSS_riscv64)gcc
G_RV_OBJCOPY := $(CROSS_riscv64)objcopy
G_RV_CFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -nostdlib \
                -fno-builtin -fno-pie -no-pie -fno-stack-protector \
                -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany \
                -ffunction-sections -fdata-sections -I$(G_RV_RT)
G_RV_LDS     := $(G_RV_RT)/guest.ld
G_RV_LDFLAGS := -T $(G_RV_LDS) -Wl,--defsym=GUEST_BASE=$(GUEST_BASE) \
                -Wl,--build-id=none -Wl,--gc-sections
# Deferred (=): only evaluated when a guest is linked. binutils >= 2.39 warns
# about the single RWX segment, which is what a flat guest image is.
G_RV_NORWX    = $(shell $(G_RV_CC) -Wl,--no-warn-rwx-segments -Wl,--version >/dev/null 2>&1 \
                  && echo -Wl,--no-warn-rwx-segments)
G_RV_STAMP   := $(G_RV_OUT)/guest-base.stamp

G_RV_RT_SRCS := $(wildcard $(G_RV_RT)/*.c $(G_RV_RT)/*.S)
G_RV_RT_OBJS := $(patsubst guests/%,$(G_RV_OUT)/obj/%.o,$(G_RV_RT_SRCS))

# The first rule in this file must not become the default goal of the
# top-level Makefile; standalone, `guests` is the default.
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := guests
endif

.PHONY: guests guests-clean guests-force
guests: $(GUEST_BINS_riscv64)

guests-clean:
	rm -rf $(G_RV_OUT)

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
G_RV_OBJS_$(1) := $$(patsubst guests/%,$(G_RV_OUT)/obj/%.o,$$(wildcard guests/$(1)/*.c guests/$(1)/*.S))
$(G_RV_OUT)/$(1).elf: $$(G_RV_OBJS_$(1)) $(G_RV_RT_OBJS) $(G_RV_LDS) $(G_RV_STAMP)
	$(G_RV_CC) $(G_RV_CFLAGS) $(G_RV_LDFLAGS) $$(G_RV_NORWX) -Wl,-Map,$(G_RV_OUT)/$(1).map \
	    $$(G_RV_OBJS_$(1)) $(G_RV_RT_OBJS) -lgcc -o $$@
endef
$(foreach g,$(GUESTS_riscv64),$(eval $(call G_RV_GUEST_RULES,$(g))))

$(G_RV_OUT)/%.bin: $(G_RV_OUT)/%.elf
	$(G_RV_OBJCOPY) -O binary $< $@

-include $(wildcard $(G_RV_OUT)/obj/*/*.d $(G_RV_OUT)/obj/*/*/*.d)

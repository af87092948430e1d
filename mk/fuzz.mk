# libFuzzer harnesses (issue 8): tests/fuzz/fuzz_<name>.c, built for the
# host with clang and ASan/UBSan, seeded from tests/fuzz/corpus/<name>/.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZERS="plic fdt"]   run each harness N s
#             [FUZZ_JOBS=2]                         that many at a time
#   make fuzz-smoke                                    what `make test` runs (30 s each)
#   make fuzz-build                                    just build them
#
# New inputs a run finds go to $(BUILD)/fuzz/work/<name>/ (not committed);
# a crash leaves $(BUILD)/fuzz/artifacts/<name>-crash-*: copy it into
# tests/fuzz/corpus/<name>/ once fixed, so every later run replays it.
# The config tool's validator is fuzzed by tests/fuzz/fuzz_mkconfig.py (a
# Python mutation loop with a fixed seed), run by the same targets.

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-mkconfig

FUZZ_CC          ?= clang
FUZZ_SECONDS     ?= 30
FUZZ_SMOKE_SECONDS ?= 30
FUZZ_JOBS        ?= 2
FUZZERS          ?= uart16550 plic insn fdt sbi i8259 i8254 cmos ioapic lapic pcports x86insn
FUZZ_MKCONFIG_ITERS ?= 1000
FUZZ_OUT         := $(BUILD)/fuzz
FUZZ_CFLAGS      := -std=gnu11 -g -O1 -Wall -Wextra -Werror -I. -I$(FUZZ_OUT)/include \
                    -DTESSERA_HOST_TEST -fsanitize=fuzzer,address,undefined \
                    -fno-sanitize-recover=undefined -fno-omit-frame-pointer

FUZZ_SRCS_uart16550 := devices/uart16550.c
FUZZ_SRCS_plic      := devices/plic.c
FUZZ_SRCS_insn      := arch/riscv64/insn.c
FUZZ_SRCS_fdt       := lib/fdt.c
FUZZ_SRCS_i8259     := devices/i8259.c
FUZZ_SRCS_ioapic    := devices/ioapic.c
FUZZ_SRCS_pcports   := devices/pci_stub.c devices/debugport.c
FUZZ_SRCS_x86insn   := arch/x86_64/insn.c
FUZZ_SRCS_i8254     := devices/i8254.c
FUZZ_SRCS_cmos      := devices/cmos.c
FUZZ_SRCS_lapic     := devices/lapic.c
FUZZ_SRCS_sbi       :=
FUZZ_DEPS_sbi       := $(FUZZ_OUT)/include/sbi_host.c

FUZZ_BINS := $(patsubst %,$(FUZZ_OUT)/fuzz_%,$(FUZZERS))

# sbi.c on the host: its remote fence.i becomes a stub call and
# rv_sbi_call() (inline ecall, the last function of the file) is dropped.
# Fails loudly if sbi.c changed so that this no longer leaves plain C.
$(FUZZ_OUT)/include/sbi_host.c: arch/riscv64/sbi.c mk/fuzz.mk
	@mkdir -p $(dir $@)
	sed -e 's/__asm__ volatile("fence.i" ::: "memory");/fuzz_fence_i();/' \
	    -e '/^struct sbiret rv_sbi_call(/,$$d' $< > $@.tmp
	@if grep -q '__asm__\|rv_sbi_call' $@.tmp; then \
	    echo "mk/fuzz.mk: arch/riscv64/sbi.c still has assembly after the host rewrite; update the sed" >&2; \
	    rm -f $@.tmp; exit 1; fi
	mv $@.tmp $@

.SECONDEXPANSION:
$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $$(FUZZ_SRCS_$$*) $$(FUZZ_DEPS_$$*)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $< $(FUZZ_SRCS_$*) -o $@

fuzz-build: $(FUZZ_BINS)

# tests/fuzz/run.sh runs FUZZ_JOBS harnesses at a time (2: the suite stays
# short on a 2-core machine), prints one summary line per harness
# (executions, new corpus entries) and fails after the first crash.
fuzz: fuzz-build
	@FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh $(FUZZ_OUT) $(FUZZ_SECONDS) $(FUZZERS)
	$(PYTHON) tests/fuzz/fuzz_mkconfig.py --iterations $(FUZZ_MKCONFIG_ITERS) --seed 8

fuzz-smoke: fuzz-build
	@FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh $(FUZZ_OUT) $(FUZZ_SMOKE_SECONDS) $(FUZZERS)
	$(PYTHON) tests/fuzz/fuzz_mkconfig.py --iterations $(FUZZ_MKCONFIG_ITERS) --seed 8

fuzz-mkconfig:
	$(PYTHON) tests/fuzz/fuzz_mkconfig.py --iterations $(FUZZ_MKCONFIG_ITERS) --seed 8

TEST_EXTRA += fuzz-smoke

# Static analysis (issue 8): `make lint` runs three linters over the
# hypervisor's C sources, each directory with one target's flags:
#   riscv64   core/ devices/ lib/ (plain C shared by both back ends,
#             checked once) and arch/riscv64/
#   x86_64    arch/x86_64/ (the x86 build's target flags: -m64
#             -mno-red-zone -mgeneral-regs-only ...)
# The linters:
#   lint-cppcheck     cppcheck, warning/portability/performance checks, once
#                     per target (-D__riscv, -D__x86_64__); accepted findings
#                     in .cppcheck-suppressions
#   lint-tidy         clang-tidy with .clang-tidy, --target riscv64 or x86_64
#                     so the inline assembly parses; accepted findings (file
#                     and check) in .clang-tidy-suppressions
#   lint-wconversion  every source compiled with its target's compiler and
#                     hypervisor flags plus -Wconversion (which in C includes
#                     -Wsign-conversion) -Werror, -fsyntax-only

.PHONY: lint lint-cppcheck lint-tidy lint-wconversion

LINT_DIRS_riscv64 ?= core devices lib arch/riscv64
LINT_DIRS_x86_64  ?= arch/x86_64
LINT_SRCS_riscv64 := $(sort $(wildcard $(addsuffix /*.c,$(LINT_DIRS_riscv64))))
LINT_SRCS_x86_64  := $(sort $(wildcard $(addsuffix /*.c,$(LINT_DIRS_x86_64))))
LINT_SRCS   := $(LINT_SRCS_riscv64) $(LINT_SRCS_x86_64)
LINT_OUT    := $(BUILD)/lint
LINT_JOBS   ?= 2
LINT_CPPCHECK := cppcheck -q --enable=warning,portability,performance --std=c11 --platform=unix64 \
                 -I. --inline-suppr --suppressions-list=.cppcheck-suppressions --error-exitcode=1
LINT_TIDY_FLAGS := -std=gnu11 -ffreestanding -fno-builtin -I.
LINT_TIDY_FLAGS_riscv64 := --target=riscv64-unknown-elf -march=rv64imac -mabi=lp64 -mcmodel=medany
LINT_TIDY_FLAGS_x86_64  := --target=x86_64-unknown-elf -mno-red-zone -mgeneral-regs-only -mcmodel=small

# $(call lint_tidy,ARCH): clang-tidy over that target's sources, LINT_JOBS
# at a time, one output file per source.
lint_tidy = printf '%s\n' $(LINT_SRCS_$1) | xargs -r -P $(LINT_JOBS) -I{} sh -c \
    'clang-tidy --quiet "$$1" -- $(LINT_TIDY_FLAGS_$1) $(LINT_TIDY_FLAGS) > "$(LINT_OUT)/tidy/$$(echo $$1 | tr / _).txt" 2>&1; true' _ {}

# $(call lint_wconversion,ARCH): each of that target's sources, as the
# hypervisor build compiles it, with -Wconversion.
lint_wconversion = for f in $(LINT_SRCS_$1); do \
    $(CC_$1) $(COMMON_CFLAGS) $(CFLAGS_$1) -Wconversion -fsyntax-only $$f || exit 1; done

lint: lint-cppcheck lint-tidy lint-wconversion
	@echo "lint: clean ($(words $(LINT_SRCS)) files)"

lint-cppcheck:
	$(LINT_CPPCHECK) -D__riscv=1 -D__riscv_xlen=64 $(LINT_DIRS_riscv64)
	$(LINT_CPPCHECK) -D__x86_64__=1 $(LINT_DIRS_x86_64)

# LINT_TIDY_REUSE=1 re-checks the last run's output against the list only.
lint-tidy:
	@mkdir -p $(LINT_OUT)/tidy
ifneq ($(LINT_TIDY_REUSE),1)
	@rm -f $(LINT_OUT)/tidy/*.txt
	@$(call lint_tidy,riscv64)
	@$(call lint_tidy,x86_64)
endif
	@cat $(LINT_OUT)/tidy/*.txt | grep -E ': (warning|error): ' | sed 's#^$(CURDIR)/##; s#^\./##' \
	    | sort -u > $(LINT_OUT)/tidy.txt; true
	@sed -n 's#^\([^ :]*\):[0-9]*:[0-9]*: \(warning\|error\): .*\[\([^]]*\)\]$$#\1 \3#p' \
	    $(LINT_OUT)/tidy.txt | sort -u > $(LINT_OUT)/tidy-found.txt
	@grep -v '^#' .clang-tidy-suppressions | awk 'NF >= 2 {print $$1, $$2}' | sort -u > $(LINT_OUT)/tidy-allowed.txt
	@comm -23 $(LINT_OUT)/tidy-found.txt $(LINT_OUT)/tidy-allowed.txt > $(LINT_OUT)/tidy-new.txt
	@if grep -q ': error: ' $(LINT_OUT)/tidy.txt || [ -s $(LINT_OUT)/tidy-new.txt ]; then \
	    echo "lint-tidy: findings not in .clang-tidy-suppressions:"; \
	    cat $(LINT_OUT)/tidy.txt | while read -r l; do \
	        f=$${l%%:*}; c=$$(echo "$$l" | sed -n 's/.*\[\([^]]*\)\]$$/\1/p'); \
	        grep -qx "$$f $$c" $(LINT_OUT)/tidy-allowed.txt || echo "  $$l"; done; \
	    exit 1; fi
	@comm -13 $(LINT_OUT)/tidy-found.txt $(LINT_OUT)/tidy-allowed.txt | sed 's/^/lint-tidy: stale entry in .clang-tidy-suppressions (no longer found): /'
	@echo "lint-tidy: $(words $(LINT_SRCS)) files, $$(wc -l < $(LINT_OUT)/tidy-found.txt) accepted (file, check) findings"

lint-wconversion:
	@$(call lint_wconversion,riscv64)
	@$(call lint_wconversion,x86_64)
	@echo "lint-wconversion: $(words $(LINT_SRCS)) files clean with -Wconversion"

TEST_EXTRA += lint

# Static analysis (issue 8): `make lint` runs, over the RISC-V hypervisor's
# sources (core/ devices/ lib/ arch/riscv64/):
#   lint-cppcheck     cppcheck, warning/portability/performance checks;
#                     accepted findings in .cppcheck-suppressions
#   lint-tidy         clang-tidy with .clang-tidy, targeting riscv64 so the
#                     inline assembly parses; accepted findings (file and
#                     check) in .clang-tidy-suppressions
#   lint-wconversion  every source compiled with -Wconversion (which in C
#                     includes -Wsign-conversion) -Werror, -fsyntax-only
# x86_64 joins when its back end is linted: add arch/x86_64 to LINT_DIRS
# with its own target flags.

.PHONY: lint lint-cppcheck lint-tidy lint-wconversion

LINT_DIRS   ?= core devices lib arch/riscv64
LINT_SRCS   := $(sort $(wildcard $(addsuffix /*.c,$(LINT_DIRS))))
LINT_OUT    := $(BUILD)/lint
LINT_JOBS   ?= 2
LINT_TIDY_FLAGS := --target=riscv64-unknown-elf -march=rv64imac -mabi=lp64 -mcmodel=medany \
                   -std=gnu11 -ffreestanding -fno-builtin -I.

lint: lint-cppcheck lint-tidy lint-wconversion
	@echo "lint: clean ($(words $(LINT_SRCS)) files)"

lint-cppcheck:
	cppcheck -q --enable=warning,portability,performance --std=c11 --platform=unix64 \
	    -I. -D__riscv=1 -D__riscv_xlen=64 --inline-suppr \
	    --suppressions-list=.cppcheck-suppressions --error-exitcode=1 $(LINT_DIRS)

# LINT_TIDY_REUSE=1 re-checks the last run's output against the list only.
lint-tidy:
	@mkdir -p $(LINT_OUT)/tidy
ifneq ($(LINT_TIDY_REUSE),1)
	@rm -f $(LINT_OUT)/tidy/*.txt
	@printf '%s\n' $(LINT_SRCS) | xargs -P $(LINT_JOBS) -I{} sh -c \
	    'clang-tidy --quiet "$$1" -- $(LINT_TIDY_FLAGS) > "$(LINT_OUT)/tidy/$$(echo $$1 | tr / _).txt" 2>&1; true' _ {}
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
	@for f in $(LINT_SRCS); do \
	    $(CC_riscv64) $(COMMON_CFLAGS) $(CFLAGS_riscv64) -Wconversion -fsyntax-only $$f || exit 1; \
	done
	@echo "lint-wconversion: $(words $(LINT_SRCS)) files clean with -Wconversion"

TEST_EXTRA += lint

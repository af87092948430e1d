# Benchmarks (docs/bench.md, tools/bench.py).
#   make bench                         every scenario on every back end: riscv64
#                                      and x86 SVM in QEMU under -icount shift=0,
#                                      x86 VMX in Bochs; bench/results/latest.md
#                                      + exit-costs.png
#   make bench BENCH_FLAGS=--arch=x86-svm   one back end (riscv64, x86-svm, x86-vmx)
#   make bench BENCH_FLAGS=--repeat=2  the same, run twice, numbers must match
# A missed target never fails; a broken build or run does. `make test` runs
# bench-smoke: the harness's self-test and a tiny run that must produce
# every metric.
.PHONY: bench bench-smoke
BENCH_FLAGS ?=

bench: deps
	$(PYTHON) tools/bench.py --build $(BUILD) $(BENCH_FLAGS)

bench-smoke:
	$(PYTHON) tools/bench.py selftest
	$(PYTHON) tools/bench.py --build $(BUILD) --smoke

TEST_EXTRA += bench-smoke

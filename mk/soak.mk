# Robustness scenarios (issue 8). `make test` runs them through pytest
# (tests/integration/test_chaos.py, test_isolation_probe.py: PYTEST_DIRS
# already has tests/integration). `make soak` runs the long chaos soaks,
# configs/riscv64/robustness/chaos-long.toml (about 18 million chaos
# operations) and configs/x86_64/robustness/chaos-long.toml (SVM, ~5
# million) and chaos-vmx-long.toml (VMX under Bochs, ~3 million); several
# minutes each, not part of `make test`.

.PHONY: soak

soak: deps
	SOAK=1 $(PYTHON) -m pytest -q -s tests/integration/test_chaos.py -k chaos_soak \
		tests/integration/test_x86_chaos.py

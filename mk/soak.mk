# Robustness scenarios (issue 8). `make test` runs them through pytest
# (tests/integration/test_chaos.py, test_isolation_probe.py: PYTEST_DIRS
# already has tests/integration). `make soak` runs the long chaos soak,
# configs/riscv64/robustness/chaos-long.toml (about 18 million chaos
# operations; several minutes), which is not part of `make test`.

.PHONY: soak

soak: deps
	SOAK=1 $(PYTHON) -m pytest -q -s tests/integration/test_chaos.py -k test_chaos_soak

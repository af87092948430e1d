"""Soak (x86): the hostile chaos guest (guests/chaos/x86_64) beside a counter
on one core, under both x86 back ends: AMD SVM in QEMU TCG (-cpu EPYC,
-icount; configs/x86_64/robustness/chaos.toml) and Intel VMX in Bochs 2.7
(chaos-vmx.toml), at least 1,000,000 chaos operations each. The checks are
the RISC-V soak's (test_chaos.check_soak): the hypervisor alive and clean,
chaos restarted exactly as its policy says after each fatal run, every
fault naming the address chaos announced, the final run done, and the
counter's share of the core while chaos ran >= 45% (its rate beside chaos
over its rate alone after chaos stopped, in the same boot; guest time is
instruction count under both emulators).

`make soak` runs it with SOAK=1 on chaos-long.toml and chaos-vmx-long.toml."""
import os

import pytest

from conftest import run
from test_chaos import check_soak, counter_share
from test_x86_scenarios import EMUS

SOAK = os.environ.get("SOAK") == "1"
# per back end: config, minimum chaos operations in the boot (all runs)
SOAKS = {
    "svm": ("robustness/chaos-long", 5_000_000) if SOAK else ("robustness/chaos", 1_000_000),
    "vmx": ("robustness/chaos-vmx-long", 3_000_000) if SOAK else ("robustness/chaos-vmx", 1_000_000),
}


@pytest.mark.parametrize("emu", EMUS)
def test_x86_chaos_soak(emu):
    config, min_ops = SOAKS[emu]
    r = run(config, timeout=3000 if SOAK else 600, arch="x86_64", **EMUS[emu])
    vendor = "AMD SVM" if emu == "svm" else "Intel VMX"
    assert any(l.startswith(f"virtualization: {vendor}") for l in r.hv()), r.hv()[:5]
    total, stop = check_soak(r, config, min_ops, arch="x86_64", log_name=f"x86-chaos-{emu}")
    share, window, tail = counter_share(r, stop)
    print(f"x86 chaos ({emu}): {total} chaos ops; counter share {share:.3f} over {window} ms "
          f"(alone rate from {tail} ms)")
    assert window >= 200 and tail >= 300, (window, tail)
    assert share >= 0.45, f"counter got {share:.1%} of the CPU while chaos ran"

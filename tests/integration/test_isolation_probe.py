"""Isolation probe (issue 8): configs/riscv64/robustness/probe.toml.

The prober makes one access that must fail per boot (probe k on restart k):
the bytes just outside its RAM and device windows, its guest-physical space
in 1 GiB and 64 GiB strides up to 2^41 and beyond, and stores of a pattern
at the host-physical addresses of the victim's RAM. Each boot first checks
the accesses that must work (both ends of its RAM, the UART registers, both
ends of the PLIC window). The victim checks its RAM against a pattern every
100 ms until after the prober is done.

What Tessera does on RISC-V today (docs/robustness.md): any access outside
a VM's RAM and devices stops that VM with a message naming the access, the
guest-physical address and the guest PC; there is no guest-visible fault.
With on_fault = "restart" the prober is booted again for the next probe.
"""
import re

from conftest import run

PROBE = re.compile(r"^prober: probe (\d+)/(\d+) (load|store) (\d) (0x[0-9a-f]+) (.*)$")
FAULT = re.compile(r"^vm prober: fault: (\d)-byte (load|store) outside its memory and devices "
                   r"at guest-physical (0x[0-9a-f]+), pc 0x[0-9a-f]*: policy restart$")


def test_isolation_probe():
    r = run("robustness/probe", timeout=180)
    assert r.status == 0, r.text[-3000:]
    assert not r.errors(), r.errors()
    assert "all VMs stopped" in r.text
    prober, victim, hv = r.vm("prober"), r.vm("victim"), r.hv()

    # nothing leaked, nothing was turned into a guest exception
    assert not [l for l in prober if "LEAK" in l or "exception" in l or "FAIL" in l]

    probes = [PROBE.match(l) for l in prober]
    probes = [m for m in probes if m]
    n = int(probes[0].group(2))
    assert n >= 60
    assert [int(m.group(1)) for m in probes] == list(range(n))
    addrs = {int(m.group(5), 16) for m in probes}
    for must in (0x80400000, 0x7FFFFFFF, 0x10000100, 0x0FFFFFFF, 0x0C400000, 0x0BFFFFFC, 0,
                 (1 << 41) - 4096, (1 << 41) - 8, 1 << 41, 0x88000000, 0x883FFFF8):
        assert must in addrs, hex(must)
    assert sum(1 for a in addrs if a % (1 << 36) == 0 and a < 1 << 41) >= 31

    # every boot checked the inside first; every probe stopped the VM with a
    # message naming exactly that access, and the policy booted it again
    boots = [l for l in prober if l.startswith("prober: boot ")]
    assert len(boots) == n + 1
    assert sum(1 for l in prober if l.startswith("prober: inside ok")) == n + 1
    faults = [FAULT.match(l) for l in hv if l.startswith("vm prober: fault")]
    assert all(faults), [l for l in hv if l.startswith("vm prober: fault")][:3]
    assert len(faults) == n
    for p, f in zip(probes, faults):
        assert (f.group(1), f.group(2), f.group(3)) == (p.group(4), p.group(3), p.group(5)), \
            (p.group(0), f.group(0))
    assert [l for l in hv if l.startswith("vm prober restarting")] == \
        [f"vm prober restarting (restart {k})" for k in range(1, n + 1)]
    assert f"prober: done {n} probes" in prober

    assert_victim_unchanged(r, victim, f"prober: done {n} probes")
    assert "vm victim stopped: guest shutdown" in hv
    assert not [l for l in hv if l.startswith("vm victim") and "restart" in l]


def assert_victim_unchanged(r, victim, done):
    """The victim's memory never changed, and it checked after the prober's
    `done` line. Returns the index of that line in r.lines."""
    assert victim[0].startswith("victim: filled ")
    checksum = re.search(r"checksum (0x[0-9a-f]+)", victim[0]).group(1)
    checks = [l for l in victim if l.startswith("victim: check ")]
    assert len(checks) >= 10 and all(l.endswith(f"ok checksum {checksum}") for l in checks)
    assert victim[-1].startswith("victim: PASS memory unchanged") and checksum in victim[-1]
    i_done = r.lines.index(f"[prober] {done}")
    i_pass = next(i for i, l in enumerate(r.lines) if l.startswith("[victim] victim: PASS"))
    assert i_pass > i_done
    return i_done

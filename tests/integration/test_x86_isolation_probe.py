"""Isolation probe (issue 8) on x86: configs/x86_64/robustness/probe.toml,
under both back ends (AMD SVM in QEMU TCG -cpu EPYC -icount, Intel VMX in
Bochs 2.7), the twin of test_isolation_probe.py (RISC-V).

The prober (guests/prober/x86_64) makes one access that must stop it per
boot (probe k on restart k): the bytes just outside its two RAM regions and
outside the PC's device windows, every 1 GiB below 16 GiB, every 32 GiB up
to 2^MAXPHYADDR (CPUID 0x80000008: 40 bits under both emulators), and
stores of a pattern at the host-physical addresses of the victim's RAM.
Each boot first checks what must work: both ends of its RAM regions, the
UART, the IOAPIC, and reads/writes inside the PC windows (0xa0000-0xfffff,
0xc0000000-0xffffffff) where no device sits, which Tessera documents as
all-ones reads and dropped writes, not a stop. Addresses at and above
2^MAXPHYADDR (up to 2^48, the NPT/EPT limit, and 2^51) cannot be reached by
the guest at all: its own page walk raises #PF with the RSVD bit; those run
in the last boot. The victim checks its RAM against a pattern while the
prober probes and after it is done (every 5 ms under QEMU, every 100 ms
under Bochs: probe-vmx.toml).
"""
import re
import time

import pytest

from conftest import run
from test_isolation_probe import assert_victim_unchanged
from test_x86_scenarios import EMUS

PROBE = re.compile(r"^prober: probe (\d+)/(\d+) (load|store) (\d) (0x[0-9a-f]+) (.*)$")
FAULT = re.compile(r"^vm prober: fault: (\d)-byte (load|store) outside its memory and devices "
                   r"at guest-physical (0x[0-9a-f]+), pc 0x[0-9a-f]*: policy restart$")
PF = re.compile(r"^prober: probe (\d+) #PF error=(0x[0-9a-f]+) as expected")
NODEV = re.compile(r"^vm prober: (\d)-byte (read of|write to) guest-physical (0x[0-9a-f]+): "
                   r"no device \((all ones|ignored)\)$")
RAM = re.compile(r"^vm (\w+): RAM (0x[0-9a-f]+)-(0x[0-9a-f]+) at host (0x[0-9a-f]+)$")

# what the prober reads (and writes) inside the PC windows every boot
WINDOW_READS = {0xa0000, 0xfffff, 0xffff8, 0xc0000000, 0xfebffffc, 0xfec01000, 0xfedffffc,
                0xfee01000, 0xfffffff8, 0xffffffff}
WINDOW_WRITES = {0xa0000, 0xfffff, 0xc0000000, 0xfee01000, 0xffffffff}
GiB = 1 << 30
# per back end: the same scenario, the victim's check timing fitted to the
# emulator (see the configs)
CONFIGS = {"svm": "robustness/probe", "vmx": "robustness/probe-vmx"}


def in_window(a):
    return 0xa0000 <= a < 0x100000 or 0xc0000000 <= a < 1 << 32


@pytest.mark.parametrize("emu", EMUS)
def test_x86_isolation_probe(emu):
    t0 = time.monotonic()
    r = run(CONFIGS[emu], timeout=300, arch="x86_64", **EMUS[emu])
    elapsed = time.monotonic() - t0
    assert r.status == 0, r.text[-3000:]
    assert not r.errors(), r.errors()
    assert "all VMs stopped" in r.text
    vendor = "AMD SVM" if emu == "svm" else "Intel VMX"
    assert any(l.startswith(f"virtualization: {vendor}") for l in r.hv()), r.hv()[:5]
    prober, victim, hv = r.vm("prober"), r.vm("victim"), r.hv()

    # where the victim's RAM really is in host memory (Tessera's own line)
    ram = [m.groups() for m in map(RAM.match, hv) if m]
    vram = [g for g in ram if g[0] == "victim"]
    assert len(vram) == 1, ram
    vbase, vsize = int(vram[0][3], 16), int(vram[0][2], 16) - int(vram[0][1], 16)
    for name, lo, hi, host in ram:
        if name == "prober":          # the prober's own RAM is elsewhere in host memory
            h = int(host, 16)
            assert h + int(hi, 16) - int(lo, 16) <= vbase or h >= vbase + vsize, ram

    # nothing leaked, no unexpected guest exception, every must-work check passed
    assert not [l for l in prober if "LEAK" in l or "exception" in l or "FAIL" in l]
    assert not [l for l in victim if "FAIL" in l]

    boot0 = next(l for l in prober if l.startswith("prober: boot 0 "))
    maxphy = int(re.search(r"maxphyaddr (\d+)", boot0).group(1))
    assert 36 <= maxphy <= 48, boot0
    top = 1 << maxphy

    probes = [m for m in map(PROBE.match, prober) if m]
    n = int(probes[0].group(2))
    assert [int(m.group(1)) for m in probes] == list(range(n))
    done = [l for l in prober if l.startswith("prober: done ")]
    assert len(done) == 1, done
    nstop, npf = map(int, re.match(r"prober: done (\d+) probes \((\d+) stops, (\d+) #PF\)",
                                   done[0]).group(2, 3))
    assert nstop + npf == n and nstop >= 55 and npf >= 4
    addr = [int(m.group(5), 16) for m in probes]
    assert all(a < top for a in addr[:nstop]) and all(a >= top for a in addr[nstop:])
    addrs = set(addr)
    for must in (0x500000, 0x80000, 0x9ffff, 0x9fff8, 0xbfffffff, 0xbffffff8, 1 << 32,
                 top - 4096, top - 8, top, (1 << 48) - 8, 1 << 48):
        assert must in addrs, hex(must)
    for g in range(1, 16):
        if g != 3:
            assert g * GiB in addrs, f"{g} GiB"
    assert sum(1 for a in addr[:nstop] if a >= 16 * GiB and a % (32 * GiB) == 0) >= 31
    # stores of the pattern where the victim's RAM is, per Tessera's log line
    stores = {int(m.group(5), 16) for m in probes if m.group(3) == "store"}
    for a in (vbase, vbase + vsize // 2, vbase + vsize - 8):
        assert a in stores, hex(a)

    # every boot checked the inside first, the windows included
    boots = [l for l in prober if l.startswith("prober: boot ")]
    assert len(boots) == nstop + 1
    assert sum(1 for l in prober if l.startswith("prober: inside ok")) == nstop + 1
    assert sum(1 for l in prober
               if l == "prober: windows ok: 12 reads all-ones, 5 writes dropped") == nstop + 1
    # Tessera saw them as device-window accesses with no device (reported
    # once per VM), never as faults
    nodev = [m.groups() for m in map(NODEV.match, hv) if m]
    assert all(in_window(int(a, 16)) for _, _, a, _ in nodev), nodev
    assert WINDOW_READS <= {int(a, 16) for _, k, a, _ in nodev if k == "read of"}
    assert WINDOW_WRITES <= {int(a, 16) for _, k, a, _ in nodev if k == "write to"}

    # every must-fail probe below 2^MAXPHYADDR stopped the VM with a message
    # naming exactly that access, and the policy booted it again
    faults = [FAULT.match(l) for l in hv if l.startswith("vm prober: fault")]
    assert all(faults), [l for l in hv if l.startswith("vm prober: fault")][:3]
    assert len(faults) == nstop
    for p, f in zip(probes[:nstop], faults):
        assert (f.group(1), f.group(2), f.group(3)) == (p.group(4), p.group(3), p.group(5)), \
            (p.group(0), f.group(0))
    assert [l for l in hv if l.startswith("vm prober restarting")] == \
        [f"vm prober restarting (restart {k})" for k in range(1, nstop + 1)]
    # the rest: #PF (reserved bit) in the guest's own page walk, one each
    pfs = [m for m in map(PF.match, prober) if m]
    assert [int(m.group(1)) for m in pfs] == list(range(nstop, n))
    assert all(int(m.group(2), 16) & 8 for m in pfs)
    assert "vm prober stopped: guest shutdown" in hv

    i_done = assert_victim_unchanged(r, victim, done[0])
    # it checked while the prober probed, and after its last probe
    i_checks = [i for i, l in enumerate(r.lines) if l.startswith("[victim] victim: check ")]
    during = sum(1 for i in i_checks if i < i_done)
    assert during >= 3 and len(i_checks) - during >= 3, (during, len(i_checks))
    assert "vm victim stopped: guest shutdown" in hv
    assert not [l for l in hv if l.startswith("vm victim") and "restart" in l]
    print(f"x86 isolation probe ({emu}): {n} probes ({nstop} stops, {npf} #PF beyond "
          f"MAXPHYADDR {maxphy}), {len(i_checks)} victim checks ({during} while it probed), {elapsed:.1f} s")

"""x86-64 scenarios: the same tessera.elf under QEMU TCG with AMD SVM
(-cpu EPYC, -icount) and under Bochs 2.7 with Intel VMX (GRUB ISO)."""
import os
import re
import subprocess

import pytest

from conftest import ROOT, build, run

EMUS = {
    "svm": dict(icount=0, extra=()),
    "vmx": dict(icount=None, extra=("--emu", "bochs")),
}


def boot(config, emu, timeout=180):
    r = run(config, timeout=timeout, arch="x86_64", **EMUS[emu])
    assert r.status == 0, r.text[-3000:]
    assert not r.errors(), r.errors()
    assert "all VMs stopped" in r.text
    vendor = "AMD SVM" if emu == "svm" else "Intel VMX"
    assert any(l.startswith(f"virtualization: {vendor}") for l in r.hv()), r.hv()[:5]
    return r


@pytest.mark.parametrize("emu", EMUS)
def test_hello_pair(emu):
    r = boot("hello-pair", emu)
    insn = "vmmcall" if emu == "svm" else "vmcall"
    for vid, name in enumerate(["hello-a", "hello-b"]):
        out = r.vm(name)
        assert f"hello from {name}: vm id {vid} hart 0" in out
        assert f"hello: hypercall instruction {insn}" in out
        assert f"vm {name} stopped: guest shutdown" in r.hv()


def done_counts(r, names):
    res = {}
    for n in names:
        m = [re.match(r"done iterations=(\d+) time_ms=(\d+)", l) for l in r.vm(n)]
        m = [x for x in m if x]
        assert m, r.vm(n)[-3:]
        res[n] = (int(m[0].group(1)), int(m[0].group(2)))
    return res


@pytest.mark.parametrize("emu", EMUS)
def test_counter_pair_is_fair(emu):
    r = boot("counter-pair", emu)
    done = done_counts(r, ["counter-a", "counter-b"])
    total = sum(i for i, _ in done.values())
    for n, (i, ms) in done.items():
        assert ms >= 2000
        assert 0.45 <= i / total <= 0.55, f"{n}: {i / total:.1%} of the progress ({done})"
    switches = int(re.search(r"all VMs stopped; (\d+) vCPU switches", r.text).group(1))
    assert switches >= 150         # 10 ms slices over 2 s of guest time


@pytest.mark.parametrize("emu", EMUS)
def test_spinner_with_interrupts_off_is_preempted(emu):
    """spin-cli spins with RFLAGS.IF = 0 and never exits by itself; the counter
    beside it (VM 0, so both clocks start together) still gets its half.
    Bochs never delivers the external-interrupt exit while the guest's IF is
    0: only the VMX preemption timer ends the spinner's slices there (with it
    not armed the counter gets ~11% and 4 switches happen)."""
    r = boot("spin-cli", emu)
    done = done_counts(r, ["counter", "spin-cli"])
    total = sum(i for i, _ in done.values())
    share = done["counter"][0] / total
    assert done["counter"][1] >= 2000 and done["spin-cli"][1] >= 2000
    assert 0.45 <= share <= 0.55, f"counter: {share:.1%} of the progress ({done})"
    switches = int(re.search(r"all VMs stopped; (\d+) vCPU switches", r.text).group(1))
    assert switches >= 150         # 10 ms slices over 2 s of guest time


@pytest.mark.parametrize("emu", EMUS)
def test_isolation_stops_only_the_prober(emu):
    r = boot("isolation", emu)
    stop = [l for l in r.hv() if l.startswith("vm isolation stopped: fault")]
    assert stop and "outside its memory and devices at guest-physical 0x30000000" in stop[0]
    assert "isolation: FAIL not stopped" not in r.vm("isolation")
    assert any(l.startswith("done ") for l in r.vm("counter"))


@pytest.mark.parametrize("emu", EMUS)
def test_four_vms(emu):
    r = boot("four", emu)
    for n in ("hello-a", "hello-b", "counter-a", "counter-b"):
        assert f"vm {n} stopped: guest shutdown" in r.hv()


@pytest.mark.parametrize("emu", EMUS)
def test_fp_state_is_per_vcpu(emu):
    """x87/SSE/AVX registers and MXCSR keep each VM's pattern across
    switches (XSAVE/XRSTOR with XCR0 switched per vCPU)."""
    r = boot("fp-pair", emu)
    for n in ("fp-a", "fp-b", "fp-c"):
        out = r.vm(n)
        assert "fpcheck: PASS" in out, [l for l in out if "FAIL" in l][:5]
        assert any("ymm0-15 upper halves" in l for l in out)
    switches = int(re.search(r"all VMs stopped; (\d+) vCPU switches", r.text).group(1))
    assert switches >= 20


@pytest.mark.parametrize("emu", EMUS)
def test_devices_check(emu):
    """Every PC device model as a guest sees it: 8259 (init, masking, IRR/ISR,
    poll, ELCR), 8254 (counting, read-back, channel 2 gate, port 0x61
    refresh toggle even when each read takes ~30 us as under Bochs), RTC,
    PCI 'no device', port 0x80, the 16550 (loopback, THRE interrupt), LAPIC,
    IOAPIC."""
    r = boot("devices-check", emu)
    out = r.vm("devices-check")
    assert "devices-check: PASS" in out, [l for l in out if "FAIL" in l]
    m = [l for l in out if l.startswith("devices-check: summary")]
    assert m and int(re.search(r"passed=(\d+)", m[0]).group(1)) >= 60


@pytest.mark.parametrize("emu", EMUS)
def test_timer_interrupts(emu):
    """PIT through the 8259, the LAPIC timer and the IOAPIC path, each
    within 1 ms of its deadline, beside a CPU-bound counter: an interrupt
    after `sti; hlt` is injected at once, a vCPU whose timer fires while it
    waits on the run queue preempts the counter, and console output does
    not hold the CPU (Bochs's UART takes ~87 us a byte)."""
    r = boot("timer", emu)
    out = r.vm("timer")
    assert "timer: PASS" in out, [l for l in out if "FAIL" in l]
    assert any(l.startswith("done ") for l in r.vm("counter"))


def test_grub_iso_boots_hello_pair():
    build("hello-pair", arch="x86_64")
    subprocess.run(["make", "-s", "ARCH=x86_64", "CONFIG=hello-pair", "iso"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    iso = os.path.join(ROOT, "build", "x86_64", "hello-pair", "tessera.iso")
    out = subprocess.run(
        ["timeout", "120", "qemu-system-x86_64", "-M", "pc", "-cpu", "EPYC", "-m", "1G",
         "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
         "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-cdrom", iso],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    text = out.stdout.decode("utf-8", "replace")
    assert out.returncode == 0, text[-2000:]
    assert "[hello-a] hello: done" in text and "[hello-b] hello: done" in text
    assert "[tessera] all VMs stopped" in text


def test_cpu_without_1g_pages_is_refused_with_a_message():
    """The boot identity map uses 1 GiB pages; a CPU without them (here EPYC
    with pdpe1gb taken away) gets a message and a failing exit, not a fault."""
    r = run("hello-pair", timeout=30, arch="x86_64", extra=("--cpu", "EPYC,-pdpe1gb"))
    assert "this CPU has no 1 GiB pages" in r.text, r.text[-2000:]
    assert r.status != 0
    assert "[tessera]" not in r.text and "hello: done" not in r.text


def test_cpu_with_1g_pages_boots_on_the_boot_map():
    """Control for the test above: the same image and emulator with pdpe1gb."""
    r = run("hello-pair", timeout=60, arch="x86_64", extra=("--cpu", "EPYC,+pdpe1gb"))
    assert r.status == 0, r.text[-2000:]
    assert "[hello-a] hello: done" in r.text and "[hello-b] hello: done" in r.text

"""Real guests nobody on the team wrote: Debian's riscv64 Linux (with our
busybox initramfs) and Debian's S-mode U-Boot, as VMs beside other VMs on
one hart. `make test` fetches the images first (`make images`)."""
import os
import re

import pexpect
import pytest

from conftest import ROOT, run, spawn

KERNEL = os.path.join(ROOT, "cache", "riscv64", "linux", "Image")
pytestmark = pytest.mark.skipif(
    not os.path.exists(KERNEL) and not os.environ.get("CI"),
    reason="Debian images not fetched (run `make images`)")


def userland(r, vm):
    """What /init printed: {'KERNEL': ..., 'CPUS': ..., ...}."""
    facts = {}
    for line in r.vm(vm):
        m = re.match(r"TESSERA-([A-Z-]+) ?(.*)$", line)
        if m:
            facts[m.group(1)] = m.group(2)
    return facts


def assert_linux_booted(r, vm, cpus):
    f = userland(r, vm)
    assert "USERLAND-OK" in f, r.vm(vm)[-20:]
    assert re.match(r"6\.12\.\S+-riscv64 riscv64$", f["KERNEL"]), f["KERNEL"]
    assert f["CPUS"] == str(cpus)
    assert f["CPUINFO"] == f"processor={cpus} hart={cpus}"
    # the ISA the vCPU offers, as the device tree says: no H, no Sstc
    assert f["ISA"].startswith("rv64imafdc")
    assert "h" not in f["ISA"].split("_")[0][4:] and "sstc" not in f["ISA"]
    # plus the host's stateless extensions Tessera passes through, as it
    # announced them (QEMU 7.2's rv64 has Zba/Zbb/Zbc/Zbs and Zihintpause)
    m = [l for l in r.hv() if l.startswith("host extensions VMs get too: ")]
    assert m, r.hv()[:8]
    passed = m[0].split(": ", 1)[1].split("_")
    assert "zbb" in passed and "zihintpause" in passed, passed
    assert set(passed) <= set(f["ISA"].split("_")), (passed, f["ISA"])
    assert f["MEM"].startswith("MemTotal:")
    assert "POWEROFF" in f
    out = r.vm(vm)
    assert any("ttyS0 at MMIO 0x10000000" in l and "is a 16550A" in l for l in out)
    assert any("riscv-plic" in l for l in out)
    assert f"vm {vm} stopped: guest shutdown" in r.hv()


def assert_no_hv_errors(r):
    assert r.status == 0, r.text[-3000:]
    assert not r.errors(), r.errors()
    assert "all VMs stopped" in r.text


def test_linux_alone():
    r = run("linux", timeout=150, icount=None)
    assert_no_hv_errors(r)
    assert_linux_booted(r, "linux", 1)
    # Linux found every SBI extension it uses; it asked for nothing Tessera lacks
    st = re.search(r"vm linux stats: .*SBI calls (\d+) \((\d+) unsupported\)", r.text)
    assert st and int(st.group(2)) == 0


def test_linux_smp_two_vcpus():
    r = run("linux-smp", timeout=150, icount=None)
    assert_no_hv_errors(r)
    assert_linux_booted(r, "linux", 2)
    assert any("smp: Brought up 1 node, 2 CPUs" in l for l in r.vm("linux"))


def test_linux_smp_four_vcpus():
    r = run("linux-smp4", timeout=200, icount=None)
    assert_no_hv_errors(r)
    assert_linux_booted(r, "linux", 4)


def test_linux_pair_each_powers_off_only_itself():
    r = run("linux-pair", timeout=200, icount=None)
    assert_no_hv_errors(r)
    for vm in ("linux-a", "linux-b"):
        assert_linux_booted(r, vm, 1)
    # each powered off only itself: one stop line per VM, no restart
    hv = r.hv()
    assert hv.count("vm linux-a stopped: guest shutdown") == 1
    assert hv.count("vm linux-b stopped: guest shutdown") == 1
    assert not any("restarting" in l for l in hv)


def progress(r, vm):
    return [(int(m.group(2)), int(m.group(1))) for m in
            (re.match(r"progress iterations=(\d+) time_ms=(\d+)", l) for l in r.vm(vm)) if m]


def test_linux_beside_counter_keeps_the_counter_fed():
    base = run("counter-solo", timeout=120)
    both = run("linux-counter", timeout=200)
    assert_no_hv_errors(base)
    assert_no_hv_errors(both)
    assert_linux_booted(both, "linux", 1)
    assert_counter_fed(base, both, "hart")


def assert_counter_fed(base, both, cpu):
    """Over each reporting interval of `both`, the counter got at least 45%
    of the iterations it made alone (`base`) by the same guest time."""
    solo = dict(progress(base, "counter"))
    shared = progress(both, "counter")
    assert len(shared) >= 6, both.vm("counter")[-5:]
    prev_t, prev_s, prev_b = 0, 0, 0
    for t, iters in shared:
        b = solo.get(t) or solo[min(solo, key=lambda k: abs(k - t))]
        share = (iters - prev_s) / (b - prev_b)
        assert share >= 0.45, f"counter got {share:.0%} of the {cpu} over {prev_t}-{t} ms"
        prev_t, prev_s, prev_b = t, iters, b


def test_linux_shell_takes_typed_input():
    child = spawn("demo-linux", timeout=120, icount=None)
    child.expect_exact("TESSERA-SHELL")
    child.expect_exact("/ # ")
    child.send("echo typed-$((6*7)); grep -c ^processor /proc/cpuinfo\r")
    child.expect_exact("[linux] typed-42")
    child.expect_exact("[linux] 1")
    child.send("poweroff -f\r")
    child.expect_exact("[tessera] vm linux stopped: guest shutdown")
    child.expect_exact("[tessera] all VMs stopped")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_uboot_prompt_answers_commands():
    child = spawn("uboot", timeout=90, icount=None)
    child.expect_exact("[hello] hello: done")
    child.expect_exact("[uboot] => ")
    child.send("version\r")
    child.expect(r"\[uboot\] U-Boot 2023\.01")
    child.send("fdt addr $fdtcontroladdr; fdt print /chosen\r")
    child.expect_exact('[uboot] \ttessera,vm-name = "uboot";')
    child.send("bdinfo\r")
    child.expect(r"\[uboot\] -> size     = 0x0+4000000")
    child.send("poweroff\r")
    child.expect_exact("[tessera] vm uboot stopped: guest shutdown")
    child.expect_exact("[tessera] all VMs stopped")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

"""The foundation's scenarios on RISC-V (QEMU virt, H extension, one hart)."""
import re

import pexpect
import pytest

from conftest import run, spawn

VM_LINE = re.compile(r"^\[([a-z0-9-]+)\] ")


def assert_clean(r, vms):
    assert r.status == 0, r.text
    assert not r.errors(), r.errors()
    assert "all VMs stopped" in r.text
    # After Tessera is up, every console line belongs to a VM or to Tessera.
    start = next(i for i, l in enumerate(r.lines) if l.startswith("[tessera]"))
    for line in r.lines[start:]:
        if line.strip() and not line.startswith("[run]"):
            m = VM_LINE.match(line)
            assert m and m.group(1) in set(vms) | {"tessera"}, f"stray line: {line!r}"


def test_hello_pair():
    r = run("hello-pair")
    assert_clean(r, ["hello-a", "hello-b"])
    for vid, name in enumerate(["hello-a", "hello-b"]):
        out = r.vm(name)
        assert f"hello from {name}: vm id {vid} hart 0" in out
        assert f"hello via dbcn from {name}: vm id {vid} hart 0" in out
        assert "hello: done" in out
        assert f"vm {name} stopped: guest shutdown" in r.hv()


def shares(r, names):
    done = {}
    for n in names:
        lines = [l for l in r.vm(n) if l.startswith("done ")]
        assert lines, f"{n} never finished: {r.vm(n)[-3:]}"
        m = re.match(r"done iterations=(\d+) time_ms=(\d+)", lines[0])
        done[n] = (int(m.group(1)), int(m.group(2)))
    total = sum(i for i, _ in done.values())
    return {n: i / total for n, (i, _) in done.items()}, done


def test_counter_pair_is_fair():
    r = run("counter-pair", timeout=120)
    assert_clean(r, ["counter-a", "counter-b"])
    share, done = shares(r, ["counter-a", "counter-b"])
    for n, (_, ms) in done.items():
        assert ms >= 2000, f"{n} ran only {ms} ms of guest time"
    for n, s in share.items():
        assert 0.45 <= s <= 0.55, f"{n} got {s:.1%} of the progress: {done}"
    # both made progress all along: progress lines interleave
    assert len([l for l in r.vm("counter-a") if l.startswith("progress")]) >= 7
    assert len([l for l in r.vm("counter-b") if l.startswith("progress")]) >= 7


def test_isolation_stops_only_the_prober():
    r = run("isolation", timeout=120)
    assert_clean(r, ["counter", "isolation"])
    stop = [l for l in r.hv() if l.startswith("vm isolation stopped: fault")]
    assert stop, r.hv()
    assert "outside its memory and devices" in stop[0]
    assert "guest-physical 0x88000000" in stop[0] and re.search(r"pc 0x8000[0-9a-f]+", stop[0])
    assert "isolation: FAIL not stopped" not in r.vm("isolation")
    # the counter kept going after the prober was stopped, to its end
    lines = r.lines
    i_stop = next(i for i, l in enumerate(lines) if "vm isolation stopped" in l)
    i_done = next(i for i, l in enumerate(lines) if l.startswith("[counter] done"))
    assert i_done > i_stop
    assert any(l.startswith("[counter] progress") for l in lines[i_stop:i_done])


def test_bad_mmio_access_stops_only_that_vm():
    r = run("bad-mmio", timeout=120)
    assert_clean(r, ["counter", "bad-mmio"])
    assert any("vm bad-mmio stopped: fault: 8-byte store that its device refuses at "
               "guest-physical 0x10000000" in l for l in r.hv()), r.hv()
    assert any(l.startswith("done ") for l in r.vm("counter"))


def test_four_vms():
    r = run("four", timeout=120)
    names = ["hello-a", "hello-b", "counter-a", "counter-b"]
    assert_clean(r, names)
    for n in names:
        assert f"vm {n} stopped: guest shutdown" in r.hv()
    share, _ = shares(r, ["counter-a", "counter-b"])
    assert all(0.4 <= s <= 0.6 for s in share.values()), share


def test_sbi_check_passes_in_a_vm():
    r = run("sbi-check", timeout=120)
    assert_clean(r, ["sbi-check"])
    out = r.vm("sbi-check")
    assert "sbi-check: PASS" in out, [l for l in out if "FAIL" in l]
    m = [l for l in out if l.startswith("sbi-check: summary")]
    assert m and re.search(r"passed=(\d+) failed=0", m[0])
    assert int(re.search(r"passed=(\d+)", m[0]).group(1)) >= 60
    # the calls it made to unknown extensions/functions were counted, not fatal
    st = re.search(r"vm sbi-check stats: .*SBI calls (\d+) \((\d+) unsupported\)", r.text)
    assert st and int(st.group(2)) >= 3 and int(st.group(1)) > int(st.group(2))


def test_timer_wakes_near_its_deadline():
    r = run("timer", timeout=120)
    assert_clean(r, ["timer", "counter"])
    out = r.vm("timer")
    assert "timer: PASS" in out, out
    rounds = [l for l in out if l.startswith("round ") and "latency_us" in l]
    assert len(rounds) == 20
    # the neighbour still ran while the timer VM slept
    assert any(l.startswith("done ") for l in r.vm("counter"))


def test_console_focus_routes_typed_lines():
    child = spawn("echo-pair", timeout=60, icount=None)
    ready = set()
    while len(ready) < 2:               # the two VMs may come up in either order
        ready.add(child.expect_exact(["[echo-a] echo: ready", "[echo-b] echo: ready"]))
    child.send("hello\r")
    child.expect_exact("[echo-a] echo: hello")
    child.send("\x011")
    child.expect_exact("[tessera] input now goes to vm 1 (echo-b)")
    child.send("world\r")
    child.expect_exact("[echo-b] echo: world")
    child.send("quit\r")
    child.expect_exact("[tessera] vm echo-b stopped: guest shutdown")
    child.send("\x019")
    child.expect_exact("[tessera] no vm 9")
    child.send("\x010quit\r")
    child.expect_exact("[tessera] vm echo-a stopped: guest shutdown")
    child.expect_exact("[tessera] all VMs stopped")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    # "world" went to echo-b only
    assert "[echo-a] echo: world" not in child.before


def test_missing_h_extension_stops_cleanly():
    r = run("hello-pair", timeout=60, icount=None, extra=["--cpu", "rv64,h=false"])
    assert r.status == 1, r.text       # an error, not a time-out (124)
    assert any("no H extension" in l for l in r.hv()), r.hv()
    assert not any(l.startswith("[hello-a]") for l in r.lines)


def test_run_times_out_with_status_124():
    r = run("spin", timeout=3, icount=None)
    assert r.status == 124, r.text
    assert "[run] timeout" in r.text
    assert any(l.startswith("progress") for l in r.vm("spin"))


def test_fp_registers_are_per_vcpu():
    r = run("fp-pair", timeout=120)
    names = ["fp-a", "fp-b", "fp-c"]
    assert_clean(r, names)
    for n in names:
        out = r.vm(n)
        assert "fpcheck: PASS" in out, [l for l in out if "FAIL" in l][:5]
    # the patterns really were interleaved: many switches between the VMs
    m = re.search(r"all VMs stopped; (\d+) vCPU switches", r.text)
    assert m and int(m.group(1)) >= 40


def test_guest_reboot_restarts_only_that_vm_from_its_images():
    r = run("reboot", timeout=120)
    assert_clean(r, ["rebooter", "counter"])
    hv = r.hv()
    for k in (1, 2, 3):
        assert f"vm rebooter restarting (restart {k})" in hv
    assert "vm rebooter restarting (restart 4)" not in hv
    assert "vm rebooter stopped: restart limit reached" in hv
    # each boot greeted again: 1 first boot + 3 restarts
    assert r.vm("rebooter").count("hello from rebooter: vm id 0 hart 0") == 4
    assert any(l.startswith("done ") for l in r.vm("counter"))


def test_host_without_sstc_uses_the_sbi_timer():
    r = run("timer", timeout=120, extra=["--cpu", "rv64,sstc=false"])
    assert_clean(r, ["timer", "counter"])
    assert any("Sstc no (SBI timer)" in l for l in r.hv())
    assert "timer: PASS" in r.vm("timer")

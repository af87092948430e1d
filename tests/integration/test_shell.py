"""Operating Tessera on RISC-V: console focus, the management shell, VM
lifecycle from the shell, statistics, and the restart-on-fault policy.

The interactive tests boot configs/riscv64/shell.toml (an echo VM and two
counters that never stop) in real time, type into the console with pexpect
and end with the shell's `poweroff`, which must give exit status 0.
"""
import io
import os
import re
import time

import pexpect
import pytest

from conftest import ROOT, run, spawn

PROMPT = "[tessera] tessera> "
PROGRESS = r"progress iterations=(\d+) time_ms=(\d+)"


def boot():
    """The shell scenario, up, with the keyboard on the shell."""
    child = spawn("shell", timeout=60, icount=None)
    child.logfile_read = io.StringIO()     # the whole transcript, for the end
    for _ in range(3):
        child.expect([r"\[echo\] echo: ready", r"\[counter-a\] counter: ",
                      r"\[counter-b\] counter: "], timeout=20)
    child.send("\x01h")
    child.expect_exact("[tessera] input now goes to the tessera shell", timeout=10)
    child.expect_exact(PROMPT, timeout=10)
    return child


def cmd(child, line, timeout=10):
    """Type a command; return the console lines up to the next prompt."""
    child.send(line + "\r")
    # the echo of the whole line ends with the Enter (a VM's line in between
    # redraws it); the next prompt is the one printed after the answer
    child.expect_exact(line + "\r\n", timeout=timeout)
    child.expect_exact(PROMPT, timeout=timeout)
    return [l for l in child.before.replace("\r", "").split("\n") if l]


def answer(lines):
    """The shell's own lines among the console lines, without '[tessera] '."""
    return [l[len("[tessera] "):] for l in lines if l.startswith("[tessera] ")]


def collect(child, seconds):
    """Everything the console prints during the next `seconds`."""
    text, child.buffer = child.buffer, ""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            text += child.read_nonblocking(65536, timeout=left)
        except pexpect.TIMEOUT:
            break
    return text.replace("\r", "")


def progress(text, vm):
    return [(int(i), int(t)) for i, t in re.findall(rf"\[{vm}\] {PROGRESS}", text)]


def poweroff(child):
    child.send("poweroff\r")
    child.expect_exact("[tessera] all VMs stopped", timeout=10)
    child.expect(pexpect.EOF, timeout=20)
    child.close()
    assert child.exitstatus == 0, child.before


def test_vm_list_info_and_help():
    child = boot()
    time.sleep(1.5)                     # one full CPU-share window
    out = answer(cmd(child, "vm list"))
    assert out[0].split() == ["id", "name", "state", "vcpus", "memory", "cpu"]
    rows = {l.split()[1]: l.split() for l in out[1:4]}
    assert set(rows) == {"echo", "counter-a", "counter-b"}
    for vid, name in enumerate(["echo", "counter-a", "counter-b"]):
        assert rows[name][0] == str(vid)
        assert rows[name][2:6] == ["running", "1", "4", "MiB"]
    share = {n: float(r[6].rstrip("%")) for n, r in rows.items()}
    # two CPU hogs share the core; the echo VM sleeps in WFI
    assert share["echo"] < 5, share
    assert 30 < share["counter-a"] < 60 and 30 < share["counter-b"] < 60, share

    out = answer(cmd(child, "vm info counter-a"))
    assert out[0] == "vm 1 counter-a: running, 1 vCPU(s), restarts 0 (limit none)"
    assert "  policies: on shutdown stop, on reboot restart, on fault stop" in out
    assert any(re.fullmatch(r"  memory 0x80000000-0x80400000 \(4 MiB\) at host 0x[0-9a-f]+", l)
               for l in out), out
    assert any(l.startswith("  image guest:counter at 0x80000000") for l in out), out
    assert "  device uart16550 at 0x10000000-0x10000100, irq 10, console" in out
    assert any(re.fullmatch(r"  vcpu 0: (running|runnable), pc 0x8000[0-9a-f]+", l)
               for l in out), out
    # and what decides whether it takes an interrupt
    assert any(re.fullmatch(r"    SIE [01], vsie 0x[0-9a-f]+, hvip 0x[0-9a-f]+, "
                            r"timer (pending|quiet), vstimecmp 0x[0-9a-f]+", l)
               for l in out), out

    out = answer(cmd(child, "help"))
    for word in ("vm list", "vm info", "vm start", "vm stop", "vm restart", "vm pause",
                 "vm resume", "stats", "log level", "reboot", "poweroff"):
        assert any(l.strip().startswith(word) for l in out), (word, out)
    poweroff(child)


def test_bad_commands_give_one_error_line_each():
    child = boot()
    bad = {
        "frobnicate": "shell: unknown command 'frobnicate'; 'help' lists the commands",
        "vm": "shell: unknown command 'vm'; 'help' lists the commands",
        "vm explode 1": "shell: unknown command 'vm explode 1'; 'help' lists the commands",
        "vm stop nosuchvm": "shell: no vm 'nosuchvm' ('vm list' shows them)",
        "vm stop 7": "shell: no vm '7' ('vm list' shows them)",
        "vm info": "shell: usage: vm info <vm>",
        "vm pause 1 2": "shell: usage: vm pause <vm>",
        "vm start counter-a": "shell: vm counter-a is running; 'vm start' needs it stopped",
        "vm resume echo": "shell: vm echo is running; 'vm resume' needs it paused",
        "log level loud": "shell: no log level 'loud' (error, warn, info or debug)",
        "poweroff now": "shell: usage: poweroff",
        "a b c d e f g": "shell: too many words (at most 6)",
        "x" * 120: "shell: unknown command '" + "x" * 79 + "'; 'help' lists the commands",
    }
    for line, error in bad.items():
        child.send(line + "\r")
        child.expect_exact(error + "\r\n", timeout=10)
        child.expect_exact(PROMPT, timeout=10)
        mine = answer(child.before.replace("\r", "").split("\n"))
        assert mine == [], (line, mine)     # nothing after the one error line
    # the backspace key edits the line; the shell still answers
    child.send("log level debuX\x7fg\r")
    child.expect_exact("[tessera] log level debug\r\n", timeout=10)
    child.expect_exact(PROMPT, timeout=10)
    out = answer(cmd(child, "log level info"))
    assert out == ["log level info"], out
    out = answer(cmd(child, "vm list"))
    assert len(out) == 4 and all(" running " in l for l in out[1:]), out
    poweroff(child)


def test_stop_then_start_boots_the_vm_again():
    child = boot()
    out = answer(cmd(child, "vm stop counter-b"))
    assert "vm counter-b stopped: stopped from the shell" in out, out
    text = collect(child, 1.2)
    assert "[counter-b]" not in text, text
    assert len(progress(text, "counter-a")) >= 3, text

    out = answer(cmd(child, "vm list"))
    assert out[3].split()[1:3] == ["counter-b", "stopped"], out

    child.send("vm start counter-b\r")
    child.expect_exact("[tessera] vm counter-b starting from its images", timeout=10)
    # it boots again from its images: the startup line, then fresh guest time
    child.expect_exact("[counter-b] counter: report_ms=200 stop_ms=0", timeout=10)
    child.expect(r"\[counter-b\] " + PROGRESS, timeout=10)
    assert int(child.match.group(2)) < 400

    # stopping every VM keeps Tessera up for the shell
    cmd(child, "vm stop counter-b")
    cmd(child, "vm stop counter-a")
    out = answer(cmd(child, "vm stop echo"))
    assert any(l.startswith("no vm is running; Tessera stays up") for l in out), out
    text = collect(child, 0.5)
    assert "all VMs stopped" not in text
    child.send("vm start 1\r")
    child.expect_exact("[counter-a] counter: report_ms=200", timeout=10)
    child.expect(r"\[counter-a\] " + PROGRESS, timeout=10)
    poweroff(child)


def test_restart_from_the_shell_reloads_the_vm():
    child = boot()
    child.expect(r"\[counter-a\] progress iterations=\d+ time_ms=(6|7|8|9)\d\d", timeout=15)
    out = answer(cmd(child, "vm restart counter-a"))
    assert "vm counter-a stopped: restart from the shell" in out, out
    assert "vm counter-a restarting (restart 1)" in out, out
    child.expect_exact("[counter-a] counter: report_ms=200 stop_ms=0", timeout=10)
    child.expect(r"\[counter-a\] " + PROGRESS, timeout=10)
    assert int(child.match.group(2)) < 400      # its guest time began again
    out = answer(cmd(child, "vm info counter-a"))
    assert out[0].startswith("vm 1 counter-a: running, 1 vCPU(s), restarts 1"), out
    poweroff(child)


def test_pause_and_resume():
    child = boot()
    child.expect(r"\[counter-a\] " + PROGRESS, timeout=10)
    out = answer(cmd(child, "vm pause counter-a"))
    assert "vm counter-a paused" in out, out
    before = progress("\n".join(cmd(child, "vm list")) + collect(child, 0.3), "counter-a")
    text = collect(child, 1.2)
    assert "[counter-a]" not in text, text          # no progress while paused
    assert len(progress(text, "counter-b")) >= 3, text
    out = answer(cmd(child, "vm list"))
    assert out[2].split()[1:3] == ["counter-a", "paused"], out
    out = answer(cmd(child, "vm pause 1"))
    assert out == ["shell: vm counter-a is paused; 'vm pause' needs it running"], out

    out = answer(cmd(child, "vm resume 1"))
    assert "vm counter-a resumed" in out, out
    text = collect(child, 1.0)
    after = progress(text, "counter-a")
    assert len(after) >= 2, text
    assert "[counter-a] counter:" not in text       # resumed, not rebooted
    if before:
        assert after[0][0] > before[-1][0]
    poweroff(child)


def stats_of(lines, vm):
    text = "\n".join(answer(lines))
    m = re.search(rf"vm {vm}: running, ran (\d+) ms, cpu [\d.]+%, (\d+) exits\n"
                  rf"  exits: tick (\d+) host-irq \d+ mmio (\d+) .*\n"
                  rf"  sbi calls \d+ \(\d+ unsupported\), csr emulated \d+, "
                  rf"interrupts injected \d+\n"
                  rf"  device plic at 0xc000000: \d+ reads, \d+ writes\n"
                  rf"  device uart16550 at 0x10000000: (\d+) reads, (\d+) writes\n"
                  rf"  unclaimed accesses 0", text)
    assert m, text
    return [int(x) for x in m.groups()]


def test_stats_count_up():
    child = boot()
    first = stats_of(cmd(child, "stats counter-a"), "counter-a")
    time.sleep(1.0)
    second = stats_of(cmd(child, "stats 1"), "counter-a")
    ran, exits, ticks, mmio, reads, writes = (b - a for a, b in zip(first, second))
    assert ran >= 300 and exits > 0 and ticks > 0 and mmio > 0 and writes > 0, (first, second)
    # the echo VM took interrupts for typed input
    child.send("\x010hi\r")
    child.expect_exact("[echo] echo: hi", timeout=10)
    child.send("\x01h")
    child.expect_exact(PROMPT, timeout=10)
    out = answer(cmd(child, "stats"))
    assert re.fullmatch(r"tessera: up \d+ ms, \d+ vCPU switches, log level info", out[0]), out
    m = re.search(r"\nvm echo: running.*\n  exits: .*\n  sbi calls .*interrupts injected (\d+)",
                  "\n".join(out))
    assert m and int(m.group(1)) >= 1, out
    assert sum(l.startswith("vm ") for l in out) == 3, out
    poweroff(child)


def test_focus_switching_routes_typed_text():
    child = boot()
    child.send("\x010")
    child.expect_exact("[tessera] input now goes to vm 0 (echo)", timeout=10)
    child.send("first\r")
    child.expect_exact("[echo] echo: first", timeout=10)
    child.send("\x01h")
    child.expect_exact("[tessera] input now goes to the tessera shell", timeout=10)
    child.send("second\r")                          # to the shell, not the VM
    child.expect_exact("[tessera] shell: unknown command 'second'", timeout=10)
    child.send("\x019")
    child.expect_exact("[tessera] no vm 9; input still goes to the tessera shell", timeout=10)
    child.send("\x01?")
    child.expect_exact("[tessera] Ctrl-A then: 0-9 gives that vm the keyboard, h the "
                       "tessera shell", timeout=10)
    child.send("\x011")
    child.expect_exact("[tessera] input now goes to vm 1 (counter-a)", timeout=10)
    child.send("third\r")                           # a counter does not read it
    child.send("\x01h")
    child.expect_exact(PROMPT, timeout=10)
    child.send("focus echo\r")
    child.expect_exact("[tessera] input now goes to vm 0 (echo)", timeout=10)
    child.send("fourth\r")
    child.expect_exact("[echo] echo: fourth", timeout=10)
    child.send("\x01h")
    child.expect_exact(PROMPT, timeout=10)
    poweroff(child)
    transcript = child.logfile_read.getvalue()
    assert "echo: second" not in transcript and "echo: third" not in transcript


def test_reboot_from_the_shell():
    child = boot()
    child.send("reboot\r")
    child.expect_exact("[tessera] rebooting the machine", timeout=10)
    child.expect_exact("[tessera] Tessera 0.1: scenario 'shell'", timeout=20)
    child.expect_exact("[echo] echo: ready", timeout=20)
    child.send("\x01h")
    child.expect_exact(PROMPT, timeout=10)
    poweroff(child)


def test_fault_restart_policy_restarts_then_stops():
    r = run("fault-restart", timeout=120)
    assert r.status == 0, r.text
    assert not r.errors(), r.errors()
    hv = r.hv()
    faults = [l for l in hv if l.startswith("vm faulty: fault: 8-byte store outside its "
                                             "memory and devices at guest-physical 0x90000000")]
    assert len(faults) == 4 and all(l.endswith(": policy restart") for l in faults), hv
    for k in (1, 2, 3):
        assert f"vm faulty restarting (restart {k})" in hv
    assert "vm faulty restarting (restart 4)" not in hv
    assert hv.count("vm faulty stopped: restart limit reached") == 1
    # every boot came from the original image: 1 + 3 restarts
    assert r.vm("faulty").count("isolation: my RAM is 0x80000000-0x80400000") == 4
    assert not any("FAIL" in l for l in r.vm("faulty"))
    # the counter ran on to its end, after the last stop
    i_stop = next(i for i, l in enumerate(r.lines) if "restart limit reached" in l)
    i_done = next(i for i, l in enumerate(r.lines) if l.startswith("[counter] done"))
    assert i_done > i_stop
    assert len(progress("\n".join(r.lines), "counter")) >= 9


UBOOT = os.path.join(ROOT, "cache", "riscv64", "u-boot", "u-boot.bin")


@pytest.mark.skipif(not os.path.exists(UBOOT) and not os.environ.get("CI"),
                    reason="Debian's U-Boot not fetched (run `make images`)")
def test_focus_moves_between_the_shell_and_u_boot():
    """A guest nobody on the team wrote answers once it has the keyboard."""
    child = spawn("uboot", timeout=60, icount=None)
    child.expect_exact("[hello] hello: done", timeout=30)
    child.expect_exact("[uboot] => ", timeout=30)
    child.send("\x01h")
    child.expect_exact(PROMPT, timeout=10)
    out = answer(cmd(child, "vm list"))
    assert out[1].split()[1:3] == ["uboot", "running"], out
    assert out[2].split()[1:3] == ["hello", "stopped"], out
    child.send("version\r")                         # the shell has the keyboard
    child.expect_exact("[tessera] shell: unknown command 'version'", timeout=10)
    child.send("\x010")
    child.expect_exact("[tessera] input now goes to vm 0 (uboot)", timeout=10)
    child.send("version\r")
    child.expect(r"\[uboot\] U-Boot 2023\.01", timeout=10)
    child.expect_exact("[uboot] => ", timeout=10)
    child.send("\x01h")
    child.expect_exact(PROMPT, timeout=10)
    out = answer(cmd(child, "stats uboot"))
    m = re.search(r"device uart16550 at 0x10000000: (\d+) reads, (\d+) writes", "\n".join(out))
    assert m and int(m.group(1)) > 0 and int(m.group(2)) > 0, out
    poweroff(child)

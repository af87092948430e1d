"""The management shell and console focus on x86 (QEMU TCG, AMD SVM): the
same portable shell as on RISC-V, over the x86 host's polled COM1."""
import io
import re
import time

import pexpect

from conftest import spawn

PROMPT = "[tessera] tessera> "


def cmd(child, line, timeout=15):
    child.send(line + "\r")
    child.expect_exact(line + "\r\n", timeout=timeout)
    child.expect_exact(PROMPT, timeout=timeout)
    return [l[len("[tessera] "):] for l in child.before.replace("\r", "").split("\n")
            if l.startswith("[tessera] ")]


def test_x86_shell_list_pause_stats_poweroff():
    child = spawn("shell", timeout=90, icount=None, arch="x86_64")
    child.logfile_read = io.StringIO()
    child.expect(r"\[counter-a\] progress", timeout=60)
    child.expect(r"\[counter-b\] progress", timeout=60)
    child.send("\x01h")
    child.expect_exact("[tessera] input now goes to the tessera shell", timeout=15)
    child.expect_exact(PROMPT, timeout=15)
    time.sleep(1.5)
    out = cmd(child, "vm list")
    rows = {l.split()[1]: l.split() for l in out[1:3]}
    assert set(rows) == {"counter-a", "counter-b"}
    assert all(r[2] == "running" for r in rows.values()), out
    assert cmd(child, "vm pause counter-b")
    before = child.logfile_read.getvalue().count("[counter-b] progress")
    time.sleep(1.5)
    after = child.logfile_read.getvalue().count("[counter-b] progress")
    assert after <= before + 1, "a paused VM kept printing"
    assert any("paused" in l for l in cmd(child, "vm list"))
    cmd(child, "vm resume counter-b")
    child.expect(r"\[counter-b\] progress", timeout=30)
    stats = "\n".join(cmd(child, "stats counter-a"))
    assert re.search(r"exits: tick (\d+)", stats), stats
    assert "device uart16550 at port 0x3f8" in stats, stats
    info = cmd(child, "vm info counter-a")
    assert any(re.fullmatch(r"  vcpu 0: (running|runnable|halted), pc 0x[0-9a-f]+", l)
               for l in info), info
    # what decides whether it takes an interrupt: IF, the LAPIC, the 8259
    assert any(re.fullmatch(r"    IF [01], lapic (x2apic|xapic|off) svr 0x[0-9a-f]+ tpr 0x[0-9a-f]+ "
                            r"ppr 0x[0-9a-f]+, in service -?\d+, requested -?\d+, "
                            r"lvt timer 0x[0-9a-f]+ count \d+( running)?, 8259 INTR (up|down), "
                            r"next event (none|due|in \d+ us)", l) for l in info), info
    bad = cmd(child, "vm stop nosuchvm")
    assert len(bad) == 1 and bad[0].startswith("shell:"), bad
    child.send("poweroff\r")
    child.expect_exact("[tessera] all VMs stopped", timeout=20)
    child.expect(pexpect.EOF, timeout=30)
    child.close()
    assert child.exitstatus == 0

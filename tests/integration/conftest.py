"""Integration harness: build a scenario, boot it in QEMU through
tools/run.py, and give tests the console output split per VM.

Scenarios run with `-icount shift=0` unless a test says otherwise, so guest
time is instruction count and verdicts do not depend on host load.
"""
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field

import pexpect
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON = sys.executable
LINE_RE = re.compile(r"^\[([a-z0-9-]+)\] ?(.*)$")
_built = set()


def build(config, arch="riscv64"):
    """Build build/<arch>/<config>/tessera.elf once per test session."""
    key = (arch, config)
    if key not in _built:
        r = subprocess.run(["make", "-s", f"ARCH={arch}", f"CONFIG={config}"], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert r.returncode == 0, f"build of {config} failed:\n{r.stdout}"
        _built.add(key)
    return os.path.join(ROOT, "build", arch, config, "tessera.elf")


@dataclass
class Run:
    status: int
    text: str
    lines: list = field(default_factory=list)

    def vm(self, name):
        """The lines a VM printed, without their '[name] ' prefix."""
        out = []
        for line in self.lines:
            m = LINE_RE.match(line)
            if m and m.group(1) == name:
                out.append(m.group(2))
        return out

    def hv(self):
        return self.vm("tessera")

    def errors(self):
        return [l for l in self.hv() if l.startswith(("ERROR", "PANIC"))]


def spawn(config, timeout=60, icount=0, extra=(), arch="riscv64"):
    """Start a scenario under pexpect (for tests that type into the console)."""
    elf = build(config, arch)
    args = [os.path.join(ROOT, "tools", "run.py"), "--arch", arch, "--batch",
            "--timeout", str(timeout)]
    if icount is not None:
        args += ["--icount", str(icount)]
    args += list(extra) + [elf]
    return pexpect.spawn(PYTHON, args, cwd=ROOT, encoding="utf-8",
                         codec_errors="replace", timeout=timeout + 30)


def run(config, timeout=60, icount=0, extra=(), arch="riscv64"):
    """Boot a scenario to completion; returns its exit status and output."""
    child = spawn(config, timeout, icount, extra, arch)
    child.expect(pexpect.EOF)
    child.close()
    text = child.before.replace("\r", "")
    status = child.exitstatus if child.exitstatus is not None else -(child.signalstatus or 1)
    return Run(status, text, text.split("\n"))


@pytest.fixture
def scenario():
    return run

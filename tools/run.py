#!/usr/bin/env python3
"""Boot a Tessera image in an emulator.

Interactive (stdin is a terminal): QEMU owns the terminal, with its escape
key moved to Ctrl-] so that Ctrl-A reaches Tessera: Ctrl-] x quits QEMU,
Ctrl-A then a digit gives a VM the keyboard (see docs/operating.md).

Non-interactive: the console is streamed to stdout as it comes, stdin (if
any) is passed to the console, and the exit status says how it went:
  0   the hypervisor reported that every VM stopped and powered off cleanly
  1   the hypervisor reported an error or panic, or the emulator failed
  124 the time limit (--timeout) ran out
"""
import argparse
import os
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
import tty

OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
ALL_STOPPED = "[tessera] all VMs stopped"
ERROR_MARKERS = ("[tessera] ERROR:", "[tessera] PANIC")


QEMU = {"riscv64": "qemu-system-riscv64", "x86_64": "qemu-system-x86_64"}


def qemu_command(args):
    if args.arch == "riscv64":
        cmd = ["qemu-system-riscv64", "-M", "virt", "-m", args.memory, "-smp", "1",
               "-bios", OPENSBI, "-kernel", args.image, "-display", "none"]
        if args.cpu:
            cmd += ["-cpu", args.cpu]
    elif args.arch == "x86_64":
        # QEMU's multiboot loader takes the ELF32 copy the build makes; the
        # isa-debug-exit port lets Tessera report failure in the exit status.
        image = os.path.splitext(args.image)[0] + ".elf32"
        cmd = ["qemu-system-x86_64", "-M", "pc", "-cpu", args.cpu or "EPYC", "-m", args.memory,
               "-smp", "1", "-kernel", image, "-display", "none", "-no-reboot",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    else:
        sys.exit(f"run.py: unsupported arch {args.arch!r}")
    if args.icount is not None:
        cmd += ["-icount", f"shift={args.icount},sleep=off"]
    return cmd


def _die_with_parent():
    """In the emulator's process: get SIGKILL when run.py goes away, however
    it goes (a test harness killing it included), so no emulator is left
    running on its own."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _kill_group_on_signals(proc):
    def handler(signum, frame):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        sys.exit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, handler)


def run_interactive(cmd):
    cmd = cmd + ["-serial", "mon:stdio", "-echr", "0x1d"]
    print("[run] " + " ".join(cmd), flush=True)
    print("[run] Ctrl-A <digit>: keyboard to VM <digit>; Ctrl-] x quits QEMU; "
          "Ctrl-] c: QEMU monitor", flush=True)
    return subprocess.call(cmd)


def run_batch(cmd, timeout):
    cmd = cmd + ["-serial", "stdio", "-monitor", "none"]
    print("[run] " + " ".join(cmd), flush=True)
    stdin = subprocess.PIPE
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=_die_with_parent)
    _kill_group_on_signals(proc)
    deadline = time.monotonic() + timeout
    saw_error = saw_done = False
    pending = b""
    in_fd = sys.stdin.fileno() if sys.stdin and not sys.stdin.closed else None
    out_fd = proc.stdout.fileno()
    stdin_open = in_fd is not None
    saved_tty = None
    if stdin_open and os.isatty(in_fd):
        # Keys go to the guest as typed: no line editing, no local echo.
        saved_tty = termios.tcgetattr(in_fd)
        tty.setraw(in_fd)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                print(f"\n[run] timeout: no clean end after {timeout} s; stopping the emulator",
                      flush=True)
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return 124
            fds = [out_fd] + ([in_fd] if stdin_open else [])
            ready, _, _ = select.select(fds, [], [], min(left, 0.5))
            if in_fd in ready:
                data = os.read(in_fd, 4096)
                if not data:
                    stdin_open = False
                else:
                    try:
                        proc.stdin.write(data)
                        proc.stdin.flush()
                    except BrokenPipeError:
                        stdin_open = False
            if out_fd in ready:
                data = os.read(out_fd, 65536)
                if not data:
                    break
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
                pending += data
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    line = raw.decode("utf-8", "replace").rstrip("\r")
                    if line.startswith(ERROR_MARKERS):
                        saw_error = True
                    if line.startswith(ALL_STOPPED):
                        saw_done = True
        rc = proc.wait()
    finally:
        if saved_tty is not None:
            termios.tcsetattr(in_fd, termios.TCSADRAIN, saved_tty)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if saw_error or rc != 0:
        print(f"[run] failed: emulator exit status {rc}"
              f"{', hypervisor reported an error' if saw_error else ''}", flush=True)
        return 1
    if not saw_done:
        print("[run] failed: the emulator stopped before every VM had stopped", flush=True)
        return 1
    return 0


BOCHSRC = """\
megs: {megs}
cpu: model={cpu}, count=1, ips={ips}
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path={iso}, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev={com1}
display_library: term
log: {log}
panic: action=report
error: action=report
info: action=ignore
"""


def run_bochs(args):
    """Bochs (VMX): boot a GRUB ISO made from the image, COM1 captured to a
    file that is streamed as it grows. Bochs reports the guest's power-off
    as a 'soft power off' panic, so the verdict comes from the console."""
    import tempfile
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = tempfile.mkdtemp(prefix="tessera-bochs-")
    iso = os.path.join(work, "tessera.iso")
    elf32 = os.path.splitext(args.image)[0] + ".elf32"
    r = subprocess.run([os.path.join(root, "tools", "mkiso.sh"), elf32, iso])
    if r.returncode:
        return 1
    com1 = os.path.join(work, "com1.out")
    rc_file = os.path.join(work, "cmds")
    with open(os.path.join(work, "bochsrc"), "w") as f:
        f.write(BOCHSRC.format(megs=int(args.memory.rstrip("MG")) * (1024 if args.memory.endswith("G") else 1),
                               cpu=args.cpu or "corei7_skylake_x", ips=args.ips, iso=iso,
                               com1=com1, log=os.path.join(work, "bochs.log")))
    with open(rc_file, "w") as f:
        f.write("c\nquit\n")
    cmd = ["bochs", "-q", "-f", os.path.join(work, "bochsrc"), "-rc", rc_file]
    print("[run] " + " ".join(cmd), flush=True)
    proc = subprocess.Popen(cmd, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=_die_with_parent)
    _kill_group_on_signals(proc)
    deadline = time.monotonic() + args.timeout
    pos, pending, saw_error, saw_done = 0, b"", False, False
    try:
        while True:
            alive = proc.poll() is None
            if os.path.exists(com1):
                with open(com1, "rb") as f:
                    f.seek(pos)
                    data = f.read()
                pos += len(data)
                if data:
                    sys.stdout.buffer.write(data)
                    sys.stdout.flush()
                    pending += data
                    *lines, pending = pending.split(b"\n")
                    for raw in lines:
                        line = raw.decode("utf-8", "replace").rstrip("\r")
                        line = line[line.find("["):] if "[" in line else line
                        saw_error |= line.startswith(ERROR_MARKERS)
                        saw_done |= line.startswith(ALL_STOPPED)
            if not alive:
                break
            if time.monotonic() > deadline:
                print(f"\n[run] timeout: no clean end after {args.timeout} s; stopping Bochs",
                      flush=True)
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return 124
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    tail = pending.decode("utf-8", "replace")      # Bochs may stop before the last newline
    tail = tail[tail.find("["):] if "[" in tail else tail
    saw_error |= tail.startswith(ERROR_MARKERS)
    saw_done |= tail.startswith(ALL_STOPPED)
    print(flush=True)
    if saw_error or not saw_done:
        print("[run] failed: " + ("hypervisor reported an error" if saw_error else
                                  "Bochs stopped before every VM had stopped"), flush=True)
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image")
    ap.add_argument("--arch", default="riscv64")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--icount", type=int, default=None,
                    help="run QEMU with -icount shift=N (deterministic time)")
    ap.add_argument("--memory", default="1G")
    ap.add_argument("--cpu", default=None,
                    help="QEMU -cpu value, e.g. rv64,h=false (riscv64), EPYC (x86_64 default)")
    ap.add_argument("--gdb", action="store_true", help="start halted with a gdb stub")
    ap.add_argument("--batch", action="store_true", help="non-interactive even on a terminal")
    ap.add_argument("--emu", choices=["qemu", "bochs"], default="qemu",
                    help="bochs: x86 with VMX (Bochs 2.7), booted from a GRUB ISO")
    ap.add_argument("--ips", type=int, default=50000000, help="Bochs instructions per second")
    args = ap.parse_args()
    if args.emu == "bochs":
        if args.arch != "x86_64" or shutil.which("bochs") is None:
            sys.exit("run.py: --emu bochs needs --arch x86_64 and bochs (make deps)")
        return run_bochs(args)
    if not os.path.exists(args.image):
        sys.exit(f"run.py: no image {args.image}")
    if shutil.which(QEMU.get(args.arch, "")) is None:
        sys.exit(f"run.py: {QEMU.get(args.arch, args.arch)} not found (make deps installs it)")
    cmd = qemu_command(args)
    if args.gdb:
        cmd += ["-s", "-S"]
        print("[run] QEMU waits for gdb on localhost:1234. In another terminal:")
        print(f"[run]   gdb-multiarch {args.image} -ex 'target remote :1234'")
        return run_interactive(cmd)
    if sys.stdin.isatty() and not args.batch:
        return run_interactive(cmd)
    return run_batch(cmd, args.timeout)


if __name__ == "__main__":
    sys.exit(main())

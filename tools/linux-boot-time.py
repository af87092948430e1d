#!/usr/bin/env python3
"""Time Debian's Linux to its userland marker, booted directly by QEMU and
as a Tessera VM, in the same run on the same machine.

Both boots use the same kernel, initramfs and command line
(`console=ttyS0 earlycon=sbi`) and one hart; the clock runs from starting
the emulator to the line TESSERA-USERLAND-OK. Prints one line per boot and
the ratio of the medians (Tessera / native).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
MARKER = b"TESSERA-USERLAND-OK"


def time_to_marker(cmd, timeout):
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=ROOT)
    buf = b""
    try:
        while True:
            chunk = proc.stdout.read1(65536)
            if not chunk:
                raise RuntimeError(f"no marker from: {' '.join(cmd)}\n"
                                   + buf[-2000:].decode("utf-8", "replace"))
            buf += chunk
            if MARKER in buf:
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise RuntimeError(f"time-out after {timeout} s: {' '.join(cmd)}")
    finally:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    cache = os.path.join(ROOT, "cache", "riscv64")
    kernel = os.path.join(cache, "linux", "Image")
    initrd = os.path.join(cache, "initramfs.cpio.gz")
    if not os.path.exists(kernel):
        sys.exit("linux-boot-time: no kernel in cache/ (run `make images`)")
    r = subprocess.run(["make", "-s", "ARCH=riscv64", "CONFIG=linux"], cwd=ROOT)
    if r.returncode:
        sys.exit("linux-boot-time: building the linux scenario failed")
    native = ["qemu-system-riscv64", "-M", "virt", "-m", "1G", "-smp", "1", "-bios", OPENSBI,
              "-display", "none", "-serial", "stdio", "-monitor", "none",
              "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 earlycon=sbi"]
    tessera = [sys.executable, os.path.join(ROOT, "tools", "run.py"), "--batch",
               "--timeout", str(args.timeout), os.path.join(ROOT, "build", "riscv64", "linux",
                                                            "tessera.elf")]
    times = {"native": [], "tessera": []}
    for i in range(args.runs):
        for name, cmd in (("native", native), ("tessera", tessera)):
            t = time_to_marker(cmd, args.timeout)
            times[name].append(t)
            print(f"run {i + 1}: {name:8s} {t:6.2f} s to TESSERA-USERLAND-OK", flush=True)
    n, t = statistics.median(times["native"]), statistics.median(times["tessera"])
    print(f"median: native {n:.2f} s, tessera {t:.2f} s, ratio {t / n:.3f} "
          f"(QEMU TCG, riscv64 virt, 1 hart, wall clock)")


if __name__ == "__main__":
    main()

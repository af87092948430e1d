#!/usr/bin/env python3
"""Time Debian's Linux to its userland marker, booted directly by QEMU and
as a Tessera VM, in the same run on the same machine.

Both boots use the same kernel, initramfs and command line (riscv64:
`console=ttyS0 earlycon=sbi`; x86_64: the `linux` config's bootargs, to
which Tessera appends its `tsc_early_khz=... tsc=reliable`) and one CPU;
the clock runs from starting the emulator to the line TESSERA-USERLAND-OK.
x86_64 runs QEMU with -cpu EPYC (AMD SVM for Tessera; the native boot gets
QEMU's own PC with SeaBIOS and ACPI). Prints one line per boot and the
ratio of the medians (Tessera / native).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
import tomllib

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
    ap.add_argument("--arch", choices=("riscv64", "x86_64"), default="riscv64")
    args = ap.parse_args()
    x86 = args.arch == "x86_64"
    cache = os.path.join(ROOT, "cache", "amd64" if x86 else "riscv64")
    kernel = os.path.join(cache, "linux", "bzImage" if x86 else "Image")
    initrd = os.path.join(cache, "initramfs.cpio.gz")
    if not os.path.exists(kernel):
        sys.exit("linux-boot-time: no kernel in cache/ (run `make images`)")
    r = subprocess.run(["make", "-s", f"ARCH={args.arch}", "CONFIG=linux"], cwd=ROOT)
    if r.returncode:
        sys.exit("linux-boot-time: building the linux scenario failed")
    if x86:
        with open(os.path.join(ROOT, "configs", "x86_64", "linux.toml"), "rb") as f:
            bootargs = tomllib.load(f)["vm"][0]["bootargs"]
        native = ["qemu-system-x86_64", "-M", "pc", "-cpu", "EPYC", "-m", "256M", "-smp", "1",
                  "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
                  "-kernel", kernel, "-initrd", initrd, "-append", bootargs]
        image = os.path.join(ROOT, "build", "x86_64", "linux", "tessera.elf32")
    else:
        native = ["qemu-system-riscv64", "-M", "virt", "-m", "1G", "-smp", "1", "-bios", OPENSBI,
                  "-display", "none", "-serial", "stdio", "-monitor", "none",
                  "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 earlycon=sbi"]
        image = os.path.join(ROOT, "build", "riscv64", "linux", "tessera.elf")
    tessera = [sys.executable, os.path.join(ROOT, "tools", "run.py"), "--batch",
               "--arch", args.arch, "--timeout", str(args.timeout), image]
    times = {"native": [], "tessera": []}
    for i in range(args.runs):
        for name, cmd in (("native", native), ("tessera", tessera)):
            t = time_to_marker(cmd, args.timeout)
            times[name].append(t)
            print(f"run {i + 1}: {name:8s} {t:6.2f} s to TESSERA-USERLAND-OK", flush=True)
    n, t = statistics.median(times["native"]), statistics.median(times["tessera"])
    print(f"median: native {n:.2f} s, tessera {t:.2f} s, ratio {t / n:.3f} "
          f"(QEMU TCG, {'x86_64 pc -cpu EPYC, Tessera on AMD SVM' if x86 else 'riscv64 virt'}, "
          f"1 CPU, wall clock)")


if __name__ == "__main__":
    main()

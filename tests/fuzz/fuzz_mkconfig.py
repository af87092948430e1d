#!/usr/bin/env python3
"""Fuzz the config tool's validator (tools/mkconfig.py), issue 8.

Mutates the scenario files in configs/riscv64/ (text-level: byte flips,
deleted/duplicated/swapped lines, numbers replaced by edge values, keys and
values spliced in from other files; table-level: keys dropped or added,
values swapped for other types) and runs the tool on each. The contract
(docs/config.md): exit status 0, or 1 with exactly one line on stderr of the
form "<file>: <key path>: <reason>"; never a traceback, never another status.

The tool runs in-process (main(argv), a fresh import per failure-free
batch is not needed: it keeps no state between calls), which makes a run of
a few hundred iterations take seconds. Deterministic for a given --seed.
Failing inputs are written to $BUILD/fuzz/mkconfig-failures/ and the loop
stops at the first one with a non-zero exit.

    python3 tests/fuzz/fuzz_mkconfig.py --iterations 400 --seed 8
"""
import argparse
import contextlib
import importlib.util
import io
import os
import random
import re
import shutil
import sys
import tempfile
import traceback

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOL = os.path.join(ROOT, "tools", "mkconfig.py")
GUESTS = ["hello", "counter", "isolation", "sbi-check", "timer", "echo", "fpcheck",
          "chaos", "prober", "victim"]
ERROR_LINE = re.compile(r"^\S.*: \S.*: .+$")

EDGE_NUMBERS = ["0", "-1", "1", "0x0", "0xFFFFFFFFFFFFFFFF", "0x10000000000000000",
                "18446744073709551616", "4096", "0x1000", "0x7FFFFFFF", "0x80000000",
                "0x1FFFFFFFFFF", "0x20000000000", "1e9", "1_000", "0b101", "0o17",
                "inf", "nan", '"4M"', '"0M"', '"99999999G"', '"4Q"', '""', "true", "[]",
                "{}", '"guest:../../etc/passwd"', '"guest:"', "0x0c000000", "0x10000000"]
EXTRA_LINES = ['vcpus = 9', 'vcpus = 0', 'on_fault = "explode"', 'max_restarts = -3',
               'time_slice_ms = 0', 'irq = 0', 'irq = 64', 'phys = 0x88000000',
               'phys = 0', 'type = "virtio"', 'entry = 0x7ffff000', 'dtb_addr = 0x80000001',
               'file = "guest:nope"', 'initrd = 1', 'name = "UPPER"', 'name = ""',
               '[[vm]]', '[[vm.memory]]', '[[vm.device]]', '[[vm.image]]', '[tessera]',
               'bootargs = "' + "x" * 5000 + '"', 'name = "a\\u0000b"', 'base = "4M"',
               'size = 0x1001', '[vm]', 'x = 1 = 2', '"quoted key" = 1', 'a.b.c = 1']


def load_tool():
    spec = importlib.util.spec_from_file_location("mkconfig_under_fuzz", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def mutate(rng, text, others):
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(10)
        if not lines:
            lines = [""]
        i = rng.randrange(len(lines))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif op == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:
            nums = list(re.finditer(r"0x[0-9a-fA-F_]+|\b\d+\b|\"\d+[KMG]\"", lines[i]))
            if nums:
                m = rng.choice(nums)
                lines[i] = lines[i][:m.start()] + rng.choice(EDGE_NUMBERS) + lines[i][m.end():]
        elif op == 4:
            lines.insert(i, rng.choice(EXTRA_LINES))
        elif op == 5:
            other = rng.choice(others).split("\n")
            lines.insert(i, rng.choice(other))
        elif op == 6 and lines[i]:
            k = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:k] + chr(rng.choice([0x22, 0x5B, 0x5D, 0x3D, 0x23, 0x5C, 0x27,
                                                       0x7B, 0x0, 0xFF, 0x20AC, rng.randrange(32, 127)])) + lines[i][k + 1:]
        elif op == 7 and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            lines[i] = key + "= " + rng.choice(EDGE_NUMBERS)
        elif op == 8:
            lines = lines[:i]                           # truncated file
        else:
            m = re.search(r'"guest:([a-z-]+)"', lines[i])
            if m:
                lines[i] = lines[i].replace(m.group(1), rng.choice(GUESTS + ["x", "", "a/b"]))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=400)
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tool = load_tool()
    cfg_dir = os.path.join(ROOT, "configs", "riscv64")
    seeds = []
    for dirpath, _, files in os.walk(cfg_dir):
        for f in sorted(files):
            if f.endswith(".toml"):
                seeds.append(open(os.path.join(dirpath, f), encoding="utf-8").read())
    fail_dir = os.path.join(ROOT, os.environ.get("BUILD", "build"), "fuzz", "mkconfig-failures")
    counts = {0: 0, 1: 0}
    with tempfile.TemporaryDirectory() as tmp:
        guest_dir = os.path.join(tmp, "guests")
        os.mkdir(guest_dir)
        for i, g in enumerate(GUESTS):
            with open(os.path.join(guest_dir, g + ".bin"), "wb") as f:
                f.write(bytes((i * 7 + j) & 0xFF for j in range(4096)))
        for it in range(args.iterations):
            text = mutate(rng, rng.choice(seeds), seeds)
            path = os.path.join(tmp, "fuzz.toml")
            with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
                f.write(text)
            out = os.path.join(tmp, "out")
            shutil.rmtree(out, ignore_errors=True)
            err, status, tb = io.StringIO(), None, None
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                try:
                    status = tool.main(["--arch", "riscv64", "--guest-dir", guest_dir,
                                        "--out", out, path])
                except SystemExit as e:
                    status = e.code
                except BaseException:       # noqa: B902 - the point is to catch anything
                    tb = traceback.format_exc()
            lines = err.getvalue().splitlines()
            problem = None
            if tb:
                problem = "traceback:\n" + tb
            elif status not in (0, 1):
                problem = f"exit status {status!r}"
            elif status == 0 and lines:
                problem = f"exit 0 with stderr {lines!r}"
            elif status == 1 and (len(lines) != 1 or not ERROR_LINE.match(lines[0])
                                  or not lines[0].startswith(path + ": ")):
                problem = f"exit 1 with stderr {lines!r}"
            if problem:
                os.makedirs(fail_dir, exist_ok=True)
                keep = os.path.join(fail_dir, f"seed{args.seed}-it{it}.toml")
                shutil.copy(path, keep)
                print(f"fuzz mkconfig: FAIL at iteration {it} (input kept in {keep}): {problem}",
                      file=sys.stderr)
                return 1
            counts[status] += 1
    print(f"fuzz mkconfig: {args.iterations} mutated configs, seed {args.seed}: "
          f"{counts[0]} accepted, {counts[1]} rejected with one error line, 0 tracebacks")
    return 0


if __name__ == "__main__":
    sys.exit(main())

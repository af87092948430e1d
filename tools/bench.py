#!/usr/bin/env python3
"""Tessera benchmarks, measured deterministically (make bench).

Builds the bench scenarios (configs/<arch>/bench-*.toml, guest guests/bench),
boots each in QEMU under -icount shift=0 (one instruction = 1 ns, instret
and the TSC exact) for riscv64 and x86_64 SVM, and in Bochs (TSC = instruction
count) for x86_64 VMX, reads the machine-readable `BENCH ...` lines the
guests print, and
writes a table (bench/results/latest.md) and a chart of exit costs
(bench/results/exit-costs.png, gnuplot). Method and definitions:
docs/bench.md.

  tools/bench.py                  run everything, write bench/results/
  tools/bench.py --repeat 2       run everything twice, check the numbers match
  tools/bench.py --arch x86-svm   one back end (riscv64, x86-svm, x86-vmx; repeatable)
  tools/bench.py --smoke          tiny iteration counts and windows, results in
                                  build/bench/smoke/, fail unless every metric
                                  was produced (make test runs this)
  tools/bench.py trace            instruction trace of the exit paths: how many
                                  instructions each takes, by function (riscv64)
  tools/bench.py trace-x86        the same for x86 SVM (QEMU, a few minutes)
  tools/bench.py selftest         the harness's own checks on synthetic data

The benchmark never fails because a number misses its target; it fails
(exit status 1, with the reason) when a build or a run breaks, a guest
reports `BENCH error`, or a metric line is missing.
"""
import argparse
import bisect
import collections
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PYTHON = sys.executable
OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"

METRIC_RE = re.compile(r"BENCH metric=(\S+) iters=(\d+) min=(\d+) mean=([\d.]+) max=(\d+) unit=instr")
WORK_RE = re.compile(r"BENCH work iters=(\d+) total=(\d+)")
CLOCK_RE = re.compile(r"BENCH clock instr_per_tick=(\d+) drift=(-?\d+)")
SPIN_RE = re.compile(r"BENCH spin from=(\d+) until=(\d+) start=(\d+) end=(\d+) gaps=(\d+) "
                     r"own_sparse=(\d+) own_dense=(\d+)")
GAP_RE = re.compile(r"BENCH gap last=(\d+) first=(\d+) dense=([01])")
DONE_RE = re.compile(r"BENCH done errors=(\d+)")
START_RE = re.compile(r"BENCH start tsc=(\d+) slice_ticks=(\d+)")
PREFIX_RE = re.compile(r"^\[([a-z0-9-]+)\] ?(.*)$")


class BenchError(Exception):
    pass


# ------------------------------------------------------------------ running

def run_cmd(cmd, timeout, what):
    try:
        r = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what}: no result after {timeout} s")
    except FileNotFoundError as e:
        raise BenchError(f"{what}: {e}")
    out = r.stdout.decode("utf-8", "replace").replace("\r", "")
    if r.returncode != 0:
        tail = "\n".join(out.rstrip().split("\n")[-25:])
        raise BenchError(f"{what}: exit status {r.returncode}\n{tail}")
    return out


class Output:
    """The BENCH lines of one run, per VM ('' for a bare-metal run)."""

    def __init__(self, scenario, text, prefixed):
        self.scenario = scenario
        self.text = text
        self.vms = collections.OrderedDict()
        for line in text.split("\n"):
            vm, body = "", line.strip()
            if prefixed:
                m = PREFIX_RE.match(line)
                if not m:
                    continue
                vm, body = m.group(1), m.group(2)
                if vm == "tessera":
                    continue
            if body.startswith("BENCH "):
                self.vms.setdefault(vm, []).append(body)
        errors = [f"[{vm}] {b}" for vm, bodies in self.vms.items() for b in bodies
                  if b.startswith("BENCH error")]
        if errors:
            raise BenchError(f"{scenario}: the guest reported:\n  " + "\n  ".join(errors))
        if not self.vms:
            raise BenchError(f"{scenario}: no BENCH lines in the output")
        for vm, bodies in self.vms.items():
            if not any(DONE_RE.match(b) for b in bodies):
                raise BenchError(f"{scenario}: {vm or 'the guest'} never printed 'BENCH done'")

    def lines(self, vm=None):
        if vm is None:
            return [b for bodies in self.vms.values() for b in bodies]
        return self.vms.get(vm, [])

    def metric(self, name, vm=None):
        for b in self.lines(vm):
            m = METRIC_RE.match(b)
            if m and m.group(1) == name:
                return {"iters": int(m.group(2)), "min": int(m.group(3)),
                        "mean": float(m.group(4)), "max": int(m.group(5))}
        raise BenchError(f"{self.scenario}: no 'BENCH metric={name}' line")

    def match(self, regex, what, vm=None):
        for b in self.lines(vm):
            m = regex.match(b)
            if m:
                return m
        raise BenchError(f"{self.scenario}: no '{what}' line" + (f" from {vm}" if vm else ""))


# ------------------------------------------------------------------ configs

def load_toml(path):
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise BenchError(f"{os.path.relpath(path, ROOT)}: {e}")


def bootargs(cfg_path, vm=0):
    data = load_toml(cfg_path)
    args = {}
    for tok in data["vm"][vm].get("bootargs", "").split():
        k, _, v = tok.partition("=")
        args[k] = v
    return args


def derive_config(src, dst, overrides, slice_ms=None):
    """Copy a scenario file with some bootargs keys replaced (smoke runs)."""
    with open(src) as f:
        text = f.read()

    def fix(m):
        toks = m.group(1).split()
        keys = [t.partition("=")[0] for t in toks]
        out = [f"{k}={overrides[k]}" if k in overrides else t for k, t in zip(keys, toks)]
        out += [f"{k}={v}" for k, v in overrides.items() if k not in keys]
        return f'bootargs = "{" ".join(out)}"'

    text = re.sub(r'bootargs = "([^"]*)"', fix, text)
    if slice_ms is not None:
        text, n = re.subn(r"time_slice_ms = \d+", f"time_slice_ms = {slice_ms}", text)
        if n != 1:
            raise BenchError(f"{src}: expected one time_slice_ms line")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "w") as f:
        f.write(text)


# ------------------------------------------------------------------ back ends

class Row:
    """One line of the results table."""

    def __init__(self, metric, backend, value, target="", result="", chart=None):
        self.metric, self.backend, self.value = metric, backend, value
        self.target, self.result, self.chart = target, result, chart


def fmt_num(x):
    return f"{x:.2f}".rstrip("0").rstrip(".") if isinstance(x, float) else str(x)


def minmean(m):
    return f"{m['min']} / {fmt_num(m['mean'])}"


def judge(ok):
    return "pass" if ok else "**miss**"


class RiscV:
    """RISC-V H extension back end on QEMU virt (TCG), OpenSBI fw_jump."""

    arch = "riscv64"
    name = "riscv64 (H)"
    emu = "qemu"
    native_name = "riscv64 bare metal (OpenSBI 1.1)"
    configs = ("bench-exits", "bench-solo", "bench-pair", "bench-16")

    def __init__(self, args):
        self.args = args
        self.build = args.build
        self.cfg_dir = os.path.join(ROOT, "configs", self.arch)
        self.smoke_dir = os.path.join(ROOT, self.build, "bench", "smoke", "configs")

    # -- builds
    def config_path(self, cfg):
        if self.args.smoke:
            return os.path.join(self.smoke_dir, cfg + ".toml")
        return os.path.join(self.cfg_dir, cfg + ".toml")

    def make_config_arg(self, cfg):
        # The top Makefile reads configs/<arch>/$(CONFIG).toml and builds in
        # $(BUILD)/<arch>/$(CONFIG): a relative CONFIG reaches generated files.
        return os.path.relpath(self.config_path(cfg)[:-5], self.cfg_dir)

    def elf(self, cfg):
        return os.path.normpath(os.path.join(ROOT, self.build, self.arch,
                                             self.make_config_arg(cfg), "tessera.elf"))

    def prepare_smoke(self):
        src = lambda c: os.path.join(self.cfg_dir, c + ".toml")
        dst = lambda c: os.path.join(self.smoke_dir, c + ".toml")
        derive_config(src("bench-exits"), dst("bench-exits"),
                      {"iters": 2, "warm": 1, "rounds": 2})
        derive_config(src("bench-solo"), dst("bench-solo"),
                      {"work_iters": 100, "ticks_ms": 25, "slice_ms": 1}, slice_ms=1)
        for c in ("bench-pair", "bench-16"):
            derive_config(src(c), dst(c), {"from": 100_000_000, "until": 140_000_000,
                                           "slice_ms": 1, "margin_us": 50}, slice_ms=1)

    def build_all(self):
        if self.args.smoke:
            self.prepare_smoke()
        # One scenario first (it builds the guests every scenario shares),
        # then the others in parallel, each in its own directory. (Not
        # `make -j` inside one scenario: config.c and images.S come from one
        # recipe.)
        self.native_bin = os.path.join(ROOT, self.build, "bench-native", self.arch, "guests",
                                       "bench.bin")
        make = lambda cfg: ["make", "-s", f"ARCH={self.arch}", f"BUILD={self.build}",
                            f"CONFIG={self.make_config_arg(cfg)}"]
        log(f"build {self.configs[0]} (and the guests)")
        run_cmd(make(self.configs[0]), 600, f"build of {self.configs[0]}")
        jobs = [(f"build of {cfg}", make(cfg)) for cfg in self.configs[1:]]
        jobs.append(("build of the bare-metal guest (GUEST_BASE=0x80200000)",
                     ["make", "-s", "-f", "guests/guests.mk",
                      f"BUILD={os.path.join(self.build, 'bench-native')}",
                      "GUEST_BASE=0x80200000", os.path.relpath(self.native_bin, ROOT)]))
        log("build " + ", ".join(self.configs[1:]) + " and the bare-metal guest")
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.args.jobs) as pool:
            for f in [pool.submit(run_cmd, cmd, 600, what) for what, cmd in jobs]:
                f.result()

    # -- runs
    def run_tessera(self, cfg):
        log(f"run {cfg} under -icount shift=0")
        out = run_cmd([PYTHON, "tools/run.py", "--arch", self.arch, "--batch", "--icount", "0",
                       "--timeout", str(self.args.timeout), self.elf(cfg)],
                      self.args.timeout + 60, f"run of {cfg}")
        return Output(cfg, out, prefixed=True)

    def run_native(self, append):
        log("run the bench guest bare-metal under OpenSBI, -icount shift=0")
        if not os.path.exists(OPENSBI):
            raise BenchError(f"{OPENSBI} not found (make deps installs opensbi)")
        out = run_cmd(["qemu-system-riscv64", "-M", "virt", "-m", "256M", "-smp", "1",
                       "-bios", OPENSBI, "-kernel", self.native_bin, "-append", append,
                       "-display", "none", "-icount", "shift=0,sleep=off",
                       "-serial", "stdio", "-monitor", "none"],
                      self.args.timeout, "bare-metal run")
        return Output("bare-metal", out, prefixed=False)

    def run_all(self):
        """Every run; returns the raw outputs (compared by --repeat). Under
        icount the host's load cannot change a number, so the runs go in
        parallel."""
        solo = bootargs(self.config_path("bench-solo"))
        exits = bootargs(self.config_path("bench-exits"))
        append = (f"mode=exits,work tests=sbi,mmio,csr,timer iters={exits.get('iters', 1000)} "
                  f"warm={exits.get('warm', 16)} rounds={exits.get('rounds', 100)} "
                  f"work_iters={solo.get('work_iters', 30000)}")
        jobs = [(cfg, self.run_tessera, cfg) for cfg in self.configs]
        jobs.append(("bare-metal", self.run_native, append))
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.args.jobs) as pool:
            futs = [(name, pool.submit(fn, arg)) for name, fn, arg in jobs]
            return collections.OrderedDict((name, f.result()) for name, f in futs)

    # -- results
    linux_native = "QEMU -kernel"

    def linux_row(self):
        """Linux's boot to its userland marker, Tessera vs the same kernel,
        initramfs and command line booted by the same emulator (wall clock,
        median of 3, so it varies from run to run; not in the smoke run)."""
        label = "Linux boot to userland, under Tessera / bare metal (wall clock)"
        if self.args.smoke or self.emu != "qemu":
            why = "n/a (smoke run)" if self.args.smoke else \
                "n/a (Bochs has no direct kernel boot to compare with)"
            return Row(label, self.name, why, "<= 1.15", "n/a")
        got = linux_ratio(self.arch)
        if isinstance(got, str):
            return Row(label, self.name, got, "<= 1.15", "n/a")
        native, tess, ratio = got
        return Row(label, self.name, f"{ratio:.3f} ({tess:.2f} s / {native:.2f} s, "
                   f"{self.linux_native}, median of 3)", "<= 1.15", judge(ratio <= 1.15))

    def shared_rows(self, rows, fair, pair_sw, many_sw):
        """The rows every back end reports alike (fairness, scale, Linux,
        footprint), appended to rows; returns the footprint details."""
        b = self.name
        shares = ", ".join(f"{vm} {s * 100:.2f}%" for vm, s in sorted(fair.items()))
        rows.append(Row("fairness, 2 CPU-bound VMs over 1 s of virtual time", b, shares,
                        "50% +- 1% each",
                        judge(all(abs(s - 0.5) <= 0.01 for s in fair.values()))))
        scale = many_sw["mean"] / pair_sw["mean"]
        rows.append(Row("scale: vCPU switch with 16 VMs / with 2 VMs", b,
                        f"{scale:.4f} ({fmt_num(round(many_sw['mean'], 2))} / "
                        f"{fmt_num(round(pair_sw['mean'], 2))})", "<= 1.1", judge(scale <= 1.1)))
        rows.append(self.linux_row())
        fp = footprint(self.elf("bench-exits"), self.arch)
        rows.append(Row("footprint: text+rodata+data+bss without guest images", b,
                        f"{fp['total'] / 1024:.1f} KiB", "<= 96 KiB",
                        judge(fp["total"] <= 96 * 1024)))
        return fp

    def rows(self, outs):
        ex, solo, native = outs["bench-exits"], outs["bench-solo"], outs["bare-metal"]
        rows = []
        b = self.name
        clock = ex.match(CLOCK_RE, "BENCH clock")
        if int(clock.group(2)) != 0:
            raise BenchError("bench-exits: instret and time drifted apart")

        def exit_row(label, key, target, chart, basis="mean"):
            m = ex.metric(key)
            value = m[basis]
            rows.append(Row(label, b, minmean(m), f"<= {target} ({basis})",
                            judge(value <= target), chart=(chart, m[basis], target)))
            return m

        exit_row("null SBI call (BASE get_spec_version), instructions", "sbi-base", 120, CHART_CALL)
        exit_row("MMIO load, UART scratch register, instructions", "mmio-load", 200, CHART_LOAD)
        exit_row("MMIO store, UART scratch register, instructions", "mmio-store", 200, CHART_STORE)
        exit_row("emulated CSR read (hpmcounter3), instructions", "csr-hpmcounter3", 150,
                 CHART_REG)

        pair_sw, fair = self.switches(outs["bench-pair"])
        many_sw, _ = self.switches(outs["bench-16"])
        rows.append(Row("vCPU switch, 2 VMs: slice-end interrupt to next VM, instructions", b,
                        f"{pair_sw['min']} / {fmt_num(pair_sw['mean'])} ({pair_sw['n']} switches)",
                        "<= 400 (mean)", judge(pair_sw["mean"] <= 400),
                        chart=(CHART_SWITCH, pair_sw["mean"], 400)))
        for key, label, chart in (("timer-spin", "guest spinning", CHART_TSPIN),
                                  ("timer-wfi", "guest in WFI, hart idle", CHART_TIDLE)):
            exit_row(f"virtual timer latency, {label}: deadline to guest handler, instructions",
                     key, 300, chart, basis="min")

        work_hv = int(solo.match(WORK_RE, "BENCH work").group(2))
        work_bm = int(native.match(WORK_RE, "BENCH work").group(2))
        ratio = work_bm / work_hv
        rows.append(Row("CPU-bound throughput, 1 VM / bare metal (same loop)", b,
                        f"{ratio:.5f} ({work_bm} / {work_hv} instr)", ">= 0.99",
                        judge(ratio >= 0.99)))
        fp = self.shared_rows(rows, fair, pair_sw, many_sw)
        own = built_own_bytes(ex)
        img = image_copy_bytes(self.elf("bench-exits"), self.arch)
        rows.append(Row("memory per VM besides its RAM", b,
                        f"{(own + img) / 1024:.1f} KiB (allocated at build {own / 1024:.0f}: "
                        f"struct vm and the G-stage root and tables, more as lazy RAM is "
                        f"touched; + image copy {img / 1024:.0f})", "", "info"))
        tick = solo.metric("tick-exit")
        rows.append(Row("slice-end timer tick, 1 VM alone (exit and back), instructions", b,
                        minmean(tick), "", "info", chart=(CHART_TICK, tick["mean"], None)))
        nb = self.native_name
        for key, label, basis, chart in (
                ("sbi-base", "null SBI call (to OpenSBI in M-mode)", "mean", CHART_CALL),
                ("mmio-load", "MMIO load, UART scratch register", "mean", CHART_LOAD),
                ("mmio-store", "MMIO store, UART scratch register", "mean", CHART_STORE),
                ("timer-spin", "timer latency, spinning", "min", CHART_TSPIN),
                ("timer-wfi", "timer latency, WFI", "min", CHART_TIDLE)):
            m = native.metric(key)
            rows.append(Row(f"reference: {label}, instructions", nb, minmean(m), "", "ref",
                            chart=(chart, m[basis], None)))
        self.details = {"footprint": fp, "switch2": pair_sw,
                        "switch16": many_sw, "fair": fair}
        return rows

    def switches(self, out):
        """vCPU switch costs and CPU shares from the spin VMs' gap records."""
        events, runs, window = [], {}, None
        for vm in out.vms:
            s = out.match(SPIN_RE, "BENCH spin", vm)
            frm, until, start, end = (int(s.group(i)) for i in range(1, 5))
            own_sparse, own_dense = int(s.group(6)), int(s.group(7))
            window = (frm, until)
            gaps = [tuple(int(x) for x in GAP_RE.match(b).groups())
                    for b in out.lines(vm) if GAP_RE.match(b)]
            if len(gaps) != int(s.group(5)):
                raise BenchError(f"{out.scenario}: {vm} announced {s.group(5)} gaps, "
                                 f"printed {len(gaps)}")
            # This VM's runs: up to the first gap's read before, between gaps,
            # after the last one (reads; within one loop chunk of the truth).
            bounds = [start] + [x for g in gaps for x in (g[0], g[1])] + [end]
            runs[vm] = list(zip(bounds[0::2], bounds[1::2]))
            for last, first, dense in gaps:
                events.append((last, 0, vm, dense))
                events.append((first, 1, vm, dense))
        events.sort()
        pairs = []
        if self.shared_clock:
            for a, c in zip(events, events[1:]):
                # a VM's last read before its gap, then another VM's first
                # read after its own: a switch, if both were in the dense loop
                if a[1] == 0 and c[1] == 1 and a[2] != c[2] and a[3] and c[3]:
                    pairs.append((c[0] - a[0] - own_dense, a[2], c[2]))
        else:
            # Per-VM clocks, apart by far less than a slice but maybe by
            # more than a switch: the switch from A's last read goes to the
            # other VM whose first read after a gap is nearest to it.
            # "Nearest" within a tenth of the typical distance between
            # resumptions (a slice): at the window's edges the true
            # successor's read may not have been recorded.
            # The clocks are first placed roughly (shift) from when each VM
            # first ran, then the nearest within half a slice is taken (the
            # rough placement ignores the switches before each VM's first
            # run: with 1 ms slices under Bochs, 15 of them add up to more
            # than a quarter slice; resumptions are a slice apart).
            shift = self.clock_shifts(out)
            firsts = sorted((e[0] + shift[e[2]],) + e[1:] for e in events if e[1] == 1)
            keys = [e[0] for e in firsts]
            spacing = sorted(y - x for x, y in zip(keys, keys[1:]))
            limit = spacing[len(spacing) // 2] / 4 if spacing else 0
            # short gaps inside a slice (host interrupts, e.g. the console
            # draining) crowd the spacing: half a slice is the bound
            slices = [int(m.group(2)) for vm in out.vms for m in
                      (START_RE.match(b) for b in out.lines(vm)) if m]
            if slices:
                limit = max(limit, min(slices) / 2)
            for a in events:
                if a[1] != 0:
                    continue
                at = a[0] + shift[a[2]]
                i = bisect.bisect_left(keys, at)
                near = [c for c in firsts[max(0, i - len(out.vms)):i + len(out.vms)]
                        if c[2] != a[2]]
                if not near:
                    continue
                c = min(near, key=lambda c: abs(c[0] - at))
                if a[3] and c[3] and abs(c[0] - at) < limit:
                    raw = c[0] - shift[c[2]] - a[0]
                    pairs.append((raw - own_dense, a[2], c[2]))
        if len(pairs) < (3 if self.args.smoke else 20):
            raise BenchError(f"{out.scenario}: only {len(pairs)} vCPU switches measured")
        if self.shared_clock:
            costs = [c for c, _, _ in pairs]
            stats = {"n": len(costs), "min": min(costs), "mean": sum(costs) / len(costs),
                     "max": max(costs)}
        else:
            stats = self.cancel_offsets(out.scenario, pairs, list(out.vms))
        frm, until = window
        shares = collections.OrderedDict()
        for vm, rs in runs.items():
            own = sum(max(0, min(e, until) - max(s, frm)) for s, e in rs)
            shares[vm] = own / (until - frm)
        return stats, shares


    shared_clock = True         # every VM reads the same instret/time

    def clock_shifts(self, out):
        """Rough per-VM clock offsets (add to a VM's reads to get the first
        VM's clock). The VMs start queued in config order, so VM k first
        runs about k slices after VM 0: its clock then read tsc_k, VM 0's
        about tsc_0 + k * slice. Good to a few switches per VM, less than
        the half slice the matching allows; exactness comes from the
        cycles (cancel_offsets)."""
        starts = {}
        for vm in out.vms:
            m = [START_RE.match(b) for b in out.lines(vm)]
            m = [x for x in m if x]
            if m:
                starts[vm] = (int(m[0].group(1)), int(m[0].group(2)))
        if len(starts) != len(out.vms):
            return {vm: 0 for vm in out.vms}
        path = self.config_path(out.scenario)
        names = [v["name"] for v in load_toml(path)["vm"]]
        t0, sl = starts[names[0]]
        return {vm: t0 + names.index(vm) * sl - starts[vm][0] for vm in out.vms}

    @staticmethod
    def cancel_offsets(scenario, pairs, vms):
        """Switch costs when each VM reads its own clock (x86: the guest TSC
        is the host's plus a per-VM offset, fixed when the VM was built, so
        VM B's read minus VM A's read is the switch plus off(B) - off(A)).
        Around a cycle of switches (round robin: each VM is switched away
        from once and to once) the offsets cancel: the mean of the per-
        direction means is exact. min (max) is the mean of the per-direction
        minima (maxima): the cheapest (dearest) switch, if the cheapest
        (dearest) of every direction cost the same."""
        by = collections.OrderedDict()
        for c, a, b in pairs:
            by.setdefault((a, b), []).append(c)
        srcs = collections.Counter(a for a, _ in by)
        dsts = collections.Counter(b for _, b in by)
        if set(srcs) != set(vms) or set(dsts) != set(vms) or \
                any(n != 1 for n in list(srcs.values()) + list(dsts.values())):
            raise BenchError(f"{scenario}: the measured switches ({sorted(by)}) do not form "
                             f"a round-robin cycle of every VM, so the per-VM TSC offsets "
                             f"cannot be cancelled")
        k = len(by)
        return {"n": len(pairs), "min": sum(min(v) for v in by.values()) / k,
                "mean": sum(sum(v) / len(v) for v in by.values()) / k,
                "max": sum(max(v) for v in by.values()) / k}


LINUX_RATIO_RE = re.compile(r"median: native ([\d.]+) s, tessera ([\d.]+) s, ratio ([\d.]+)")


def linux_ratio(arch):
    """tools/linux-boot-time.py in one go: (native s, tessera s, ratio) or
    a reason it was not measured."""
    kernel = os.path.join(ROOT, "cache", "amd64" if arch == "x86_64" else "riscv64", "linux",
                          "bzImage" if arch == "x86_64" else "Image")
    if not os.path.exists(kernel):
        return "n/a (no Debian kernel in cache/: make images)"
    try:
        r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "linux-boot-time.py"),
                            "--arch", arch, "--runs", "3"], cwd=ROOT, capture_output=True,
                           text=True, timeout=1200)
    except subprocess.TimeoutExpired:
        raise BenchError(f"linux-boot-time.py --arch {arch}: time-out")
    m = LINUX_RATIO_RE.search(r.stdout)
    if r.returncode or not m:
        raise BenchError(f"linux-boot-time.py --arch {arch} failed:\n{r.stdout[-1500:]}"
                         f"{r.stderr[-1500:]}")
    return float(m.group(1)), float(m.group(2)), float(m.group(3))


class X86(RiscV):
    """x86_64: one binary, SVM or VMX picked at boot. SVM runs in QEMU
    (-cpu EPYC, TCG, -icount shift=0: the TSC is virtual nanoseconds, one
    per instruction); VMX in Bochs 2.7, whose TSC counts instructions and
    ticks at its `ips` (50 MHz here), so the spin windows (TSC values) are
    scaled to it. Each VM's TSC starts at 0 when the VM is built."""

    arch = "x86_64"
    shared_clock = False
    key, name, emu, tsc_scale = "svm", "x86_64 (SVM, QEMU)", "qemu", 1.0
    margin_us = 50

    def __init__(self, args):
        super().__init__(args)
        self.smoke_dir = os.path.join(ROOT, self.build, "bench", "smoke", self.key, "configs")
        self.derived_dir = os.path.join(ROOT, self.build, "bench", self.key, "configs")

    def config_path(self, cfg):
        if self.args.smoke:
            return os.path.join(self.smoke_dir, cfg + ".toml")
        if self.tsc_scale != 1.0:
            return os.path.join(self.derived_dir, cfg + ".toml")
        return os.path.join(self.cfg_dir, cfg + ".toml")

    def prepare(self):
        src = lambda c: os.path.join(self.cfg_dir, c + ".toml")
        sc = lambda x: int(x * self.tsc_scale)
        if self.args.smoke:
            dst = lambda c: os.path.join(self.smoke_dir, c + ".toml")
            derive_config(src("bench-exits"), dst("bench-exits"),
                          {"iters": 2, "warm": 1, "rounds": 2, "work_iters": 100})
            derive_config(src("bench-solo"), dst("bench-solo"),
                          {"work_iters": 100, "ticks_ms": 25, "slice_ms": 1}, slice_ms=1)
            for c in ("bench-pair", "bench-16"):
                derive_config(src(c), dst(c), {"from": sc(100_000_000), "until": sc(180_000_000),
                                               "slice_ms": 1, "margin_us": self.margin_us},
                              slice_ms=1)
        elif self.tsc_scale != 1.0:
            dst = lambda c: os.path.join(self.derived_dir, c + ".toml")
            for c in self.configs:
                ba = bootargs(src(c))
                over = {k: sc(int(ba[k])) for k in ("from", "until") if k in ba}
                if "margin_us" in ba:
                    over["margin_us"] = self.margin_us
                derive_config(src(c), dst(c), over)

    def build_all(self):
        self.prepare()
        make = lambda cfg: ["make", "-s", f"ARCH={self.arch}", f"BUILD={self.build}",
                            f"CONFIG={self.make_config_arg(cfg)}"]
        log(f"{self.name}: build {self.configs[0]} (and the guests)")
        run_cmd(make(self.configs[0]), 600, f"build of {self.configs[0]}")
        jobs = [(f"build of {cfg}", make(cfg)) for cfg in self.configs[1:]]
        log(f"{self.name}: build " + ", ".join(self.configs[1:]))
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.args.jobs) as pool:
            for f in [pool.submit(run_cmd, cmd, 600, what) for what, cmd in jobs]:
                f.result()

    def run_tessera(self, cfg):
        extra = ["--emu", "bochs"] if self.emu == "bochs" else ["--icount", "0"]
        log(f"{self.name}: run {cfg}" + (" under -icount shift=0" if self.emu == "qemu" else ""))
        out = run_cmd([PYTHON, "tools/run.py", "--arch", self.arch, "--batch"] + extra +
                      ["--timeout", str(self.args.timeout), self.elf(cfg)],
                      self.args.timeout + 60, f"{self.name}: run of {cfg}")
        if self.emu == "bochs":     # the terminal display's escapes before GRUB's menu
            out = "\n".join(l[l.find("["):] if "[" in l else l for l in out.split("\n"))
        return Output(cfg, out, prefixed=True)

    def run_all(self):
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.args.jobs) as pool:
            futs = [(cfg, pool.submit(self.run_tessera, cfg)) for cfg in self.configs]
            return collections.OrderedDict((name, f.result()) for name, f in futs)

    def rows(self, outs):
        ex, solo = outs["bench-exits"], outs["bench-solo"]
        rows = []
        b = self.name

        def exit_row(label, key, target, chart, basis="mean"):
            m = ex.metric(key)
            rows.append(Row(label, b, minmean(m), f"<= {target} ({basis})",
                            judge(m[basis] <= target), chart=(chart, m[basis], target)))

        insn = "VMMCALL" if self.key == "svm" else "VMCALL"
        exit_row(f"null hypercall ({insn}, fn 0 = VM id), instructions", "hypercall", 150,
                 CHART_CALL)
        exit_row("CPUID leaf 0, instructions", "cpuid-0", 150, "CPUID")
        exit_row("port I/O in, UART scratch register (0x3ff), instructions", "pio-in", 300,
                 CHART_LOAD)
        exit_row("port I/O out, UART scratch register (0x3ff), instructions", "pio-out", 300,
                 CHART_STORE)
        exit_row("x2APIC MSR read (rdmsr 0x803, APIC version), instructions", "msr-x2apic",
                 150, CHART_REG)
        pair_sw, fair = self.switches(outs["bench-pair"])
        many_sw, _ = self.switches(outs["bench-16"])
        rows.append(Row("vCPU switch, 2 VMs: slice-end interrupt to next VM, instructions", b,
                        f"{fmt_num(round(pair_sw['min'], 2))} / {fmt_num(pair_sw['mean'])} "
                        f"({pair_sw['n']} switches)",
                        "<= 400 (mean)", judge(pair_sw["mean"] <= 400),
                        chart=(CHART_SWITCH, pair_sw["mean"], 400)))
        for key, label, chart in (("timer-spin", "guest spinning", CHART_TSPIN),
                                  ("timer-hlt", "guest in HLT, CPU idle", CHART_TIDLE)):
            exit_row(f"LAPIC TSC-deadline timer latency, {label}: deadline to guest handler, "
                     "instructions", key, 300, chart, basis="min")
        work_hv = int(solo.match(WORK_RE, "BENCH work").group(2))
        work_ref = int(ex.match(WORK_RE, "BENCH work").group(2))
        ratio = work_ref / work_hv
        rows.append(Row("CPU-bound throughput, 1 VM with 10 ms slices / the same loop with no "
                        "exit (1 s slice)", b, f"{ratio:.5f} ({work_ref} / {work_hv} instr)",
                        ">= 0.99", judge(ratio >= 0.99)))
        fp = self.shared_rows(rows, fair, pair_sw, many_sw)
        own = built_own_bytes(outs["bench-exits"])
        img = image_copy_bytes(self.elf("bench-exits"), self.arch)
        rows.append(Row("memory per VM besides its RAM", b,
                        f"{(own + img) / 1024:.1f} KiB (allocated at build {own / 1024:.0f}: "
                        f"struct vm, {'NPT, VMCB, I/O and MSR permission maps' if self.name.startswith('x86_64 (SVM') else 'EPT, VMCS, I/O and MSR bitmaps'}, "
                        f"XSAVE area; + image copy {img / 1024:.0f})", "", "info"))
        tick = solo.metric("tick-exit")
        rows.append(Row("slice-end timer tick, 1 VM alone (exit and back), instructions", b,
                        minmean(tick), "", "info", chart=(CHART_TICK, tick["mean"], None)))
        self.details = {"footprint": fp, "switch2": pair_sw, "switch16": many_sw, "fair": fair}
        return rows


class X86Vmx(X86):
    key, name, emu, tsc_scale = "vmx", "x86_64 (VMX, Bochs)", "bochs", 0.05
    margin_us = 400             # Bochs' slices vary by more than 50 us


CHART_CALL, CHART_LOAD, CHART_STORE, CHART_REG = ("null call", "UART reg. load", "UART reg. store",
                                                  "CSR / MSR read")
CHART_SWITCH, CHART_TSPIN, CHART_TIDLE, CHART_TICK = ("vCPU switch", "timer (spin)",
                                                      "timer (idle)", "tick (1 VM)")

BACKENDS = {"riscv64": RiscV, "x86-svm": X86, "x86-vmx": X86Vmx}


# ------------------------------------------------------------------ sizes

def elf_symbols(elf, arch):
    nm = f"{arch}-linux-gnu-nm" if arch != "x86_64" else "nm"
    out = run_cmd([nm, "-S", elf], 60, "nm")
    syms = {}
    for line in out.split("\n"):
        p = line.split()
        if len(p) == 4:
            syms[p[3]] = (int(p[0], 16), int(p[1], 16), p[2])
        elif len(p) == 3:           # an assembly label: no size
            syms[p[2]] = (int(p[0], 16), 0, p[1])
    return syms


def footprint(elf, arch):
    """text+rodata+data+bss of the hypervisor, guest images left out."""
    size = f"{arch}-linux-gnu-size" if arch != "x86_64" else "size"
    out = run_cmd([size, "-A", elf], 60, "size")
    secs = {}
    for line in out.split("\n")[2:]:
        p = line.split()
        if len(p) == 3 and p[0].startswith(".") and not p[0].startswith((".debug", ".comment")):
            secs[p[0]] = (int(p[1]), int(p[2]))
    syms = elf_symbols(elf, arch)
    images = sum(sz for n, (_, sz, _) in syms.items() if n.startswith(("tessera_img_",
                                                                           "tessera_dtb_")))
    counted = {n: v for n, v in secs.items() if "image" not in n}
    total = sum(sz for sz, _ in counted.values())
    # images linked into a counted section (older layout: .rodata.images)
    inside = sum(sz for n, (a, sz, _) in syms.items()
                 if n.startswith(("tessera_img_", "tessera_dtb_"))
                 and any(base <= a < base + s for s, base in counted.values()))
    total -= inside
    big = [(sz, n) for n, (_, sz, t) in syms.items() if t in "bBdD" and sz >= 1024]
    if "boot_stack" in syms and "boot_stack_top" in syms:
        big.append((syms["boot_stack_top"][0] - syms["boot_stack"][0], "boot_stack"))
    big.sort(reverse=True)
    return {"total": total, "sections": {n: sz for n, (sz, _) in counted.items()},
            "images": images, "big": big}


def nm_sorted(elf, nm="riscv64-linux-gnu-nm"):
    """(address, name) of every text symbol, assembly labels included."""
    out = run_cmd([nm, "-n", elf], 60, "nm")
    syms = []
    for line in out.split("\n"):
        p = line.split()
        if len(p) == 3 and p[1] in "tTwW" and not p[2].startswith((".L", "$")):
            syms.append((int(p[0], 16), p[2]))
    return syms


def text_range(elf):
    out = run_cmd(["riscv64-linux-gnu-size", "-A", elf], 60, "size")
    for line in out.split("\n"):
        p = line.split()
        if len(p) == 3 and p[0] == ".text":
            return int(p[2]), int(p[2]) + int(p[1])
    raise BenchError(f"{elf}: no .text section")


BUILT_RE = re.compile(r"\[tessera\] (\d+) VM\(s\) built: (\d+) KiB of guest RAM, "
                      r"(\d+) KiB of Tessera's own")


def built_own_bytes(out):
    """Tessera's own allocations per VM at build, from its boot line."""
    m = BUILT_RE.search(out.text)
    if not m:
        raise BenchError(f"{out.scenario}: no 'VM(s) built' line in the output")
    return int(m.group(3)) * 1024 // int(m.group(1))


def image_copy_bytes(elf, arch):
    """The VM's images and device tree, kept in Tessera's image for restarts."""
    syms = elf_symbols(elf, arch)
    return sum((sz + 4095) // 4096 * 4096 for n, (_, sz, _) in syms.items()
               if n.startswith("tessera_img_0_") or n == "tessera_dtb_0")


# ------------------------------------------------------------------ output

def log(msg):
    print(f"[bench] {msg}", flush=True)


def git_rev():
    try:
        r = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        return r.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def qemu_version():
    try:
        r = subprocess.run(["qemu-system-riscv64", "--version"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        return r.stdout.split("\n")[0].replace("QEMU emulator version ", "")
    except OSError:
        return "unknown"


def bochs_version():
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "bochs"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        return "Bochs " + (r.stdout.strip() or "unknown")
    except OSError:
        return "Bochs unknown"


def table(rows):
    head = ["metric", "back end", "value (min / mean)", "target", "result"]
    body = [[r.metric, r.backend, r.value, r.target, r.result] for r in rows]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
    return "\n".join(out)


def write_markdown(path, rows, backends, repeat_note, label=None):
    lines = ["# Tessera benchmark results", "",
             "Written by `make bench` (tools/bench.py); method and definitions: "
             "docs/bench.md. riscv64 and x86_64 SVM run under QEMU `-icount shift=0`, "
             "x86_64 VMX under Bochs (whose TSC counts instructions), so the numbers are "
             "instruction counts and repeat exactly.", "",
             f"Tree: {label or '`' + git_rev() + '`'}; QEMU {qemu_version()}"
             f"{'; ' + bochs_version() if any(b.arch == 'x86_64' for b in backends) else ''}.",
             "",
             table(rows), ""]
    lines += ["Notes:", "",
              "- Exit costs count every instruction the hart executes from the guest's "
              "trapping instruction to the next guest instruction (hypervisor and "
              "firmware).",
              "- vCPU switch: one VM's last instret read before the slice-end interrupt "
              "to the next VM's first read after it, less the 3-instruction read loop; "
              "each sample is +-2 (where in the loop each VM was stopped), the mean is "
              "exact to a fraction.",
              "- Timer latency: from the instruction that first sees time >= deadline to "
              "the handler's first instruction. QEMU fires its timer 0-99 instructions "
              "after the tick edge, by the phase at which the compare register was "
              "written; the rounds cover every phase once, so min is the hypervisor's "
              "path and mean adds 49.5 (bare metal: 0 / 49.5).",
              "- Targets marked (min) are judged on the minimum, the others on the mean.",
              "- x86: exit costs are `rdtsc` deltas less the empty sequence and the "
              "sequence's own setup moves (the TSC is one tick per instruction under QEMU "
              "icount and in Bochs). Each VM's TSC starts at 0 when it is built, so switch "
              "costs come from whole round-robin cycles, where the per-VM offsets cancel: "
              "the mean is exact, min/max are the means of each direction's min/max. The "
              "timer is the x2APIC in TSC-deadline mode; deadlines are spread over 100 "
              "phases. Throughput compares the loop in the 10 ms-slice VM with the same "
              "loop in the exits VM (1 s slice, no exit during it). The VMX spin windows "
              "(from/until) are the SVM ones scaled to Bochs' 50 MHz TSC (its `ips`)."]
    for be in backends:
        d = getattr(be, "details", None)
        if not d:
            continue
        fp = d["footprint"]
        secs = ", ".join(f"{n} {sz}" for n, sz in fp["sections"].items())
        big = ", ".join(f"{n} {sz}" for sz, n in fp["big"][:4])
        lines.append(f"- {be.name} footprint, bytes: {secs}; largest objects: {big}.")
    if repeat_note:
        lines.append(f"- {repeat_note}")
    lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


def write_chart(png, rows, workdir):
    if shutil.which("gnuplot") is None:
        raise BenchError("gnuplot not found (make deps installs gnuplot-nox)")
    data = collections.OrderedDict()       # label -> {backend: value}
    targets, backends = {}, []
    for r in rows:
        if not r.chart:
            continue
        label, value, target = r.chart
        data.setdefault(label, {})[r.backend] = value
        if target is not None:
            targets[label] = target
        if r.backend not in backends:
            backends.append(r.backend)
    os.makedirs(workdir, exist_ok=True)
    dat = os.path.join(workdir, "exit-costs.dat")
    with open(dat, "w") as f:
        f.write("label " + " ".join(f'"{b}"' for b in backends) + ' "target"\n')
        for label, vals in data.items():
            cells = [fmt_num(round(vals.get(b, 0), 2)) if b in vals else "-" for b in backends]
            cells.append(str(targets.get(label, "-")))
            f.write(f'"{label}" ' + " ".join(cells) + "\n")
    ncol = len(backends) + 1
    gp = os.path.join(workdir, "exit-costs.gp")
    with open(gp, "w") as f:
        f.write(f"""set terminal pngcairo size 1100,560 font "sans,10" noenhanced
set output "{png}"
set title "Tessera exit costs (instructions: QEMU -icount shift=0, Bochs; timers: min)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set datafile missing "-"
set key outside bottom center horizontal
set ylabel "instructions"
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set grid ytics
set xtics rotate by -20
plot for [i=2:{ncol + 1}] "{dat}" using i:xtic(1) title columnheader(i)
""")
    run_cmd(["gnuplot", gp], 60, "gnuplot")


# ------------------------------------------------------------------ trace

TRACE_INT_RE = re.compile(r"cause:([0-9a-f]+), epc:0x([0-9a-f]+).*desc=(\S+)")
TRACE_TB_RE = re.compile(r"^Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/")


def trace(args):
    """Single-step QEMU with an instruction log of the hypervisor's text only
    and count, for each kind of exit, the instructions between the trap and
    the next trap (the guest's own instructions are filtered out)."""
    be = RiscV(args)
    cfgdir = os.path.join(ROOT, args.build, "bench", "trace", "configs")
    be.smoke_dir = cfgdir
    args.smoke = True
    src = lambda c: os.path.join(be.cfg_dir, c + ".toml")
    derive_config(src("bench-exits"), os.path.join(cfgdir, "bench-exits.toml"),
                  {"iters": 3, "warm": 2, "rounds": 100})
    derive_config(src("bench-pair"), os.path.join(cfgdir, "bench-pair.toml"),
                  {"from": 60_000_000, "until": 70_000_000, "slice_ms": 1}, slice_ms=1)
    report = []
    run_cmd(["make", "-s", f"BUILD={args.build}",
             os.path.join(args.build, "riscv64", "guests", "bench.elf")], 600,
            "build of the bench guest")
    gsyms = nm_sorted(os.path.join(ROOT, args.build, "riscv64", "guests", "bench.elf"))
    gaddrs = [a for a, _ in gsyms]
    for cfg in ("bench-exits", "bench-pair"):
        run_cmd(["make", "-s", f"BUILD={args.build}", f"CONFIG={be.make_config_arg(cfg)}"],
                600, f"build of {cfg}")
        elf = be.elf(cfg)
        syms = nm_sorted(elf)
        text_end = text_range(elf)[1]
        addrs = [a for a, _ in syms]
        log(f"trace {cfg} (single-stepped QEMU, hypervisor text only)")
        fifo = os.path.join(ROOT, args.build, "bench", "trace", cfg + ".fifo")
        if os.path.exists(fifo):
            os.unlink(fifo)
        os.mkfifo(fifo)
        cmd = ["qemu-system-riscv64", "-M", "virt", "-m", "256M", "-smp", "1", "-bios", OPENSBI,
               "-kernel", elf, "-display", "none", "-icount", "shift=0,sleep=off",
               "-serial", "null", "-monitor", "none", "-singlestep",
               "-d", "exec,nochain,int", "-dfilter", f"0x80200000..0x{text_end:x}", "-D", fifo]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        timer = threading.Timer(args.timeout, proc.kill)
        timer.start()
        exits = []             # [kind, epc, [pcs]]
        cur = None
        try:
            with open(fifo) as f:
                for line in f:
                    m = TRACE_TB_RE.match(line)
                    if m:
                        if cur is not None:
                            cur[2].append(int(m.group(1), 16))
                        continue
                    m = TRACE_INT_RE.search(line)
                    if m:
                        cur = [m.group(3), int(m.group(2), 16), []]
                        exits.append(cur)
        finally:
            timer.cancel()
            proc.wait()
            os.unlink(fifo)
        # Group the exits by kind and by the guest function they came from;
        # keep the bench guest's measured sequences (loops.S).
        groups = collections.OrderedDict()
        for e in exits:
            if e[1] >= 0x80200000:
                continue
            i = bisect.bisect_right(gaddrs, e[1]) - 1
            gfn = gsyms[i][1] if i >= 0 else "?"
            if gfn.startswith("bench_"):
                groups.setdefault((e[0], gfn), []).append(e)
        for (kind, gfn), es in groups.items():
            counts = collections.Counter(len(e[2]) for e in es)
            common, n = counts.most_common(1)[0]
            sample = next(e for e in reversed(es) if len(e[2]) == common)
            per = collections.OrderedDict()
            for pc in sample[2]:
                i = bisect.bisect_right(addrs, pc) - 1
                fn = syms[i][1] if i >= 0 else "?"
                per[fn] = per.get(fn, 0) + 1
            others = ", ".join(f"{c} x{k}" for c, k in sorted(counts.items()) if c != common)
            report.append(f"{cfg}: {kind} in guest {gfn}: {common} hypervisor instructions "
                          f"({n} of {len(es)}{'; also ' + others if others else ''})")
            report += [f"    {c:5d}  {fn}" for fn, c in per.items()]
    print("\n".join(report))
    return 0


X86_TRACE_TB_RE = re.compile(r"^Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/([0-9a-f]+)/")
HF_GUEST = 1 << 21          # QEMU x86 hflags: in an SVM guest


def trace_x86(args):
    """x86 SVM: single-step QEMU, log every instruction (guest and
    hypervisor share addresses around 1 MiB, so no address filter: guest
    instructions are told apart by hflags bit 21), and count the hypervisor
    instructions between a bench guest's trapping instruction and the next
    guest instruction, by function."""
    be = X86(args)
    cfgdir = os.path.join(ROOT, args.build, "bench", "trace-x86", "configs")
    be.smoke_dir = cfgdir
    args.smoke = True
    derive_config(os.path.join(be.cfg_dir, "bench-exits.toml"),
                  os.path.join(cfgdir, "bench-exits.toml"),
                  {"mode": "exits", "tests": "hc,cpuid,pio,msr,timer", "iters": 3, "warm": 2,
                   "rounds": 3})
    run_cmd(["make", "-s", "ARCH=x86_64", f"BUILD={args.build}",
             f"CONFIG={be.make_config_arg('bench-exits')}"], 600, "build of bench-exits")
    elf = be.elf("bench-exits")
    hsyms = [(a, n) for a, n in nm_sorted(elf, "nm")]
    haddrs = [a for a, _ in hsyms]
    gsyms = nm_sorted(os.path.join(ROOT, args.build, "x86_64", "guests", "bench.elf"), "nm")
    gaddrs = [a for a, _ in gsyms]
    fifo = os.path.join(ROOT, args.build, "bench", "trace-x86", "exec.fifo")
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo)
    log("trace bench-exits (single-stepped QEMU, every instruction: a few minutes)")
    cmd = ["qemu-system-x86_64", "-M", "pc", "-cpu", "EPYC", "-m", "1G", "-smp", "1",
           "-kernel", elf + "32", "-display", "none", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-icount", "shift=0,sleep=off", "-serial", "null", "-monitor", "none",
           "-singlestep", "-d", "exec,nochain", "-D", fifo]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    timer = threading.Timer(args.timeout, proc.kill)
    timer.start()
    segs = collections.OrderedDict()        # (guest fn, guest pc) -> [[host pcs]]
    cur, last_guest = None, None
    try:
        with open(fifo, errors="replace") as f:
            for line in f:
                m = X86_TRACE_TB_RE.match(line)
                if not m:
                    continue
                pc, flags = int(m.group(1), 16), int(m.group(2), 16)
                if flags & HF_GUEST:
                    if cur is not None:
                        segs.setdefault(cur[0], []).append(cur[1])
                        cur = None
                    last_guest = pc
                    continue
                if cur is None:
                    if last_guest is None:
                        continue
                    i = bisect.bisect_right(gaddrs, last_guest) - 1
                    fn = gsyms[i][1] if i >= 0 else "?"
                    if not fn.startswith("bench_") or fn in ("bench_spin", "bench_empty"):
                        last_guest = None
                        continue
                    cur = [(fn, last_guest), []]
                cur[1].append(pc)
    finally:
        timer.cancel()
        proc.wait()
        os.unlink(fifo)
    report = []
    for (gfn, gpc), ls in segs.items():
        counts = collections.Counter(len(x) for x in ls)
        common, n = counts.most_common(1)[0]
        sample = next(x for x in reversed(ls) if len(x) == common)
        per = collections.Counter()
        for pc in sample:
            i = bisect.bisect_right(haddrs, pc) - 1
            per[hsyms[i][1] if i >= 0 else "?"] += 1
        others = ", ".join(f"{c} x{k}" for c, k in sorted(counts.items()) if c != common)
        report.append(f"guest {gfn} at 0x{gpc:x}: {common} hypervisor instructions "
                      f"({n} of {len(ls)}{'; also ' + others if others else ''})")
        report += [f"    {c:5d}  {fn}" for fn, c in per.most_common()]
    print("\n".join(report))
    return 0


# ------------------------------------------------------------------ selftest

def selftest(args):
    """Checks of the harness itself on synthetic data (run by make test)."""
    import tempfile

    fails = []

    def check(what, ok):
        if not ok:
            fails.append(what)

    # Output: metrics, errors, missing lines
    good = ("[tessera] hi\n[vm] BENCH metric=sbi-base iters=3 min=7 mean=7.50 max=8 "
            "unit=instr\n[vm] BENCH done errors=0\n")
    o = Output("t", good, prefixed=True)
    check("metric parsed", o.metric("sbi-base") == {"iters": 3, "min": 7, "mean": 7.5,
                                                    "max": 8})
    for bad, why in ((good + "[vm] BENCH error boom\n", "BENCH error"),
                     (good.replace("[vm] BENCH done errors=0\n", ""), "no done line"),
                     ("[tessera] nothing\n", "no BENCH lines")):
        try:
            Output("t", bad, prefixed=True)
            check(f"Output rejects {why}", False)
        except BenchError:
            pass
    try:
        o.metric("mmio-load")
        check("a missing metric raises", False)
    except BenchError:
        pass

    # switches(): simulate two VMs in bench_spin's dense loop (a read every
    # 3 instructions), switched every `slice` instructions at a cost of H,
    # each VM's reads shifted by its clock's offset.
    def simulate(H, slice_len, offs):
        pos, reads = {"a": 0, "b": 1}, {"a": [], "b": []}
        t, cur = 0, "a"
        for _ in range(40):
            for _ in range(slice_len):
                if pos[cur] % 3 == 0:
                    reads[cur].append(t + offs[cur])
                pos[cur] += 1
                t += 1
            t += H
            cur = "b" if cur == "a" else "a"
        text = []
        for vm, rs in reads.items():
            gaps = [(x, y) for x, y in zip(rs, rs[1:]) if y - x > 3]
            frm, until = 3 * slice_len, gaps[-1][1]
            kept = [g for g in gaps if g[1] >= frm]
            text.append(f"[{vm}] BENCH spin from={frm} until={until} start={rs[0]} "
                        f"end={rs[-1]} gaps={len(kept)} own_sparse=1006 own_dense=3")
            text += [f"[{vm}] BENCH gap last={x} first={y} dense=1" for x, y in kept]
            text.append(f"[{vm}] BENCH done errors=0")
        return Output("sim", "\n".join(text), prefixed=True)

    H, slice_len = 438, 1000
    args.smoke = True
    sw, shares = RiscV(args).switches(simulate(H, slice_len, {"a": 0, "b": 0}))
    check(f"switch cost within 2 of {H}: {sw}", H - 2 <= sw["min"] and sw["max"] <= H + 2)
    check(f"mean switch cost near {H}: {sw['mean']}", abs(sw["mean"] - H) <= 1)
    check(f"shares near 50/50: {dict(shares)}",
          all(abs(v - slice_len / (slice_len + H) / 2) < 0.02 for v in shares.values()))
    # per-VM clocks (x86: TSC offsets) further apart than a switch: the
    # offsets must cancel
    sw, shares = X86(args).switches(simulate(H, 20000, {"a": 0, "b": 1500}))
    check(f"per-VM clocks: switch cost within 2 of {H}: {sw}",
          H - 2 <= sw["min"] and sw["max"] <= H + 2 and abs(sw["mean"] - H) <= 1)

    # configs, stage-2 sizes, table
    with tempfile.TemporaryDirectory() as d:
        dst = os.path.join(d, "x.toml")
        derive_config(os.path.join(ROOT, "configs", "riscv64", "bench-pair.toml"), dst,
                      {"from": 5, "until": 9, "newkey": 1}, slice_ms=1)
        data = load_toml(dst)
        ba = data["vm"][1]["bootargs"].split()
        check("derive_config bootargs", "from=5" in ba and "until=9" in ba and "newkey=1" in ba)
        check("derive_config slice", data["tessera"]["time_slice_ms"] == 1)
    built = BUILT_RE.search("[tessera] 2 VM(s) built: 8192 KiB of guest RAM, 112 KiB of "
                            "Tessera's own (56 KiB per VM)")
    check("built line", built and built.groups() == ("2", "8192", "112"))
    check("table escapes |", "a \\| b" in table([Row("a | b", "x", "1")]))
    for f in fails:
        print(f"[bench] selftest FAILED: {f}", file=sys.stderr)
    if not fails:
        log("selftest: ok")
    return 1 if fails else 0


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", nargs="?", default="run",
                    choices=("run", "trace", "trace-x86", "selftest"))
    ap.add_argument("--arch", action="append", choices=sorted(BACKENDS),
                    help="back end(s) to measure (default: all that exist)")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny runs into build/bench/smoke; fail unless every metric is there")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run everything N times and check the numbers are identical")
    ap.add_argument("--out", default=None, help="results directory (default bench/results)")
    ap.add_argument("--build", default="build", help="build directory (default build)")
    ap.add_argument("--label", default=None,
                    help="what was measured, for the results header (default: git describe)")
    ap.add_argument("--timeout", type=int, default=600, help="per run, seconds")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="parallel builds and emulator runs (default: CPUs)")
    args = ap.parse_args()
    try:
        if args.command == "trace":
            return trace(args)
        if args.command == "trace-x86":
            return trace_x86(args)
        if args.command == "selftest":
            return selftest(args)
        out_dir = args.out or (os.path.join(args.build, "bench", "smoke") if args.smoke
                               else os.path.join("bench", "results"))
        out_dir = os.path.join(ROOT, out_dir)
        os.makedirs(out_dir, exist_ok=True)
        backends = [BACKENDS[a](args) for a in (args.arch or sorted(BACKENDS))]
        rows, notes = [], []
        for be in backends:
            be.build_all()
            first = None
            for i in range(max(1, args.repeat)):
                outs = be.run_all()
                got = {k: o.lines() for k, o in outs.items()}
                if first is None:
                    first = got
                elif got != first:
                    diff = [k for k in got if got[k] != first[k]]
                    raise BenchError(f"{be.name}: run {i + 1} differs from run 1 in "
                                     f"{', '.join(diff)}: not deterministic")
            if args.repeat > 1:
                notes.append(f"{be.name}: {args.repeat} runs gave identical BENCH output.")
            rows += be.rows(outs)
        md = os.path.join(out_dir, "latest.md")
        png = os.path.join(out_dir, "exit-costs.png")
        write_markdown(md, rows, backends, " ".join(notes), args.label)
        write_chart(png, rows, os.path.join(ROOT, args.build, "bench"))
        print()
        print(table(rows))
        print()
        for n in notes:
            print(n)
        log(f"wrote {os.path.relpath(md, ROOT)} and {os.path.relpath(png, ROOT)}")
        if args.smoke:
            missing = [r.metric for r in rows if not r.value]
            if missing:
                raise BenchError("smoke: no value for " + ", ".join(missing))
            log(f"smoke: {len(rows)} rows, every metric produced")
        return 0
    except BenchError as e:
        print(f"[bench] FAILED: {e}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())

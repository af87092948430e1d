#!/usr/bin/env python3
"""Turn a Tessera scenario TOML file into C tables and per-VM device trees.

    mkconfig.py --arch riscv64 --guest-dir build/riscv64/guests \
                --out build/riscv64/<cfg>/gen configs/riscv64/<cfg>.toml

Writes into --out: config.c (the tables of core/config.h), images.S (the
guest images and device tree blobs, .incbin'd), vm<N>.dts and vm<N>.dtb, and
deps.mk (a make rule naming every input that was read).

Every error is reported as exactly one line on stderr,
    <config path>: <key path>: <reason>
and the exit status is 1. The schema is documented in docs/config.md.
Python 3.11 standard library only; needs dtc on PATH.
"""

import argparse
import os
import re
import struct
import subprocess
import sys
import tomllib
from string import Template
from dataclasses import dataclass, field

PAGE = 0x1000
MAX_VMS = 16            # CFG_MAX_VMS
MAX_VCPUS = 8           # CFG_MAX_VCPUS
MAX_REGIONS = 4         # CFG_MAX_REGIONS
MAX_IMAGES = 4          # CFG_MAX_IMAGES
MAX_DEVICES = 8         # CFG_MAX_DEVICES
MAX_U32 = 0xFFFFFFFF

ARCHES = {
    # gpa_limit: size of the guest-physical space (G-stage input).
    # pa_limit: size of the host-physical space (for fixed `phys` placement).
    "riscv64": {"gpa_limit": 1 << 41, "gpa_what": "Sv39x4", "pa_limit": 1 << 56,
                "devices": ("uart16550", "plic"), "boot": "dtb"},
    # x86_64: 4-level nested paging (NPT/EPT); Tessera identity-maps 64 GiB of
    # host memory; guests get a boot info block (no device tree).
    "x86_64": {"gpa_limit": 1 << 48, "gpa_what": "4-level NPT/EPT", "pa_limit": 1 << 36,
               "devices": ("uart16550", "pc"), "boot": "bootinfo"},
}

POLICIES = {
    "stop": "CFG_POLICY_STOP",
    "restart": "CFG_POLICY_RESTART",
    "halt-all": "CFG_POLICY_HALT_ALL",
}

# type -> (C enum, MMIO window size)
DEVICE_TYPES = {
    "uart16550": ("CFG_DEV_UART16550", 0x100),
    "plic": ("CFG_DEV_PLIC", 0x400000),
    # the PC chipset at its fixed places: 8259 pair, 8254, CMOS/RTC, PCI
    # config ports, port 0x80, IOAPIC at 0xfec00000, a LAPIC per vCPU
    "pc": ("CFG_DEV_PC", 0),
}
UART_PORTS = 8          # a 16550 in I/O space spans 8 ports
ISA_IRQS = 16
PLIC_NDEV = 31          # interrupt sources 1..31
UART_CLOCK = 3686400
TIMEBASE = 10000000     # patched in place by the hypervisor at boot
RISCV_ISA = "rv64imafdc_zicsr_zifencei"

NAME_RE = re.compile(r"[a-z0-9-]{1,15}")
GUEST_RE = re.compile(r"[A-Za-z0-9._-]+")
SIZE_RE = re.compile(r"([0-9]+)([KMG]?)")
SIZE_SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}

TOP_KEYS = {"tessera", "vm"}
TESSERA_KEYS = {"time_slice_ms", "description"}
VM_KEYS = {"name", "vcpus", "entry", "bootargs", "dtb_addr", "on_shutdown",
           "on_reboot", "on_fault", "max_restarts", "memory", "image", "device"}
MEMORY_KEYS = {"base", "size", "phys"}
IMAGE_KEYS = {"file", "load", "initrd"}
DEVICE_KEYS = {"type", "base", "irq", "port"}

REQUIRED = object()     # marks a key without a default


class ConfigError(Exception):
    """A problem in the config: where (a key path) and why."""

    def __init__(self, key, reason):
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


@dataclass
class Region:
    path: str
    gpa: int
    size: int
    phys: int | None

    @property
    def end(self):
        return self.gpa + self.size


@dataclass
class Image:
    path: str
    spec: str           # as written in the config
    file: str           # resolved path (relative to the cwd if given so)
    size: int
    gpa: int
    initrd: bool = False

    @property
    def end(self):
        return self.gpa + self.size


@dataclass
class Device:
    path: str
    type: str
    base: int
    size: int
    irq: int
    pio: bool = False       # base/size are I/O ports


@dataclass
class Vm:
    index: int
    path: str
    name: str
    vcpus: int
    entry: int
    bootargs: str | None
    dtb_addr: int | None
    policies: dict
    max_restarts: int
    regions: list
    images: list
    devices: list
    dtb_file: str = ""
    dtb_size: int = 0
    dtb_gpa: int = 0


@dataclass
class System:
    name: str
    time_slice_us: int
    vms: list = field(default_factory=list)


# ------------------------------------------------------------- small helpers

def join(path, key):
    return f"{path}.{key}" if path else key


def hexr(start, end):
    """An address range [start, end) for messages, inclusive of the last byte."""
    return f"{start:#x}-{end - 1:#x}"


def overlaps(a_start, a_end, b_start, b_end):
    return a_start < b_end and b_start < a_end


def type_name(value):
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return "a date/time"


def check_keys(table, allowed, path):
    for key in table:
        if key not in allowed:
            raise ConfigError(join(path, key), "unknown key")


def get_int(table, key, path, default=REQUIRED, lo=0, hi=None):
    where = join(path, key)
    if key not in table:
        if default is REQUIRED:
            raise ConfigError(where, "required key is missing")
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(where, f"expected an integer, got {type_name(value)}")
    if value < lo or (hi is not None and value > hi):
        limit = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ConfigError(where, f"out of range: {value} (must be {limit})")
    return value


def get_str(table, key, path, default=REQUIRED):
    where = join(path, key)
    if key not in table:
        if default is REQUIRED:
            raise ConfigError(where, "required key is missing")
        return default
    value = table[key]
    if not isinstance(value, str):
        raise ConfigError(where, f"expected a string, got {type_name(value)}")
    if "\0" in value:
        raise ConfigError(where, "contains a NUL character")
    return value


def get_size(table, key, path):
    """Bytes: an integer, or a string of decimal digits with a K/M/G suffix."""
    where = join(path, key)
    if key not in table:
        raise ConfigError(where, "required key is missing")
    value = table[key]
    if isinstance(value, str):
        m = SIZE_RE.fullmatch(value)
        if not m:
            raise ConfigError(where, f'bad size string "{value}" '
                              '(expected digits with an optional K, M or G suffix)')
        value = int(m.group(1)) * SIZE_SUFFIX[m.group(2)]
    elif isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(where, "expected an integer or a size string, "
                          f"got {type_name(value)}")
    if value <= 0:
        raise ConfigError(where, f"must be > 0 (got {value})")
    return value


def get_policy(table, key, path, default):
    value = get_str(table, key, path, default)
    if value not in POLICIES:
        raise ConfigError(join(path, key), f'bad policy "{value}" '
                          f'(expected one of: {", ".join(POLICIES)})')
    return value


def get_tables(table, key, path, lo, hi, what):
    """An array of tables ([[key]]) with lo..hi entries."""
    where = join(path, key)
    items = table.get(key, [])
    if not isinstance(items, list) or not all(isinstance(t, dict) for t in items):
        raise ConfigError(where, "expected an array of tables ([[...]]), "
                          f"got {type_name(items)}")
    if len(items) < lo:
        raise ConfigError(where, f"at least {lo} required, found none")
    if len(items) > hi:
        raise ConfigError(where, f"{len(items)} {what}, at most {hi} allowed")
    return items


def check_aligned(value, align, where):
    if value % align:
        raise ConfigError(where, f"not {align_name(align)} aligned ({value:#x})")


def align_name(align):
    return "4 KiB" if align == PAGE else f"{align}-byte"


def region_containing(regions, start, end):
    for r in regions:
        if r.gpa <= start and end <= r.end:
            return r
    return None


# ------------------------------------------------------------------ parsing

def parse_region(t, path, arch):
    check_keys(t, MEMORY_KEYS, path)
    base = get_int(t, "base", path)
    size = get_size(t, "size", path)
    phys = get_int(t, "phys", path, default=None)
    check_aligned(base, PAGE, join(path, "base"))
    if size % PAGE:
        raise ConfigError(join(path, "size"), f"not a multiple of 4 KiB ({size:#x})")
    limit = arch["gpa_limit"]
    if base >= limit:
        raise ConfigError(join(path, "base"), f"{base:#x} is beyond the guest-physical "
                          f"limit {limit:#x} ({arch['gpa_what']})")
    if base + size > limit:
        raise ConfigError(join(path, "size"), f"region {hexr(base, base + size)} ends "
                          f"beyond the guest-physical limit {limit:#x} ({arch['gpa_what']})")
    if phys is not None:
        where = join(path, "phys")
        if phys == 0:
            raise ConfigError(where, "must not be 0 (omit phys to let Tessera place the region)")
        check_aligned(phys, PAGE, where)
        if phys + size > arch["pa_limit"]:
            raise ConfigError(where, f"host range {hexr(phys, phys + size)} is beyond "
                              f"the host-physical limit {arch['pa_limit']:#x}")
    return Region(path, base, size, phys)


def resolve_image(spec, where, ctx):
    if spec.startswith("guest:"):
        name = spec[len("guest:"):]
        if not GUEST_RE.fullmatch(name):
            raise ConfigError(where, f'bad guest name "{name}" (expected [A-Za-z0-9._-]+)')
        file = os.path.join(ctx["guest_dir"], name + ".bin")
    else:
        if not spec:
            raise ConfigError(where, "empty file name")
        file = os.path.join(ctx["config_dir"], spec)
    if not os.path.exists(file):
        raise ConfigError(where, f"no such file: {file}")
    if not os.path.isfile(file):
        raise ConfigError(where, f"not a regular file: {file}")
    size = os.path.getsize(file)
    if size == 0:
        raise ConfigError(where, f"file is empty: {file}")
    return file, size


def parse_image(t, path, ctx):
    check_keys(t, IMAGE_KEYS, path)
    spec = get_str(t, "file", path)
    load = get_int(t, "load", path)
    initrd = t.get("initrd", False)
    if not isinstance(initrd, bool):
        raise ConfigError(join(path, "initrd"), f"expected a boolean, got {type_name(initrd)}")
    file, size = resolve_image(spec, join(path, "file"), ctx)
    return Image(path, spec, file, size, load, initrd)


def parse_device(t, path, arch):
    check_keys(t, DEVICE_KEYS, path)
    kind = get_str(t, "type", path)
    if kind not in arch["devices"]:
        raise ConfigError(join(path, "type"), f'unknown device type "{kind}" '
                          f'(expected one of: {", ".join(arch["devices"])})')
    if arch["boot"] == "bootinfo":
        return parse_device_x86(t, path, kind)
    if "port" in t:
        raise ConfigError(join(path, "port"), "not used on this architecture (use base)")
    base = get_int(t, "base", path)
    size = DEVICE_TYPES[kind][1]
    check_aligned(base, PAGE, join(path, "base"))
    if base + size > arch["gpa_limit"]:
        raise ConfigError(join(path, "base"), f"window {hexr(base, base + size)} is beyond "
                          f"the guest-physical limit {arch['gpa_limit']:#x}")
    irq = 0
    if kind == "uart16550":
        irq = get_int(t, "irq", path, lo=1, hi=PLIC_NDEV)
    elif "irq" in t:
        raise ConfigError(join(path, "irq"), f"not allowed for a {kind} device")
    return Device(path, kind, base, size, irq)


def parse_device_x86(t, path, kind):
    """x86: a 16550 lives in I/O space (port, ISA irq); "pc" needs no keys."""
    if "base" in t:
        raise ConfigError(join(path, "base"), f"not used for a {kind} device on x86_64"
                          + (" (use port)" if kind == "uart16550" else ""))
    if kind == "pc":
        for k in ("port", "irq"):
            if k in t:
                raise ConfigError(join(path, k), "not allowed for the pc device (its "
                                  "devices sit at their fixed PC addresses)")
        return Device(path, kind, 0, 0, 0)
    port = get_int(t, "port", path, lo=0, hi=0xFFFF - UART_PORTS + 1)
    irq = get_int(t, "irq", path, lo=0, hi=ISA_IRQS - 1)
    return Device(path, kind, port, UART_PORTS, irq, pio=True)


def parse_vm(t, index, ctx):
    path = f"vm[{index}]"
    arch = ctx["arch"]
    check_keys(t, VM_KEYS, path)
    name = get_str(t, "name", path)
    if not NAME_RE.fullmatch(name):
        raise ConfigError(join(path, "name"), f'bad name "{name}" '
                          "(expected 1..15 characters of [a-z0-9-])")
    vm = Vm(
        index=index, path=path, name=name,
        vcpus=get_int(t, "vcpus", path, default=1, lo=1, hi=MAX_VCPUS),
        entry=get_int(t, "entry", path, default=None),
        bootargs=get_str(t, "bootargs", path, default=None),
        dtb_addr=get_int(t, "dtb_addr", path, default=None),
        policies={
            "on_shutdown": get_policy(t, "on_shutdown", path, "stop"),
            "on_reboot": get_policy(t, "on_reboot", path, "restart"),
            "on_fault": get_policy(t, "on_fault", path, "stop"),
        },
        max_restarts=get_int(t, "max_restarts", path, default=0, hi=MAX_U32),
        regions=[parse_region(r, f"{path}.memory[{i}]", arch) for i, r in
                 enumerate(get_tables(t, "memory", path, 1, MAX_REGIONS, "memory regions"))],
        images=[parse_image(m, f"{path}.image[{i}]", ctx) for i, m in
                enumerate(get_tables(t, "image", path, 0, MAX_IMAGES, "images"))],
        devices=[parse_device(d, f"{path}.device[{i}]", arch) for i, d in
                 enumerate(get_tables(t, "device", path, 0, MAX_DEVICES, "devices"))],
    )
    check_regions(vm)
    check_images(vm)
    if arch["boot"] == "bootinfo":
        check_devices_x86(vm)
    else:
        check_devices(vm)
    check_entry(vm)
    if vm.dtb_addr is not None:
        check_aligned(vm.dtb_addr, 8, join(path, "dtb_addr"))
    return vm


def check_regions(vm):
    for i, r in enumerate(vm.regions):
        for j, o in enumerate(vm.regions[:i]):
            if overlaps(r.gpa, r.end, o.gpa, o.end):
                raise ConfigError(join(r.path, "base"), f"region {hexr(r.gpa, r.end)} "
                                  f"overlaps memory[{j}] ({hexr(o.gpa, o.end)})")


def check_images(vm):
    initrds = [i for i, img in enumerate(vm.images) if img.initrd]
    if len(initrds) > 1:
        raise ConfigError(join(vm.images[initrds[1]].path, "initrd"),
                          f"only one image can be the initrd (image[{initrds[0]}] is already)")
    for i, img in enumerate(vm.images):
        where = join(img.path, "load")
        if not region_containing(vm.regions, img.gpa, img.gpa + 1):
            raise ConfigError(where, f"{img.gpa:#x} is not inside any memory region")
        if not region_containing(vm.regions, img.gpa, img.end):
            raise ConfigError(where, f"image {hexr(img.gpa, img.end)} ({img.size:#x} bytes) "
                              "does not fit inside one memory region")
        for j, o in enumerate(vm.images[:i]):
            if overlaps(img.gpa, img.end, o.gpa, o.end):
                raise ConfigError(where, f"image {hexr(img.gpa, img.end)} overlaps "
                                  f"image[{j}] ({hexr(o.gpa, o.end)})")


# I/O ports the pc device claims (first, last), for overlap checks.
PC_PORTS = [(0x20, 0x21), (0x40, 0x43), (0x61, 0x61), (0x70, 0x71), (0x80, 0x80),
            (0xA0, 0xA1), (0x4D0, 0x4D1), (0xCF8, 0xCFF)]


def check_devices_x86(vm):
    pc = None
    irqs = {}
    for i, d in enumerate(vm.devices):
        if d.type == "pc":
            if pc is not None:
                raise ConfigError(join(d.path, "type"), f"a second pc device (device[{pc}] "
                                  "is one); at most one per VM")
            pc = i
            continue
        where = join(d.path, "port")
        end = d.base + d.size - 1
        for first, last in PC_PORTS:
            if d.base <= last and first <= end:
                raise ConfigError(where, f"ports {d.base:#x}-{end:#x} overlap the PC "
                                  f"chipset's ports {first:#x}-{last:#x}")
        for j, o in enumerate(vm.devices[:i]):
            if o.pio and d.base <= o.base + o.size - 1 and o.base <= end:
                raise ConfigError(where, f"ports {d.base:#x}-{end:#x} overlap device[{j}] "
                                  f"({o.type}, ports {o.base:#x}-{o.base + o.size - 1:#x})")
        if d.irq in irqs:
            raise ConfigError(join(d.path, "irq"), f"irq {d.irq} is already used by "
                              f"device[{irqs[d.irq]}]")
        irqs[d.irq] = i
        if d.irq in (0, 2, 8):
            raise ConfigError(join(d.path, "irq"), f"irq {d.irq} belongs to the PC chipset "
                              "(PIT, cascade, RTC)")


def check_devices(vm):
    irqs = {}
    plic = None
    for i, d in enumerate(vm.devices):
        where = join(d.path, "base")
        end = d.base + d.size
        for j, r in enumerate(vm.regions):
            if overlaps(d.base, end, r.gpa, r.end):
                raise ConfigError(where, f"{d.type} window {hexr(d.base, end)} overlaps "
                                  f"memory[{j}] ({hexr(r.gpa, r.end)})")
        for j, o in enumerate(vm.devices[:i]):
            if overlaps(d.base, end, o.base, o.base + o.size):
                raise ConfigError(where, f"{d.type} window {hexr(d.base, end)} overlaps "
                                  f"device[{j}] ({o.type}, {hexr(o.base, o.base + o.size)})")
        if d.type == "plic":
            if plic is not None:
                raise ConfigError(join(d.path, "type"), f"a second plic (device[{plic}] is one); "
                                  "at most one per VM")
            plic = i
        if d.irq:
            if d.irq in irqs:
                raise ConfigError(join(d.path, "irq"), f"irq {d.irq} is already used by "
                                  f"device[{irqs[d.irq]}]")
            irqs[d.irq] = i
    if irqs and plic is None:
        first = vm.devices[min(irqs.values())]
        raise ConfigError(join(first.path, "irq"), "the VM has no plic to deliver the "
                          "interrupt (add a [[vm.device]] of type plic)")


def check_entry(vm):
    where = join(vm.path, "entry")
    if vm.entry is None:
        if not vm.images:
            raise ConfigError(where, "required when the VM has no image")
        vm.entry = vm.images[0].gpa
    if not region_containing(vm.regions, vm.entry, vm.entry + 1):
        raise ConfigError(where, f"{vm.entry:#x} is not inside any memory region")
    check_aligned(vm.entry, 2, where)


def check_phys(vms):
    """Fixed host-physical ranges must not overlap, across all VMs."""
    seen = []
    for vm in vms:
        for r in vm.regions:
            if r.phys is None:
                continue
            end = r.phys + r.size
            for other, o_vm in seen:
                if overlaps(r.phys, end, other.phys, other.phys + other.size):
                    raise ConfigError(join(r.path, "phys"), f"host range {hexr(r.phys, end)} "
                                      f"overlaps {other.path} ({o_vm.name}, "
                                      f"{hexr(other.phys, other.phys + other.size)})")
            seen.append((r, vm))


def parse_system(data, ctx):
    check_keys(data, TOP_KEYS, "")
    tessera = data.get("tessera", {})
    if not isinstance(tessera, dict):
        raise ConfigError("tessera", f"expected a table, got {type_name(tessera)}")
    check_keys(tessera, TESSERA_KEYS, "tessera")
    slice_ms = get_int(tessera, "time_slice_ms", "tessera", default=10, lo=1, hi=1000)
    get_str(tessera, "description", "tessera", default=None)
    vms = [parse_vm(t, i, ctx) for i, t in
           enumerate(get_tables(data, "vm", "", 1, MAX_VMS, "VMs"))]
    names = {}
    for vm in vms:
        if vm.name in names:
            raise ConfigError(join(vm.path, "name"), f'duplicate name "{vm.name}" '
                              f"(also vm[{names[vm.name]}])")
        names[vm.name] = vm.index
    check_phys(vms)
    return System(ctx["stem"], slice_ms * 1000, vms)


# ------------------------------------------------------------- device trees
# Templates use string.Template ($name) so that dts braces need no escaping.

DTS_ROOT = Template("""\
/dts-v1/;

/ {
    #address-cells = <2>;
    #size-cells = <2>;
    compatible = "tessera,riscv-vm";
    model = "Tessera VM $name";

    chosen {
$chosen    };
$aliases
    cpus {
        #address-cells = <1>;
        #size-cells = <0>;
        timebase-frequency = <$timebase>;    /* patched at boot: keep one cell */
$cpus    };
$memory$soc};
""")

DTS_CPU = Template("""
        cpu@$i {
            device_type = "cpu";
            reg = <$i>;
            status = "okay";
            compatible = "riscv";
            riscv,isa = "$isa";
            mmu-type = "riscv,sv39";

            cpu${i}_intc: interrupt-controller {
                #interrupt-cells = <1>;
                #address-cells = <0>;
                interrupt-controller;
                compatible = "riscv,cpu-intc";
            };
        };
""")

DTS_MEMORY = Template("""
    memory@$addr {
        device_type = "memory";
        reg = <$reg>;
    };
""")

DTS_SOC = Template("""
    soc {
        #address-cells = <2>;
        #size-cells = <2>;
        compatible = "simple-bus";
        ranges;
$devices    };
""")

DTS_PLIC = Template("""
        plic: interrupt-controller@$addr {
            compatible = "sifive,plic-1.0.0", "riscv,plic0";
            reg = <$reg>;
            interrupt-controller;
            #interrupt-cells = <1>;
            #address-cells = <0>;
            riscv,ndev = <$ndev>;
            interrupts-extended = <$contexts>;    /* context i: vCPU i, S-mode */
        };
""")

DTS_UART = Template("""
        serial@$addr {
            compatible = "ns16550a";
            reg = <$reg>;
            clock-frequency = <$clock>;
            interrupt-parent = <&plic>;
            interrupts = <$irq>;
        };
""")


def dts_string(s):
    """A double-quoted dts string literal; non-printable bytes as \\xNN."""
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c in '\\"':
            out.append("\\" + c)
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append(f"\\x{b:02x}")
    return '"' + "".join(out) + '"'


def dts_reg(base, size):
    """<base size> as two cells each (#address-cells = #size-cells = 2)."""
    return " ".join(f"{v >> 32:#x} {v & MAX_U32:#x}" for v in (base, size))


def dts_device(vm, d):
    if d.type == "plic":
        contexts = " ".join(f"&cpu{i}_intc 9" for i in range(vm.vcpus))
        return DTS_PLIC.substitute(addr=f"{d.base:x}", reg=dts_reg(d.base, d.size),
                                   ndev=PLIC_NDEV, contexts=contexts)
    return DTS_UART.substitute(addr=f"{d.base:x}", reg=dts_reg(d.base, d.size),
                               clock=UART_CLOCK, irq=d.irq)


def gen_dts(vm):
    uarts = [f"/soc/serial@{d.base:x}" for d in vm.devices if d.type == "uart16550"]
    chosen = ""
    if vm.bootargs is not None:
        chosen += f"        bootargs = {dts_string(vm.bootargs)};\n"
    if uarts:
        chosen += f'        stdout-path = "{uarts[0]}";\n'
    chosen += f'        tessera,vm-name = "{vm.name}";\n'
    for img in vm.images:
        if img.initrd:
            chosen += (f"        linux,initrd-start = <{img.gpa >> 32:#x} {img.gpa & 0xffffffff:#x}>;\n"
                       f"        linux,initrd-end = <{img.end >> 32:#x} {img.end & 0xffffffff:#x}>;\n")
    aliases = ""
    if uarts:
        aliases = "".join(f'        serial{i} = "{p}";\n' for i, p in enumerate(uarts))
        aliases = f"\n    aliases {{\n{aliases}    }};\n"
    cpus = "".join(DTS_CPU.substitute(i=i, isa=RISCV_ISA) for i in range(vm.vcpus))
    memory = "".join(DTS_MEMORY.substitute(addr=f"{r.gpa:x}", reg=dts_reg(r.gpa, r.size))
                     for r in vm.regions)
    soc = ""
    if vm.devices:
        soc = DTS_SOC.substitute(devices="".join(dts_device(vm, d) for d in vm.devices))
    return DTS_ROOT.substitute(name=vm.name, chosen=chosen, aliases=aliases,
                               timebase=TIMEBASE, cpus=cpus, memory=memory, soc=soc)


def compile_dts(vm, dts_file, dtb_file):
    cmd = ["dtc", "-I", "dts", "-O", "dtb", "-p", "512", "-o", dtb_file, dts_file]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise ConfigError(vm.path, f"cannot run dtc: {e.strerror}") from None
    if res.returncode != 0:
        msg = " / ".join(l.strip() for l in res.stderr.splitlines() if l.strip())
        raise ConfigError(vm.path, f"dtc failed on {dts_file}: {msg or 'no message'}")


def place_dtb(vm):
    """Choose (or check) dtb_gpa now that the blob's size is known."""
    where = join(vm.path, "dtb_addr")
    size = vm.dtb_size
    addr = vm.dtb_addr
    hint = ""
    if addr is None:
        r = region_containing(vm.regions, vm.entry, vm.entry + 1)
        addr = (r.end - size) & ~(PAGE - 1)
        hint = " (default placement at the top of the region holding entry; set dtb_addr)"
        if addr < r.gpa:
            raise ConfigError(where, f"device tree ({size:#x} bytes) does not fit in "
                              f"{r.path} ({hexr(r.gpa, r.end)})")
    if not region_containing(vm.regions, addr, addr + size):
        raise ConfigError(where, f"device tree {hexr(addr, addr + size)} ({size:#x} bytes) "
                          "does not lie inside one memory region")
    for i, img in enumerate(vm.images):
        if overlaps(addr, addr + size, img.gpa, img.end):
            raise ConfigError(where, f"device tree {hexr(addr, addr + size)} overlaps "
                              f"image[{i}] ({hexr(img.gpa, img.end)}){hint}")
    vm.dtb_gpa = addr


# x86 boot info (guests/rt/x86_64/bootinfo.h): what a device tree tells a
# RISC-V guest, as one little-endian struct.
BOOTINFO_MAGIC = 0x31494254     # "TBI1"
BOOTINFO_FMT = "<IIIIQQ16s256sHBBI"


def gen_bootinfo(vm):
    args = (vm.bootargs or "").encode()
    if len(args) > 255:
        raise ConfigError(join(vm.path, "bootargs"), f"{len(args)} bytes; the x86 boot "
                          "info holds at most 255")
    uart = next((d for d in vm.devices if d.type == "uart16550"), None)
    ram = vm.regions[0]
    size = struct.calcsize(BOOTINFO_FMT)
    return struct.pack(BOOTINFO_FMT, BOOTINFO_MAGIC, size, vm.vcpus, vm.index, ram.gpa,
                       ram.size, vm.name.encode(), args, uart.base if uart else 0,
                       uart.irq if uart else 0, 0, 0)


def build_bootinfos(system, out):
    for vm in system.vms:
        vm.dtb_file = os.path.join(out, f"vm{vm.index}.bootinfo")
        with open(vm.dtb_file, "wb") as f:
            f.write(gen_bootinfo(vm))
        vm.dtb_size = os.path.getsize(vm.dtb_file)
        place_dtb(vm)


def build_dtbs(system, out):
    for vm in system.vms:
        dts_file = os.path.join(out, f"vm{vm.index}.dts")
        vm.dtb_file = os.path.join(out, f"vm{vm.index}.dtb")
        write_file(dts_file, gen_dts(vm))
        compile_dts(vm, dts_file, vm.dtb_file)
        vm.dtb_size = os.path.getsize(vm.dtb_file)
        place_dtb(vm)


# ------------------------------------------------------------------ outputs

C_VM = Template("""\
    {
        .name = $name,
        .vcpus = $vcpus,
        .entry = $entry,
        .dtb = $dtb,
        .dtb_size = $dtb_size,
        .dtb_gpa = $dtb_gpa,
        .on_shutdown = $on_shutdown,
        .on_reboot = $on_reboot,
        .on_fault = $on_fault,
        .max_restarts = ${max_restarts}u,
        .regions = $regions,
        .nregions = $nregions,
        .images = $images,
        .nimages = $nimages,
        .devices = $devices,
        .ndevices = $ndevices,
    },
""")

C_SYSTEM = Template("""
const struct cfg_system tessera_config = {
    .name = $name,
    .time_slice_us = $time_slice_us,
    .vms = vms,
    .nvms = $nvms,
};
""")

ASM_BLOB = Template("""
    .balign 4096
    .global $sym
    .type $sym, @object
$sym:
    .incbin $file
    .size $sym, . - $sym
""")


def quoted(s):
    """A string literal that means the same to C and to GNU as (after cpp).
    '?' is written in octal so that no trigraph can appear."""
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c in '\\"':
            out.append("\\" + c)
        elif 0x20 <= b < 0x7F and c != "?":
            out.append(c)
        else:
            out.append(f"\\{b:03o}")
    return '"' + "".join(out) + '"'


def banner(config_path):
    return (f"/* Generated by tools/mkconfig.py from {config_path.replace('*/', '* /')}."
            " Do not edit. */\n")


def img_sym(vm, i):
    return f"tessera_img_{vm.index}_{i}"


def dtb_sym(vm):
    return f"tessera_dtb_{vm.index}"


def c_u64(value):
    return f"{value:#x}ULL"


def c_array(ctype, name, rows):
    """A static const array, or "" and NULL when there are no rows."""
    if not rows:
        return "", "NULL"
    body = "".join(f"    {{ {row} }},\n" for row in rows)
    return f"static const struct {ctype} {name}[] = {{\n{body}}};\n", name


def c_vm(vm):
    """The per-VM arrays and the VM's initializer in vms[]."""
    p = f"vm{vm.index}"
    regions, regions_ref = c_array("cfg_region", f"{p}_regions", [
        f".gpa = {c_u64(r.gpa)}, .size = {c_u64(r.size)}, .phys = {c_u64(r.phys or 0)}"
        for r in vm.regions])
    images, images_ref = c_array("cfg_image", f"{p}_images", [
        f".name = {quoted(img.spec)}, .data = {img_sym(vm, i)}, "
        f".size = {c_u64(img.size)}, .gpa = {c_u64(img.gpa)}"
        for i, img in enumerate(vm.images)])
    devices, devices_ref = c_array("cfg_device", f"{p}_devices", [
        f".type = {DEVICE_TYPES[d.type][0]}, .base = {c_u64(d.base)}, "
        f".size = {c_u64(d.size)}, .irq = {d.irq}, .pio = {'true' if d.pio else 'false'}"
        for d in vm.devices])
    entry = C_VM.substitute(
        name=quoted(vm.name), vcpus=vm.vcpus, entry=c_u64(vm.entry), dtb=dtb_sym(vm),
        dtb_size=c_u64(vm.dtb_size), dtb_gpa=c_u64(vm.dtb_gpa),
        max_restarts=vm.max_restarts,
        regions=regions_ref, nregions=len(vm.regions), images=images_ref,
        nimages=len(vm.images), devices=devices_ref, ndevices=len(vm.devices),
        **{k: POLICIES[v] for k, v in vm.policies.items()})
    return "\n" + regions + images + devices, entry


def gen_config_c(system, config_path):
    text = banner(config_path) + '#include "core/config.h"\n\n'
    for vm in system.vms:
        text += "".join(f"extern const uint8_t {img_sym(vm, i)}[];\n"
                        for i in range(len(vm.images)))
        text += f"extern const uint8_t {dtb_sym(vm)}[];\n"
    parts = [c_vm(vm) for vm in system.vms]
    text += "".join(arrays for arrays, _ in parts)
    text += "\nstatic const struct cfg_vm vms[] = {\n"
    text += "".join(entry for _, entry in parts) + "};\n"
    return text + C_SYSTEM.substitute(name=quoted(system.name), nvms=len(system.vms),
                                      time_slice_us=system.time_slice_us)


def gen_images_s(system, config_path):
    text = banner(config_path) + '    .section .guest_images,"a"\n'
    for vm in system.vms:
        blobs = [(img_sym(vm, i), img.file) for i, img in enumerate(vm.images)]
        for sym, file in blobs + [(dtb_sym(vm), vm.dtb_file)]:
            text += ASM_BLOB.substitute(sym=sym, file=quoted(os.path.abspath(file)))
    return text


def make_escape(path):
    return path.replace("$", "$$").replace("#", "\\#").replace(" ", "\\ ")


def gen_deps(system, config_path, out):
    targets = [make_escape(os.path.join(out, f)) for f in ("config.c", "images.S")]
    files = []
    for vm in system.vms:
        for img in vm.images:
            if make_escape(img.file) not in files:
                files.append(make_escape(img.file))
    lines = [f"{' '.join(targets)}: {make_escape(config_path)} {' '.join(files)}".rstrip(), ""]
    # Empty rules, as gcc -MP writes them: a vanished image makes make rerun
    # the tool (which then names the missing file) instead of giving up.
    lines += [f"{f}:" for f in files]
    return "\n".join(lines) + "\n"


def write_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_outputs(system, config_path, out):
    write_file(os.path.join(out, "deps.mk"), gen_deps(system, config_path, out))
    write_file(os.path.join(out, "images.S"), gen_images_s(system, config_path))
    write_file(os.path.join(out, "config.c"), gen_config_c(system, config_path))


# --------------------------------------------------------------------- main

def load_toml(path):
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise ConfigError("(file)", f"cannot read: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError("(syntax)", str(e)) from None
    except UnicodeDecodeError as e:
        raise ConfigError("(syntax)", f"not valid UTF-8: {e.reason}") from None


def run(args):
    data = load_toml(args.config)
    ctx = {
        "arch": ARCHES[args.arch],
        "guest_dir": args.guest_dir or os.path.join("build", args.arch, "guests"),
        "config_dir": os.path.dirname(args.config),
        "stem": os.path.splitext(os.path.basename(args.config))[0],
    }
    system = parse_system(data, ctx)
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        raise ConfigError("(output)", f"cannot create {args.out}: {e.strerror}") from None
    if ctx["arch"]["boot"] == "bootinfo":
        build_bootinfos(system, args.out)
    else:
        build_dtbs(system, args.out)
    write_outputs(system, args.config, args.out)


class OneLineParser(argparse.ArgumentParser):
    """Command-line mistakes are one line and exit status 1, like config errors."""

    def error(self, message):
        self.exit(1, f"{self.prog}: (usage): {message}\n")


def main(argv=None):
    parser = OneLineParser(prog="mkconfig.py", description=__doc__.split("\n")[0])
    parser.add_argument("--arch", required=True, choices=sorted(ARCHES))
    parser.add_argument("--guest-dir", help="where guest:NAME finds NAME.bin "
                        "(default build/<arch>/guests)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("config", help="the scenario TOML file")
    args = parser.parse_args(argv)
    try:
        run(args)
    except ConfigError as e:
        reason = " ".join(e.reason.split("\n"))
        print(f"{args.config}: {e.key}: {reason}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{args.config}: (output): {e.filename}: {e.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

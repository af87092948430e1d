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
IMAGE_KEYS = {"file", "load", "initrd", "bzimage"}
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
    bzimage: dict | None = None     # x86 Linux: the setup header (parse_bzimage)
    skip: int = 0                   # bytes of the file before what is loaded

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
    boot: str = "CFG_BOOT_NATIVE"
    boot_tables: int = 0


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
    flags = {}
    for key in ("initrd", "bzimage"):
        flags[key] = t.get(key, False)
        if not isinstance(flags[key], bool):
            raise ConfigError(join(path, key), f"expected a boolean, got {type_name(flags[key])}")
    file, size = resolve_image(spec, join(path, "file"), ctx)
    img = Image(path, spec, file, size, load, flags["initrd"])
    if flags["bzimage"]:
        if ctx["arch"]["boot"] != "bootinfo":
            raise ConfigError(join(path, "bzimage"), "a bzImage boots only on x86_64")
        if flags["initrd"]:
            raise ConfigError(join(path, "bzimage"), "an image cannot be both the bzImage "
                              "and the initrd")
        parse_bzimage(img, join(path, "file"), join(path, "load"))
    return img


# ------------------------------------------------ x86 Linux boot protocol
# Documentation/x86/boot.rst: a bzImage is a real-mode setup part
# ((setup_sects + 1) * 512 bytes, with the setup header at 0x1f1) followed
# by the protected-mode kernel, which is what Tessera loads. The 64-bit
# entry is 0x200 past its load address.

BZ_MIN_VERSION = 0x20C          # xloadflags (64-bit entry) came with 2.12
LINUX_BOOT_BLOB = 0x9C000       # zero page, command line, MP table (reserved)
LINUX_BOOT_TABLES = 0x95000     # GDT + page tables the hypervisor builds (7 pages)
LINUX_RESERVED = (0x95000, 0xA0000)     # both, kept out of the e820 RAM
TSC_ARG_ROOM = 40               # the hypervisor appends " tsc_early_khz=<rate>"


def parse_bzimage(img, where_file, where_load):
    with open(img.file, "rb") as f:
        head = f.read(0x1000)
    if len(head) < 0x264 or head[0x202:0x206] != b"HdrS":
        raise ConfigError(where_file, f"{img.file} is not a Linux bzImage (no HdrS setup header)")
    u8 = lambda o: head[o]
    u16 = lambda o: struct.unpack_from("<H", head, o)[0]
    u32 = lambda o: struct.unpack_from("<I", head, o)[0]
    version = u16(0x206)
    if version < BZ_MIN_VERSION:
        raise ConfigError(where_file, f"boot protocol {version >> 8}.{version & 0xff:02d}; "
                          "Tessera needs 2.12 or later (64-bit entry)")
    if not u16(0x236) & 1:
        raise ConfigError(where_file, "the kernel has no 64-bit entry point (xloadflags)")
    setup_sects = u8(0x1F1) or 4
    skip = (setup_sects + 1) * 512
    align = u32(0x230)
    hdr = {"version": version, "align": align, "relocatable": u8(0x234),
           "init_size": u32(0x260), "pref_address": struct.unpack_from("<Q", head, 0x258)[0],
           "cmdline_size": u32(0x238), "initrd_max": u32(0x22C),
           "header": head[0x1F1:0x202 + u8(0x201)]}
    if img.size <= skip:
        raise ConfigError(where_file, f"{img.file} is shorter than its setup part")
    if img.gpa < 0x100000:
        raise ConfigError(where_load, f"{img.gpa:#x}: a bzImage loads at 1 MiB or above")
    if img.gpa != hdr["pref_address"] and (not hdr["relocatable"] or img.gpa % align):
        raise ConfigError(where_load, f"{img.gpa:#x}: the kernel must load at its preferred "
                          f"address {hdr['pref_address']:#x}"
                          + (f" or a multiple of {align:#x}" if hdr["relocatable"] else ""))
    img.skip = skip
    img.size -= skip
    img.bzimage = hdr


def check_linux_vm(vm):
    """A VM with a bzImage: Tessera is its bootloader. Lays out the low
    memory the boot needs and sets the entry."""
    kernels = [img for img in vm.images if img.bzimage]
    if not kernels:
        return
    if len(kernels) > 1:
        raise ConfigError(join(kernels[1].path, "bzimage"), "only one image can be the bzImage")
    k = kernels[0]
    low = region_containing(vm.regions, 0, 0x100000)
    if not low:
        raise ConfigError(join(vm.path, "memory"), "a Linux VM needs memory from 0x0 to "
                          "0x100000 (boot data, MP table, the SMP trampoline)")
    for img in vm.images:
        if overlaps(img.gpa, img.end, 0, 0x100000):
            raise ConfigError(join(img.path, "load"), f"image {hexr(img.gpa, img.end)} overlaps "
                              "the low 1 MiB a Linux VM keeps for boot data")
    need = max(k.size, k.bzimage["init_size"])
    if not region_containing(vm.regions, k.gpa, k.gpa + need):
        raise ConfigError(join(k.path, "load"), f"the kernel needs {hexr(k.gpa, k.gpa + need)} "
                          "(its init_size) inside one memory region")
    for img in vm.images:
        if img is not k and overlaps(img.gpa, img.end, k.gpa, k.gpa + need):
            raise ConfigError(join(img.path, "load"), f"image {hexr(img.gpa, img.end)} overlaps "
                              f"the kernel's decompression area {hexr(k.gpa, k.gpa + need)}")
        if img.initrd and img.end > k.bzimage["initrd_max"] + 1:
            raise ConfigError(join(img.path, "load"), f"the initrd must end below "
                              f"{k.bzimage['initrd_max'] + 1:#x} (initrd_addr_max)")
    args = (vm.bootargs or "").encode()
    room = min(k.bzimage["cmdline_size"], PAGE - 1) - TSC_ARG_ROOM
    if len(args) > room:
        raise ConfigError(join(vm.path, "bootargs"), f"{len(args)} bytes; at most {room} with "
                          "this kernel (Tessera appends tsc_early_khz=)")
    if vm.entry is not None and vm.entry != k.gpa + 0x200:
        raise ConfigError(join(vm.path, "entry"), f"a bzImage VM enters at its 64-bit entry "
                          f"{k.gpa + 0x200:#x}; leave entry out")
    if vm.dtb_addr is not None:
        raise ConfigError(join(vm.path, "dtb_addr"), "not used by a bzImage VM (its boot "
                          f"data sits at {LINUX_BOOT_BLOB:#x})")
    vm.entry = k.gpa + 0x200
    vm.boot = "CFG_BOOT_LINUX_X86"
    vm.boot_tables = LINUX_BOOT_TABLES


def mp_table(vm, base):
    """Intel MP spec 1.4 configuration table at base: the VM's CPUs, one
    ISA bus, the IOAPIC (ID after the CPUs') and the PC's ISA IRQ routing
    (IRQ 0 on pin 2, the 8259 as ExtINT on pin 0 and on every LINT0)."""
    ioapic_id = vm.vcpus
    entries = []
    for cpu in range(vm.vcpus):
        entries.append(struct.pack("<BBBBII8x", 0, cpu, 0x14, 1 | (2 if cpu == 0 else 0),
                                   0x600, 0x201))
    entries.append(struct.pack("<BB6s", 1, 0, b"ISA   "))
    entries.append(struct.pack("<BBBBI", 2, ioapic_id, 0x11, 1, 0xFEC00000))
    entries.append(struct.pack("<BBHBBBB", 3, 3, 0, 0, 0, ioapic_id, 0))     # ExtINT
    for irq in range(16):
        if irq != 2:
            entries.append(struct.pack("<BBHBBBB", 3, 0, 0, 0, irq, ioapic_id,
                                       2 if irq == 0 else irq))
    entries.append(struct.pack("<BBHBBBB", 4, 3, 0, 0, 0, 0xFF, 0))          # ExtINT, LINT0
    entries.append(struct.pack("<BBHBBBB", 4, 1, 0, 0, 0, 0xFF, 1))          # NMI, LINT1
    body = b"".join(entries)
    hdr = struct.pack("<4sHBB8s12sIHHIHBB", b"PCMP", 44 + len(body), 4, 0, b"TESSERA ",
                      b"VM          ", 0, 0, len(entries), 0xFEE00000, 0, 0, 0)
    table = bytearray(hdr + body)
    table[7] = (-sum(table)) & 0xFF
    fp = bytearray(struct.pack("<4sIBBB5s", b"_MP_", base, 1, 4, 0, bytes(5)))
    fp[10] = (-sum(fp)) & 0xFF
    return bytes(table), bytes(fp)


def e820_map(vm):
    """The VM's RAM as usable, minus the boot data; the 0x9fc00-0xfffff
    legacy area reserved as a PC BIOS would."""
    out = []
    for r in sorted(vm.regions, key=lambda r: r.gpa):
        start, end = r.gpa, r.end
        if start < 0xA0000:
            out.append((start, LINUX_RESERVED[0] - start, 1))
            out.append((LINUX_RESERVED[0], LINUX_RESERVED[1] - LINUX_RESERVED[0], 2))
            start = max(start, 0x100000)
        if end > start:
            out.append((start, end - start, 1))
    out.insert(2, (0xF0000, 0x10000, 2))
    return out


def gen_linux_boot(vm):
    """The boot data at LINUX_BOOT_BLOB: zero page (struct boot_params),
    command line, MP configuration table and its floating pointer."""
    k = next(img for img in vm.images if img.bzimage)
    initrd = next((img for img in vm.images if img.initrd), None)
    blob = bytearray(0x4000)
    zp = memoryview(blob)[0:PAGE]
    hdr = k.bzimage["header"]
    zp[0x1F1:0x1F1 + len(hdr)] = hdr
    zp[0x210] = 0xFF                                    # type_of_loader: undefined
    zp[0x211] |= 0x01                                   # LOADED_HIGH
    struct.pack_into("<I", zp, 0x214, k.gpa)            # code32_start
    cmdline = LINUX_BOOT_BLOB + PAGE
    struct.pack_into("<I", zp, 0x228, cmdline)
    if initrd:
        struct.pack_into("<II", zp, 0x218, initrd.gpa & MAX_U32, initrd.size & MAX_U32)
        struct.pack_into("<II", zp, 0x0C0, initrd.gpa >> 32, initrd.size >> 32)
    e820 = e820_map(vm)
    zp[0x1E8] = len(e820)
    for i, (addr, size, kind) in enumerate(e820):
        struct.pack_into("<QQI", zp, 0x2D0 + 20 * i, addr, size, kind)
    args = (vm.bootargs or "").encode()
    blob[PAGE:PAGE + len(args)] = args
    mp_base = LINUX_BOOT_BLOB + 2 * PAGE
    table, fp = mp_table(vm, mp_base)
    blob[2 * PAGE:2 * PAGE + len(table)] = table
    fp_off = 0x9FC00 - LINUX_BOOT_BLOB                  # "the last KiB of base memory"
    blob[fp_off:fp_off + len(fp)] = fp
    return bytes(blob)


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
        check_linux_vm(vm)
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
        if vm.boot == "CFG_BOOT_LINUX_X86":
            vm.dtb_file = os.path.join(out, f"vm{vm.index}.linuxboot")
            with open(vm.dtb_file, "wb") as f:
                f.write(gen_linux_boot(vm))
            vm.dtb_size = os.path.getsize(vm.dtb_file)
            vm.dtb_gpa = LINUX_BOOT_BLOB
            continue
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
        .boot = $boot,
        .boot_tables = $boot_tables,
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
    .incbin $file$skip
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
        boot=vm.boot, boot_tables=c_u64(vm.boot_tables),
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
        blobs = [(img_sym(vm, i), img.file, img.skip) for i, img in enumerate(vm.images)]
        for sym, file, skip in blobs + [(dtb_sym(vm), vm.dtb_file, 0)]:
            text += ASM_BLOB.substitute(sym=sym, file=quoted(os.path.abspath(file)),
                                        skip=f", {skip}" if skip else "")
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


def one_line(text):
    """Control characters from the config (a CR in a name, say) escaped, so
    an error stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


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
        reason = one_line(" ".join(e.reason.split("\n")))
        print(f"{args.config}: {one_line(e.key)}: {reason}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{args.config}: (output): {e.filename}: {e.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

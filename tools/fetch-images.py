#!/usr/bin/python3
"""Fetch and cache Debian guest images for Tessera, and build a busybox
initramfs.

    tools/fetch-images.py [--arch riscv64|amd64]      fetch what is missing
    tools/fetch-images.py --available                 what the archive has now
    tools/fetch-images.py --boot-check                also boot natively in QEMU

The exact packages and versions are pinned in tools/images.conf. Packages come
from the Debian archive mirror named in this machine's own apt configuration
(/etc/apt/sources.list.d/*.sources or /etc/apt/sources.list), fetched with a
private apt setup under the cache folder: the system's package state is never
touched. Outputs (cache/<arch>/...) and a manifest with versions and sha256
sums are reused on the next run without any network access as long as they
match the pins. See docs/guest-images.md.

Standard library only. Expected failures end with one line on stderr,
"fetch-images: ...", and exit status 1.
"""

import argparse
import fnmatch
import gzip
import hashlib
import json
import os
import re
import select
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

PROG = "fetch-images"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONF = ROOT / "tools" / "images.conf"
DEFAULT_CACHE = ROOT / "cache"
DEFAULT_INIT = ROOT / "tools" / "initramfs" / "init"
APT_ETC = Path("/etc/apt")
OS_RELEASE = Path("/etc/os-release")

# Bump when the way outputs are produced changes: outputs of another format
# are rebuilt (from the cached .deb files, without the network).
FORMAT = 1

IMAGES = ("kernel", "busybox", "uboot")
PIN_FIELDS = ("suite", "package", "version", "file", "meta")

# What the tool knows about each guest architecture.
ARCHES = {
    "riscv64": {
        "kernel_member": "boot/vmlinux-*",      # RISC-V "Image" format
        "kernel_out": "linux/Image",
        "qemu": "qemu-system-riscv64",
        "firmware": "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin",
    },
    "amd64": {
        "kernel_member": "boot/vmlinuz-*",      # bzImage
        "kernel_out": "linux/bzImage",
        "qemu": "qemu-system-x86_64",
        "firmware": None,
    },
}
BUSYBOX_MEMBERS = ("usr/bin/busybox", "bin/busybox")

# Applets linked in the initramfs. Required ones must be in the busybox
# binary; optional ones are linked only if they are. /init falls back when
# nproc is missing, and in shell mode runs `busybox --install -s` for the rest.
APPLETS_REQUIRED = ("sh", "mount", "uname", "cat", "grep", "echo", "poweroff",
                    "reboot", "sleep", "ls")
APPLETS_OPTIONAL = ("nproc", "setsid", "cttyhack", "umount", "mkdir", "head",
                    "wc", "dmesg", "sync")

MARKER = "TESSERA-USERLAND-OK"


class Failure(Exception):
    """An expected failure: reported as one line, exit status 1."""


def note(msg):
    print(f"{PROG}: {msg}", flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_atomic(path, data, mode=0o644):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# --------------------------------------------------------------- pin file

class Pin:
    def __init__(self, image, suite, package, version, file=None, meta=None):
        self.image = image
        self.suite = suite
        self.package = package
        self.version = version
        self.file = file
        self.meta = meta

    def __repr__(self):
        return f"Pin({self.image}: {self.package}={self.version} from {self.suite})"


def parse_pin_file(text, source="images.conf"):
    """key = value lines -> {key: (value, line number)}. Keys are
    <arch>.suite or <arch>.<image>.<field>."""
    values = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "=" not in line:
            raise Failure(f"{source}:{lineno}: expected 'key = value', got {line!r}")
        key, value = (s.strip() for s in line.split("=", 1))
        parts = key.split(".")
        if not all(re.fullmatch(r"[a-z0-9_-]+", p) for p in parts) or \
                len(parts) not in (2, 3):
            raise Failure(f"{source}:{lineno}: bad key {key!r} (want <arch>.suite "
                          f"or <arch>.<image>.<field>)")
        if len(parts) == 2 and parts[1] != "suite":
            raise Failure(f"{source}:{lineno}: unknown key {key!r} (the only "
                          f"per-arch key is <arch>.suite)")
        if len(parts) == 3:
            if parts[1] not in IMAGES:
                raise Failure(f"{source}:{lineno}: unknown image {parts[1]!r} in "
                              f"{key!r} (images: {', '.join(IMAGES)})")
            if parts[2] not in PIN_FIELDS:
                raise Failure(f"{source}:{lineno}: unknown field {parts[2]!r} in "
                              f"{key!r} (fields: {', '.join(PIN_FIELDS)})")
        if not value:
            raise Failure(f"{source}:{lineno}: {key} has an empty value")
        if re.search(r"\s", value):
            raise Failure(f"{source}:{lineno}: {key} value {value!r} contains blanks")
        if key in values:
            raise Failure(f"{source}:{lineno}: {key} set twice (first on line "
                          f"{values[key][1]})")
        values[key] = (value, lineno)
    return values


def pins_for_arch(values, arch, source="images.conf"):
    """The pins of one arch: {image: Pin}. kernel and busybox are required,
    uboot is optional (all-or-nothing)."""
    if not any(k.split(".")[0] == arch for k in values):
        known = sorted({k.split(".")[0] for k in values})
        raise Failure(f"{source}: no pins for arch {arch} (pinned: "
                      f"{', '.join(known) or 'none'})")

    def get(key):
        v = values.get(key)
        return v[0] if v else None

    pins = {}
    for image in IMAGES:
        prefix = f"{arch}.{image}."
        present = [k for k in values if k.startswith(prefix)]
        if image == "uboot" and not present:
            continue
        missing = [f for f in ("package", "version") if get(prefix + f) is None]
        if image == "uboot" and get(prefix + "file") is None:
            missing.append("file")
        if missing:
            raise Failure(f"{source}: {prefix}{missing[0]} is missing")
        suite = get(prefix + "suite") or get(f"{arch}.suite")
        if suite is None:
            raise Failure(f"{source}: no suite for {arch} {image} (set {arch}.suite "
                          f"or {prefix}suite)")
        if image != "uboot" and get(prefix + "file") is not None:
            raise Failure(f"{source}: {prefix}file is only for uboot")
        pins[image] = Pin(image, suite, get(prefix + "package"), get(prefix + "version"),
                          file=(get(prefix + "file") or "").lstrip("/") or None,
                          meta=get(prefix + "meta"))
    return pins


def load_pins(conf, arch):
    try:
        text = Path(conf).read_text()
    except OSError as e:
        raise Failure(f"cannot read pin file {conf}: {e.strerror}")
    return pins_for_arch(parse_pin_file(text, str(conf)), arch, str(conf))


# ------------------------------------------------------- apt sources parsing

def parse_deb822_sources(text, source="?"):
    """deb822 .sources text -> list of entry dicts (types, uris, suites,
    components, signed_by, enabled, source)."""
    entries = []
    stanzas, cur, key = [], {}, None
    for raw in text.splitlines() + [""]:
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if cur:
                stanzas.append(cur)
            cur, key = {}, None
            continue
        if raw[0] in " \t":
            if key is None:
                continue
            cont = raw.strip()
            cur[key] += "\n" + ("" if cont == "." else cont)
            continue
        if ":" not in raw:
            continue
        key, value = raw.split(":", 1)
        key = key.strip().lower()
        cur[key] = value.strip()
    for st in stanzas:
        signed_by = st.get("signed-by")
        if signed_by and ("\n" in signed_by.strip() or "BEGIN PGP" in signed_by):
            signed_by = None            # inline key block: cannot be passed on
        entries.append({
            "types": st.get("types", "").split(),
            "uris": st.get("uris", "").split(),
            "suites": st.get("suites", "").split(),
            "components": st.get("components", "").split(),
            "signed_by": signed_by.strip() if signed_by else None,
            "enabled": st.get("enabled", "yes").strip().lower() not in ("no", "false", "0"),
            "source": source,
        })
    return entries


def parse_one_line_sources(text, source="?"):
    """One-line sources.list text -> the same entry dicts."""
    entries = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$", line)
        if not m:
            continue
        opts = {}
        for opt in (m.group(2) or "").split():
            if "=" in opt:
                k, v = opt.split("=", 1)
                opts[k.strip().lower()] = v.strip()
        entries.append({
            "types": [m.group(1)],
            "uris": [m.group(3)],
            "suites": [m.group(4)],
            "components": m.group(5).split(),
            "signed_by": opts.get("signed-by"),
            "enabled": True,
            "source": source,
        })
    return entries


def read_apt_sources(etc=APT_ETC):
    etc = Path(etc)
    entries = []
    main = etc / "sources.list"
    files = ([main] if main.is_file() else []) + \
        sorted((etc / "sources.list.d").glob("*.list")) + \
        sorted((etc / "sources.list.d").glob("*.sources"))
    for f in files:
        try:
            text = f.read_text(errors="replace")
        except OSError:
            continue
        if f.suffix == ".sources":
            entries += parse_deb822_sources(text, str(f))
        else:
            entries += parse_one_line_sources(text, str(f))
    return entries


def host_codename(os_release=OS_RELEASE):
    try:
        for line in Path(os_release).read_text().splitlines():
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return None


def choose_mirror(entries, codename=None):
    """The entry of the machine's main Debian archive: an enabled 'deb' entry
    whose suites include the host's codename (else any plain suite name such
    as 'bookworm' or 'stable': no '-updates', '-security', '/' flat repos).
    Returns (uri, components, signed_by, source file)."""
    usable = [e for e in entries if e["enabled"] and "deb" in e["types"] and e["uris"]
              and not e["uris"][0].startswith("cdrom:")]

    def plain(s):
        return re.fullmatch(r"[a-z]+", s) is not None

    for test in ((lambda e: codename is not None and codename in e["suites"]),
                 (lambda e: any(plain(s) for s in e["suites"]))):
        for e in usable:
            if test(e):
                return (e["uris"][0].rstrip("/"), e["components"] or ["main"],
                        e["signed_by"], e["source"])
    return None


# ------------------------------------------------------------------ apt

class AptGroup:
    """A private apt setup for one (suite, arch) under cache/apt/<suite>-<arch>."""

    def __init__(self, cache, suite, arch, mirror):
        self.suite, self.arch, self.mirror = suite, arch, mirror
        self.dir = Path(cache) / "apt" / f"{suite}-{arch}"
        self.debs = self.dir / "debs"
        self.updated = False

    def options(self):
        d = self.dir
        opts = {
            "Dir::Etc::sourcelist": d / "sources.list",
            "Dir::Etc::sourceparts": "/dev/null",
            "Dir::State::Lists": d / "lists",
            "Dir::State::status": d / "status",
            "Dir::Cache": d / "cache",
            "Dir::Cache::archives": d / "archives",
            "Dir::Cache::pkgcache": d / "cache" / "pkgcache.bin",
            "Dir::Cache::srcpkgcache": d / "cache" / "srcpkgcache.bin",
            "APT::Architecture": self.arch,
            "Debug::NoLocking": "1",
            "APT::Sandbox::User": "root",
            "Acquire::Languages": "none",
        }
        out = []
        for k, v in opts.items():
            out += ["-o", f"{k}={v}"]
        # Arch-all packages (u-boot-qemu) come from the binary-all index.
        out += ["-o", f"APT::Architectures::={self.arch}", "-o", "APT::Architectures::=all"]
        return out

    def prepare(self):
        uri, components, signed_by, _ = self.mirror
        for sub in ("lists/partial", "archives/partial", "cache", "debs"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "status").touch()
        opt = f"[signed-by={signed_by}] " if signed_by else ""
        line = f"deb {opt}{uri} {self.suite} {' '.join(components)}\n"
        (self.dir / "sources.list").write_text(
            "# written by tools/fetch-images.py from this machine's apt configuration\n"
            + line)

    def run(self, tool, *args, cwd=None):
        exe = shutil.which(tool)
        if exe is None:
            raise Failure(f"{tool} not found: this tool needs a Debian-style host "
                          f"with apt and dpkg")
        env = dict(os.environ, LC_ALL="C", LANGUAGE="")
        return subprocess.run([exe, *self.options(), *args], cwd=cwd, env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace")

    def update(self):
        if self.updated:
            return
        self.prepare()
        note(f"apt-get update: {self.suite} ({self.arch}) from the mirror in this "
             f"machine's apt configuration")
        r = self.run("apt-get", "-q", "update")
        lines = r.stdout.splitlines()
        # apt-get update exits 0 when an index cannot be fetched ("Err:" with
        # the reason on the next, indented line, then "W: Failed to fetch").
        errors = []
        for i, line in enumerate(lines):
            if line.startswith("Err:"):
                reason = lines[i + 1].strip() if i + 1 < len(lines) and \
                    lines[i + 1].startswith(" ") else ""
                errors.append(" ".join(line.split()[1:]) + (f": {reason}" if reason else ""))
            elif line.startswith("E:"):
                errors.append(line[2:].strip())
        if r.returncode != 0 or errors:
            detail = errors[0] if errors else f"apt-get exit status {r.returncode}"
            raise Failure(f"apt-get update for {self.suite} ({self.arch}) failed "
                          f"(network down, or no such suite at the mirror?): "
                          f"{' '.join(detail.split())}")
        self.updated = True

    def show(self, package, version):
        """The Packages stanza of package=version, or None."""
        r = self.run("apt-cache", "show", f"{package}={version}")
        if r.returncode != 0:
            return None
        stanzas = parse_control_stanzas(r.stdout)
        return stanzas[0] if stanzas else None

    def madison(self, package):
        r = self.run("apt-cache", "madison", package)
        return parse_madison(r.stdout) if r.returncode == 0 else []

    def pkgnames(self, prefix):
        r = self.run("apt-cache", "pkgnames", prefix)
        return sorted(set(r.stdout.split())) if r.returncode == 0 else []

    def depends(self, package):
        r = self.run("apt-cache", "depends", package)
        if r.returncode != 0:
            return []
        return [l.split(":", 1)[1].strip() for l in r.stdout.splitlines()
                if l.strip().startswith("Depends:")]

    def available(self, pin):
        """A one-line description of what the archive offers instead of pin."""
        found = []
        for name in similar_names(pin.package, self.pkgnames(name_prefix(pin.package))):
            for pkg, ver in self.madison(name):
                found.append(f"{pkg} {ver}")
        text = ", ".join(found[:12]) + (" ..." if len(found) > 12 else "") or \
            f"no package named like {pin.package}"
        if pin.meta:
            deps = self.depends(pin.meta)
            if deps:
                text += f" ({pin.meta} depends on {', '.join(deps)})"
        return text

    def tidy(self):
        """Drop apt's binary caches (tens of MB, rebuilt from the lists when needed)."""
        for f in (self.dir / "cache").glob("*.bin"):
            f.unlink()

    def cached_deb(self, package, version):
        pattern = f"{package}_{quote_version(version)}_*.deb"
        hits = sorted(self.debs.glob(pattern)) if self.debs.is_dir() else []
        return hits[0] if hits else None

    def download(self, pin):
        """Download pin's .deb into debs/ (verified against the index's SHA256)."""
        info = self.show(pin.package, pin.version)
        if info is None:
            raise Failure(f"package {pin.package} version {pin.version} not found in "
                          f"{self.suite} ({self.arch}); available: {self.available(pin)}")
        size = int(info.get("Size", "0") or 0)
        note(f"downloading {pin.package} {pin.version} ({size / 1e6:.1f} MB)")
        tmp = Path(tempfile.mkdtemp(prefix="dl-", dir=self.dir))
        try:
            r = self.run("apt-get", "-q", "download", f"{pin.package}={pin.version}", cwd=tmp)
            files = list(tmp.glob("*.deb"))
            if r.returncode != 0 or len(files) != 1:
                err = next((l for l in r.stdout.splitlines() if l.startswith(("E:", "Err:"))),
                           f"exit status {r.returncode}")
                raise Failure(f"downloading {pin.package} {pin.version} failed: "
                              f"{' '.join(err.split())}")
            want = info.get("SHA256")
            got = sha256_file(files[0])
            if want and got != want:
                raise Failure(f"{files[0].name}: sha256 {got} does not match the "
                              f"archive index ({want})")
            dest = self.debs / (f"{pin.package}_{quote_version(pin.version)}_"
                                f"{info.get('Architecture', self.arch)}.deb")
            os.replace(files[0], dest)
            for other in self.debs.glob(f"{pin.package}_*.deb"):
                if other != dest:          # an older pin's package
                    other.unlink()
            return dest
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def quote_version(version):
    return version.replace(":", "%3a")


def parse_control_stanzas(text):
    stanzas, cur, key = [], {}, None
    for line in text.splitlines() + [""]:
        if not line.strip():
            if cur:
                stanzas.append(cur)
            cur, key = {}, None
        elif line[0] in " \t":
            if key:
                cur[key] += "\n" + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            cur[key] = value.strip()
    return stanzas


def parse_madison(text):
    """apt-cache madison output -> [(package, version)] without duplicates."""
    out = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) >= 3 and parts[0] and parts[1] and (parts[0], parts[1]) not in out:
            out.append((parts[0], parts[1]))
    return out


def name_prefix(package):
    """The part of a package name before its first digit: 'linux-image-'."""
    m = re.match(r"[^0-9]*", package)
    return m.group(0) if m and m.group(0) else package


def similar_names(package, names):
    """Names shaped like package, with any numbers in it changed:
    linux-image-6.12.107+deb13-riscv64 ~ linux-image-6.12.94+deb13-riscv64."""
    shape = "".join("[0-9]+" if part.isdigit() else re.escape(part)
                    for part in re.split(r"([0-9]+)", package))
    rx = re.compile("^" + shape + "$")
    hits = [n for n in names if rx.match(n)]
    return sorted(hits, key=natural_key, reverse=True)


def natural_key(s):
    return [int(t) if t.isdigit() else t for t in re.split(r"([0-9]+)", s)]


# ---------------------------------------------------------- deb extraction

def extract_from_deb(deb, wanted):
    """Copy regular files out of a .deb's data archive. wanted: {pattern:
    destination}; a pattern is an fnmatch pattern on the path inside the
    package without the leading './'. Returns {pattern: member name}."""
    if shutil.which("dpkg-deb") is None:
        raise Failure("dpkg-deb not found: this tool needs a Debian-style host")
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    found = {}
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                name = member.name[2:] if member.name.startswith("./") else member.name
                for pattern, dest in wanted.items():
                    if pattern in found or not fnmatch.fnmatchcase(name, pattern):
                        continue
                    if not member.isfile():
                        raise Failure(f"{deb.name}: {name} is not a regular file")
                    data = tar.extractfile(member).read()
                    write_atomic(dest, data, 0o755 if member.mode & 0o111 else 0o644)
                    found[pattern] = name
    except tarfile.TarError as e:
        raise Failure(f"{deb.name}: cannot read the package: {e}")
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace").strip()
        proc.stderr.close()
        rc = proc.wait()
    if rc != 0:
        raise Failure(f"dpkg-deb cannot read {deb.name}: {err.splitlines()[-1] if err else rc}")
    return found


def check_kernel(arch, path):
    with open(path, "rb") as f:
        head = f.read(0x240)
    if arch == "riscv64":
        if head[0x30:0x35] != b"RISCV" or head[0x38:0x3c] != b"RSC\x05":
            raise Failure(f"{path}: not a RISC-V Image (no 'RISCV' magic at 0x30)")
    elif arch == "amd64":
        if head[0x202:0x206] != b"HdrS" or head[0x1fe:0x200] != b"\x55\xaa":
            raise Failure(f"{path}: not an x86 bzImage (no 'HdrS' at 0x202)")


# ------------------------------------------------------------- cpio writer

class CpioWriter:
    """newc ("070701") cpio archive, as the Linux initramfs unpacker reads it.
    Entries are written in order; a parent directory must come before its
    children. Owner root, fixed mtime: the same input gives the same bytes."""

    def __init__(self, mtime=0):
        self.mtime = mtime
        self.out = bytearray()
        self.ino = 0
        self.names = {""}
        self.closed = False

    def _add(self, name, mode, data=b"", nlink=1, rdev=(0, 0)):
        if self.closed:
            raise ValueError("cpio archive already finished")
        name = name.strip("/")
        if not name or name in self.names:
            raise ValueError(f"cpio: bad or duplicate name {name!r}")
        parent = name.rsplit("/", 1)[0] if "/" in name else ""
        if parent not in self.names:
            raise ValueError(f"cpio: {name!r} added before its directory {parent!r}")
        self.names.add(name)
        self.ino += 1
        self._header(name, self.ino, mode, data, nlink, rdev)

    def _header(self, name, ino, mode, data, nlink, rdev):
        namez = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, nlink, self.mtime, len(data), 0, 0,
                  rdev[0], rdev[1], len(namez), 0)
        self.out += b"070701" + "".join(f"{v:08X}" for v in fields).encode()
        self.out += namez
        self.out += b"\0" * (-len(self.out) % 4)
        self.out += data
        self.out += b"\0" * (-len(self.out) % 4)

    def directory(self, name, perm=0o755):
        self._add(name, stat.S_IFDIR | perm, nlink=2)

    def file(self, name, data, perm=0o644):
        self._add(name, stat.S_IFREG | perm, bytes(data))

    def symlink(self, name, target):
        self._add(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor, perm=0o600):
        self._add(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def finish(self):
        if not self.closed:
            self._header("TRAILER!!!", 0, 0, b"", 1, (0, 0))
            self.out += b"\0" * (-len(self.out) % 512)
            self.closed = True
        return bytes(self.out)


def busybox_has_applet(binary, name):
    """Heuristic: busybox keeps its applet names as a NUL-separated table."""
    return b"\0" + name.encode() + b"\0" in binary


def build_initramfs(busybox, init_script):
    """The initramfs bytes (gzip-compressed newc cpio) and the applets linked."""
    applets = []
    for a in APPLETS_REQUIRED:
        if not busybox_has_applet(busybox, a):
            raise Failure(f"the pinned busybox has no '{a}' applet")
        applets.append(a)
    applets += [a for a in APPLETS_OPTIONAL if busybox_has_applet(busybox, a)]
    w = CpioWriter()
    for d in ("bin", "dev", "etc", "proc", "root", "sbin", "sys", "tmp",
              "usr", "usr/bin", "usr/sbin"):
        w.directory(d, 0o1777 if d == "tmp" else 0o755)
    w.chardev("dev/console", 5, 1, 0o600)
    w.file("bin/busybox", busybox, 0o755)
    for a in applets:
        w.symlink(f"bin/{a}", "busybox")
    w.file("init", init_script, 0o755)
    return gzip.compress(w.finish(), compresslevel=9, mtime=0), applets


# ---------------------------------------------------------------- manifest

def load_manifest(path):
    try:
        m = json.loads(Path(path).read_text())
        if isinstance(m, dict) and isinstance(m.get("images"), dict):
            return m
    except (OSError, ValueError):
        pass
    return {"images": {}}


def save_manifest(path, manifest):
    write_atomic(path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())


def entry_current(entry, pin, outdir):
    """True if a manifest entry says the output matches pin (None: no pin to
    compare) and the file on disk is the one recorded."""
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        return False
    if pin is not None and (entry.get("package"), entry.get("version"), entry.get("suite"),
                            entry.get("file")) != (pin.package, pin.version, pin.suite, pin.file):
        return False
    path = Path(outdir) / entry.get("path", "")
    return path.is_file() and sha256_file(path) == entry.get("sha256")


# ------------------------------------------------------------- boot check

class Console:
    """A QEMU process whose serial console is on its stdout (a pipe)."""

    def __init__(self, cmd):
        self.start = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.text = ""

    def elapsed(self):
        return time.monotonic() - self.start

    def expect(self, test, timeout):
        """Read until test(text) is true (returns that), EOF or timeout (None)."""
        end = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            found = test(self.text)
            if found:
                return found
            left = end - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return test(self.text) or None
                self.text += chunk.decode(errors="replace")

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def wait_exit(self, timeout):
        """Drain the output until QEMU exits; False if it did not in time."""
        self.expect(lambda t: None, timeout)
        try:
            self.proc.wait(timeout=1)
            return True
        except subprocess.TimeoutExpired:
            return False

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stdin.close()

    def last_line(self):
        lines = [l.strip() for l in self.text.splitlines() if l.strip()]
        return lines[-1] if lines else "(no output)"


def show_path(path):
    """path relative to the working directory if it is inside the project."""
    path = str(path)
    return os.path.relpath(path) if os.path.abspath(path).startswith(str(ROOT) + os.sep) \
        else path


def show_cmd(cmd):
    return " ".join(show_path(c) for c in cmd)


def boot_check(arch, out, timeout):
    cfg = ARCHES[arch]
    qemu = shutil.which(cfg["qemu"])
    if qemu is None:
        raise Failure(f"boot check: {cfg['qemu']} not found")
    kernel, initrd = out / cfg["kernel_out"], out / "initramfs.cpio.gz"
    if arch == "riscv64":
        cmd = [qemu, "-M", "virt", "-m", "512M", "-smp", "2", "-nographic",
               "-bios", cfg["firmware"], "-kernel", str(kernel), "-initrd", str(initrd),
               "-append", "console=ttyS0 earlycon=sbi"]
    else:
        cmd = [qemu, "-M", "pc", "-m", "512M", "-smp", "2", "-nographic",
               "-no-reboot", "-kernel", str(kernel), "-initrd", str(initrd),
               "-append", "console=ttyS0"]
    note("boot check: " + show_cmd(cmd))
    con = Console(cmd)
    try:
        result = con.expect(lambda t: "panic" if "Kernel panic" in t else
                            "ok" if MARKER in t else None, timeout)
        secs = con.elapsed()
        exited = result == "ok" and con.wait_exit(20)
    finally:
        con.close()
    if result != "ok":
        raise Failure(f"boot check: no {MARKER} within {timeout:g} s "
                      f"({'kernel panic' if result == 'panic' else 'last line: ' + con.last_line()})")
    for line in con.text.splitlines():
        if line.startswith("TESSERA-"):
            print("  " + line.strip())
    cpus = re.search(r"TESSERA-CPUS (\d+)", con.text)
    note(f"boot check: {MARKER} after {secs:.2f} s wall clock, "
         f"TESSERA-CPUS {cpus.group(1) if cpus else '?'}, "
         f"{'QEMU exited (poweroff)' if exited else 'QEMU did NOT exit after poweroff'}")
    if not cpus or cpus.group(1) != "2" or not exited:
        raise Failure("boot check: expected TESSERA-CPUS 2 and a poweroff")
    return secs


def uboot_check(arch, out, timeout):
    cfg = ARCHES[arch]
    qemu = shutil.which(cfg["qemu"])
    if qemu is None:
        raise Failure(f"u-boot check: {cfg['qemu']} not found")
    cmd = [qemu, "-M", "virt", "-m", "256M", "-nographic", "-bios", cfg["firmware"],
           "-kernel", str(out / "u-boot" / "u-boot.bin")]
    note("u-boot check: " + show_cmd(cmd))
    con = Console(cmd)

    def at_prompt(t):
        return t.rstrip(" ").endswith("=>")

    try:
        first = con.expect(lambda t: "key" if "Hit any key" in t else
                           "prompt" if at_prompt(t) else None, timeout)
        if first == "key":
            con.send(b"\n")                 # stop autoboot
            first = con.expect(lambda t: at_prompt(t.split("Hit any key")[-1]) and "prompt",
                               timeout)
        if first != "prompt":
            raise Failure(f"u-boot check: no prompt within {timeout:g} s "
                          f"(last line: {con.last_line()})")
        secs = con.elapsed()
        mark = len(con.text)
        con.send(b"version\n")
        m = con.expect(lambda t: at_prompt(t[mark:]) and
                       re.search(r"U-Boot \d{4}\.\d{2}\S*", t[mark:]), 10)
        if not m:
            raise Failure(f"u-boot check: 'version' got no answer "
                          f"(last line: {con.last_line()})")
    finally:
        con.close()
    note(f"u-boot check: prompt after {secs:.2f} s wall clock; 'version' says {m.group(0)}")
    return secs


# -------------------------------------------------------------------- main

def kernel_wanted(arch, out):
    return {ARCHES[arch]["kernel_member"]: out / ARCHES[arch]["kernel_out"],
            "boot/config-*": out / "linux" / "config"}


def fetch(args):
    arch = args.arch
    pins = load_pins(args.conf, arch)
    cache = Path(args.cache).resolve()
    out = cache / arch
    manifest_path = out / "manifest.json"
    manifest = load_manifest(manifest_path)
    images = manifest["images"]
    init_path = Path(args.init)
    try:
        init_script = init_path.read_bytes()
    except OSError as e:
        raise Failure(f"cannot read the /init template {init_path}: {e.strerror}")

    stale = [img for img, pin in pins.items()
             if args.rebuild or not entry_current(images.get(img), pin, out)]
    for gone in [img for img in images if img in IMAGES and img not in pins]:
        del images[gone]

    groups, mirror = {}, None

    def group(suite):
        nonlocal mirror
        if mirror is None:
            mirror = args.mirror_entry or choose_mirror(read_apt_sources(), host_codename())
            if mirror is None:
                raise Failure("no Debian archive found in this machine's apt configuration "
                              "(/etc/apt/sources.list.d/*.sources, /etc/apt/sources.list); "
                              "pass --mirror URI")
        if suite not in groups:
            groups[suite] = AptGroup(cache, suite, arch, mirror)
        return groups[suite]

    # Find or download the .deb of every stale image.
    debs, missing = {}, []
    for img in stale:
        pin = pins[img]
        g = AptGroup(cache, pin.suite, arch, None)
        deb = g.cached_deb(pin.package, pin.version)
        if deb:
            debs[img] = deb
        else:
            missing.append(img)
    if missing and args.offline:
        raise Failure("offline, but not cached: " + ", ".join(
            f"{pins[i].package} {pins[i].version}" for i in missing))
    try:
        errors = []
        for img in missing:
            g = group(pins[img].suite)
            g.update()
            if g.show(pins[img].package, pins[img].version) is None:
                errors.append(f"package {pins[img].package} version {pins[img].version} not "
                              f"found in {g.suite} ({arch}); available: {g.available(pins[img])}")
        if errors:
            for e in errors[:-1]:
                print(f"{PROG}: {e}", file=sys.stderr)
            raise Failure(errors[-1] + f" -- update the pin in {show_path(args.conf)}")
        for img in missing:
            debs[img] = group(pins[img].suite).download(pins[img])
    finally:
        for g in groups.values():
            g.tidy()

    # Extract.
    for img in stale:
        pin, deb = pins[img], debs[img]
        if img == "kernel":
            wanted = kernel_wanted(arch, out)
            pattern = ARCHES[arch]["kernel_member"]
            dest = wanted[pattern]
        elif img == "busybox":
            dest = out / "busybox" / "busybox"
            wanted = {m: dest for m in BUSYBOX_MEMBERS}
            pattern = None
        else:
            dest = out / "u-boot" / Path(pin.file).name
            pattern = pin.file
            wanted = {pattern: dest}
        found = extract_from_deb(deb, wanted)
        if img == "busybox":
            pattern = next((m for m in BUSYBOX_MEMBERS if m in found), None)
        if pattern not in found:
            what = pattern or " or ".join(BUSYBOX_MEMBERS)
            raise Failure(f"{deb.name} has no {what}")
        entry = {"package": pin.package, "version": pin.version, "suite": pin.suite,
                 "file": pin.file, "deb": deb.name, "deb_sha256": sha256_file(deb),
                 "member": found[pattern],
                 "path": str(dest.relative_to(out)), "sha256": sha256_file(dest),
                 "format": FORMAT}
        if img == "kernel":
            check_kernel(arch, dest)
            entry["release"] = found[pattern].split("-", 1)[1]
        images[img] = entry
        save_manifest(manifest_path, manifest)
        note(f"{img}: {pin.package} {pin.version} -> {show_path(dest)}")

    # The initramfs: rebuilt when busybox or the /init template changed.
    bb = images["busybox"]
    init_sha = hashlib.sha256(init_script).hexdigest()
    ird = images.get("initramfs")
    if args.rebuild or not entry_current(ird, None, out) or \
            ird.get("busybox_sha256") != bb["sha256"] or ird.get("init_sha256") != init_sha:
        data, applets = build_initramfs((out / bb["path"]).read_bytes(), init_script)
        dest = out / "initramfs.cpio.gz"
        write_atomic(dest, data)
        images["initramfs"] = {"path": dest.name, "sha256": hashlib.sha256(data).hexdigest(),
                               "busybox_sha256": bb["sha256"], "init_sha256": init_sha,
                               "init_template": os.path.relpath(init_path, ROOT)
                               if init_path.resolve().is_relative_to(ROOT) else str(init_path),
                               "applets": applets, "format": FORMAT}
        note(f"initramfs: busybox {bb['version']} + /init -> {show_path(dest)}")
        stale.append("initramfs")

    manifest["arch"] = arch
    manifest["format"] = FORMAT
    save_manifest(manifest_path, manifest)
    return out, manifest, stale, bool(groups)


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="fetch-images.py",
        description="Fetch and cache Debian guest images (kernel, busybox initramfs, "
                    "U-Boot) for Tessera. See docs/guest-images.md.")
    ap.add_argument("--arch", default="riscv64", choices=sorted(ARCHES))
    ap.add_argument("--conf", default=str(DEFAULT_CONF), help="pin file (default: %(default)s)")
    ap.add_argument("--cache", default=str(DEFAULT_CACHE), help="cache folder (default: %(default)s)")
    ap.add_argument("--init", default=str(DEFAULT_INIT), help="/init template (default: %(default)s)")
    ap.add_argument("--mirror", metavar="URI",
                    help="archive URI to use instead of the one in this machine's apt configuration")
    ap.add_argument("--offline", action="store_true",
                    help="never use the network; fail if something is not cached")
    ap.add_argument("--rebuild", action="store_true",
                    help="re-extract and rebuild every output (from cached packages)")
    ap.add_argument("--available", action="store_true",
                    help="list what the archive offers for each pin (for updating images.conf), then exit")
    ap.add_argument("--boot-check", action="store_true",
                    help="then boot the kernel (and U-Boot) natively in QEMU and time it")
    ap.add_argument("--timeout", type=float, default=120, help="boot check time limit, s")
    args = ap.parse_args(argv)
    args.mirror_entry = (args.mirror.rstrip("/"), ["main"], None, "--mirror") \
        if args.mirror else None
    try:
        if args.available:
            return list_available(args)
        out, manifest, changed, used_network = fetch(args)
        imgs = manifest["images"]
        how = "downloaded" if used_network else ("cached, no network used" if changed
                                                 else "all cached, nothing to do")
        note(f"{args.arch} images ready ({how}):")
        rows = [("kernel", imgs["kernel"], f"{imgs['kernel']['package']} {imgs['kernel']['version']}"),
                ("initramfs", imgs["initramfs"], f"busybox {imgs['busybox']['version']}")]
        if "uboot" in imgs:
            rows.append(("u-boot", imgs["uboot"], f"{imgs['uboot']['package']} "
                                                  f"{imgs['uboot']['version']}"))
        for name, e, what in rows:
            print(f"  {name:<10} {out / e['path']}  ({what})")
        print(f"  {'manifest':<10} {out / 'manifest.json'}")
        if args.boot_check:
            boot_check(args.arch, out, args.timeout)
            if "uboot" in imgs:
                uboot_check(args.arch, out, min(args.timeout, 60))
        return 0
    except Failure as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def list_available(args):
    pins = load_pins(args.conf, args.arch)
    mirror = args.mirror_entry or choose_mirror(read_apt_sources(), host_codename())
    if mirror is None:
        raise Failure("no Debian archive found in this machine's apt configuration; "
                      "pass --mirror URI")
    groups = {}
    ok = True
    for img, pin in pins.items():
        g = groups.setdefault(pin.suite, AptGroup(args.cache, pin.suite, args.arch, mirror))
        g.update()
        have = g.show(pin.package, pin.version) is not None
        ok &= have
        print(f"{args.arch}.{img}: pinned {pin.package} {pin.version} "
              f"({'available' if have else 'NOT AVAILABLE'} in {pin.suite})")
        print(f"    archive has: {g.available(pin)}")
    for g in groups.values():
        g.tidy()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

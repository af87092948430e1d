"""Offline tests for tools/fetch-images.py: apt sources parsing and mirror
choice, the pin file, the newc cpio writer and initramfs builder, apt output
parsing, and the promise that a fully cached run never calls apt.

No network, no QEMU, well under 5 s. Run: /usr/bin/python3 -m pytest -q tests/tools
"""

import gzip
import importlib.util
import json
import re
import stat
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "fetch-images.py"
CONF = ROOT / "tools" / "images.conf"
INIT = ROOT / "tools" / "initramfs" / "init"
DOC = ROOT / "docs" / "guest-images.md"

_spec = importlib.util.spec_from_file_location("fetch_images", TOOL)
fi = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fi)


# ------------------------------------------------------------ cpio reader

def read_cpio(data):
    """newc archive -> list of (name, mode, rdevmajor, rdevminor, data)."""
    entries, off = [], 0
    while True:
        assert data[off:off + 6] == b"070701", f"bad magic at {off}"
        f = [int(data[off + 6 + 8 * i: off + 14 + 8 * i], 16) for i in range(13)]
        mode, filesize, rmaj, rmin, namesize = f[1], f[6], f[9], f[10], f[11]
        name = data[off + 110: off + 110 + namesize - 1].decode()
        assert data[off + 110 + namesize - 1] == 0
        off += 110 + namesize
        off += -off % 4
        body = data[off: off + filesize]
        off += filesize
        off += -off % 4
        if name == "TRAILER!!!":
            return entries, off
        entries.append((name, mode, rmaj, rmin, body))


# ------------------------------------------------------- apt sources

DEB822 = """\
Types: deb
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: https://third.example/node
Suites: nodistro
Components: main
Enabled: no
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBF...
 -----END PGP PUBLIC KEY BLOCK-----
"""


def test_deb822_parsing():
    e = fi.parse_deb822_sources(DEB822, "x.sources")
    assert len(e) == 3
    assert e[0]["types"] == ["deb"]
    assert e[0]["uris"] == ["http://mirror.example/debian"]
    assert e[0]["suites"] == ["bookworm", "bookworm-updates"]
    assert e[0]["components"] == ["main", "contrib"]
    assert e[0]["signed_by"] == "/usr/share/keyrings/debian-archive-keyring.gpg"
    assert e[0]["enabled"] and e[0]["source"] == "x.sources"
    assert e[1]["suites"] == ["bookworm-security"]
    assert e[2]["enabled"] is False
    assert e[2]["signed_by"] is None          # inline key: not passed on


def test_deb822_field_names_are_case_insensitive_and_crlf_tolerant():
    e = fi.parse_deb822_sources("types: deb\r\nuris: http://m.example/d/\r\n"
                                "suites: trixie\r\ncomponents: main\r\n")
    assert e[0]["uris"] == ["http://m.example/d/"] and e[0]["suites"] == ["trixie"]


def test_one_line_parsing():
    text = """\
# comment
deb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main non-free-firmware
deb-src http://m.example/debian bookworm main
deb http://m.example/debian-security bookworm-security main   # trailing comment
   
garbage line
"""
    e = fi.parse_one_line_sources(text, "sources.list")
    assert [x["types"] for x in e] == [["deb"], ["deb-src"], ["deb"]]
    assert e[0]["signed_by"] == "/k.gpg"
    assert e[0]["components"] == ["main", "non-free-firmware"]
    assert e[0]["suites"] == ["bookworm"]
    assert e[2]["suites"] == ["bookworm-security"] and e[2]["signed_by"] is None


def test_read_apt_sources_and_choose(tmp_path):
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "sources.list.d" / "debian.sources").write_text(DEB822)
    (etc / "sources.list.d" / "other.list").write_text(
        "deb http://other.example/repo stable main\n")
    (etc / "sources.list.d" / "off.list.disabled").write_text(
        "deb http://never.example/ bookworm main\n")
    entries = fi.read_apt_sources(etc)
    assert len(entries) == 4                  # .disabled files are not read
    uri, comps, key, src = fi.choose_mirror(entries, "bookworm")
    assert uri == "http://mirror.example/debian"
    assert comps == ["main", "contrib"]
    assert key.endswith("debian-archive-keyring.gpg")
    assert src.endswith("debian.sources")


def test_choose_mirror_rules():
    sec = {"types": ["deb"], "uris": ["http://m/security"], "suites": ["bookworm-security"],
           "components": ["main"], "signed_by": None, "enabled": True, "source": "a"}
    third = dict(sec, uris=["http://t/x"], suites=["nodistro"], source="b")
    main = dict(sec, uris=["http://m/debian/"], suites=["bookworm", "bookworm-updates"],
                source="c")
    src = dict(main, types=["deb-src"], uris=["http://src/"])
    off = dict(main, enabled=False, uris=["http://off/"])
    cd = dict(main, uris=["cdrom:[Debian]/"])
    # The host's codename wins over an earlier third-party plain suite.
    assert fi.choose_mirror([sec, third, src, off, cd, main], "bookworm")[0] == "http://m/debian"
    # Without a codename: the first plain suite.
    assert fi.choose_mirror([sec, third, main], None)[0] == "http://t/x"
    assert fi.choose_mirror([sec, main], "trixie")[0] == "http://m/debian"
    assert fi.choose_mirror([sec, src, off, cd], "bookworm") is None
    assert fi.choose_mirror([], None) is None
    # No components given: main.
    assert fi.choose_mirror([dict(main, components=[])], "bookworm")[1] == ["main"]


def test_host_codename(tmp_path):
    p = tmp_path / "os-release"
    p.write_text('NAME="Debian GNU/Linux"\nVERSION_CODENAME=bookworm\n')
    assert fi.host_codename(p) == "bookworm"
    p.write_text('NAME="x"\n')
    assert fi.host_codename(p) is None
    assert fi.host_codename(tmp_path / "missing") is None


def test_private_apt_options_stay_in_the_cache(tmp_path):
    g = fi.AptGroup(tmp_path, "trixie", "riscv64", ("http://m.example/debian", ["main"],
                                                    "/k.gpg", "x"))
    opts = g.options()
    pairs = dict(o.split("=", 1) for o in opts[1::2] if "::=" not in o)
    for k in ("Dir::Etc::sourcelist", "Dir::State::Lists", "Dir::State::status",
              "Dir::Cache", "Dir::Cache::archives", "Dir::Cache::pkgcache",
              "Dir::Cache::srcpkgcache"):
        assert pairs[k].startswith(str(tmp_path)), k
    assert pairs["Dir::Etc::sourceparts"] == "/dev/null"
    assert pairs["APT::Architecture"] == "riscv64"
    assert "APT::Architectures::=riscv64" in opts and "APT::Architectures::=all" in opts
    g.prepare()
    line = (g.dir / "sources.list").read_text().splitlines()[-1]
    assert line == "deb [signed-by=/k.gpg] http://m.example/debian trixie main"


# --------------------------------------------------------------- pin file

def test_real_pin_file():
    values = fi.parse_pin_file(CONF.read_text(), str(CONF))
    rv = fi.pins_for_arch(values, "riscv64")
    assert set(rv) == {"kernel", "busybox", "uboot"}
    assert rv["kernel"].suite == "trixie"
    assert re.fullmatch(r"linux-image-6\.12\.\S+-riscv64", rv["kernel"].package)
    assert rv["busybox"].package == "busybox-static"
    assert rv["uboot"].suite == "bookworm" and rv["uboot"].package == "u-boot-qemu"
    assert rv["uboot"].file == "usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"
    amd = fi.pins_for_arch(values, "amd64")
    assert set(amd) == {"kernel", "busybox"}
    assert amd["kernel"].suite == "bookworm" and amd["kernel"].package.endswith("-amd64")
    for pins in (rv, amd):
        for p in pins.values():
            assert p.version and " " not in p.version


GOOD = """\
# comment
riscv64.suite = trixie
riscv64.kernel.package = linux-image-6.12.1+deb13-riscv64   # trailing comment
riscv64.kernel.version = 6.12.1-1
riscv64.busybox.package = busybox-static
riscv64.busybox.version = 1:1.37.0-6
"""


def test_pin_file_minimal():
    pins = fi.pins_for_arch(fi.parse_pin_file(GOOD), "riscv64")
    assert set(pins) == {"kernel", "busybox"}
    assert pins["kernel"].package == "linux-image-6.12.1+deb13-riscv64"
    assert pins["busybox"].version == "1:1.37.0-6"
    assert pins["kernel"].meta is None


@pytest.mark.parametrize("text, message", [
    ("riscv64.suite trixie\n", r"t.conf:1: expected 'key = value'"),
    ("riscv64.suite = a\nriscv64.suite = b\n", r"t.conf:2: riscv64.suite set twice \(first on line 1\)"),
    ("riscv64.kernel.pakage = x\n", r"t.conf:1: unknown field 'pakage'"),
    ("riscv64.kernal.package = x\n", r"t.conf:1: unknown image 'kernal'"),
    ("riscv64.mirror = x\n", r"t.conf:1: unknown key 'riscv64.mirror'"),
    ("riscv64 = x\n", r"t.conf:1: bad key 'riscv64'"),
    ("riscv64.suite =\n", r"t.conf:1: riscv64.suite has an empty value"),
    ("riscv64.suite = a b\n", r"t.conf:1: riscv64.suite value 'a b' contains blanks"),
])
def test_pin_file_syntax_errors(text, message):
    with pytest.raises(fi.Failure, match=message):
        fi.parse_pin_file(text, "t.conf")


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("riscv64.kernel.version = 6.12.1-1\n", ""),
     r"riscv64.kernel.version is missing"),
    (lambda t: t.replace("riscv64.suite = trixie\n", ""), r"no suite for riscv64 kernel"),
    (lambda t: t + "riscv64.uboot.package = u-boot-qemu\nriscv64.uboot.version = 1\n",
     r"riscv64.uboot.file is missing"),
    (lambda t: t + "riscv64.kernel.file = boot/x\n", r"riscv64.kernel.file is only for uboot"),
    (lambda t: t.replace("riscv64.", "arm64."), r"no pins for arch riscv64 \(pinned: arm64\)"),
])
def test_pin_file_semantic_errors(edit, message):
    with pytest.raises(fi.Failure, match=message):
        fi.pins_for_arch(fi.parse_pin_file(edit(GOOD), "t.conf"), "riscv64", "t.conf")


def test_pin_suite_override_and_leading_slash():
    text = GOOD + ("riscv64.uboot.suite = bookworm\nriscv64.uboot.package = u-boot-qemu\n"
                   "riscv64.uboot.version = 2023.01\nriscv64.uboot.file = /usr/lib/x/u-boot.bin\n")
    pins = fi.pins_for_arch(fi.parse_pin_file(text), "riscv64")
    assert pins["uboot"].suite == "bookworm" and pins["kernel"].suite == "trixie"
    assert pins["uboot"].file == "usr/lib/x/u-boot.bin"


def test_load_pins_missing_file(tmp_path):
    with pytest.raises(fi.Failure, match="cannot read pin file"):
        fi.load_pins(tmp_path / "nope.conf", "riscv64")


# ------------------------------------------------------------ apt output

def test_parse_madison_and_stanzas():
    text = (" busybox-static | 1:1.37.0-6+b9 | http://m/debian trixie/main riscv64 Packages\n"
            " busybox-static | 1:1.37.0-6+b9 | http://m/debian trixie/main all Packages\n"
            "linux-image-6.12.94+deb13-riscv64 |  6.12.94-1 | http://m/debian trixie/main\n")
    assert fi.parse_madison(text) == [("busybox-static", "1:1.37.0-6+b9"),
                                      ("linux-image-6.12.94+deb13-riscv64", "6.12.94-1")]
    st = fi.parse_control_stanzas("Package: a\nVersion: 1\nDescription: x\n more\n\n"
                                  "Package: b\nSHA256: ff\n")
    assert st == [{"Package": "a", "Version": "1", "Description": "x\nmore"},
                  {"Package": "b", "SHA256": "ff"}]


def test_similar_names():
    names = ["linux-image-6.12.94+deb13-riscv64", "linux-image-6.12.107+deb13-riscv64",
             "linux-image-6.12.107+deb13-riscv64-dbg", "linux-image-riscv64",
             "linux-image-6.12.107+deb13-riscv64-unsigned", "linux-image-6.1.0-9-amd64"]
    assert fi.similar_names("linux-image-6.12.200+deb13-riscv64", names) == [
        "linux-image-6.12.107+deb13-riscv64", "linux-image-6.12.94+deb13-riscv64"]
    assert fi.similar_names("linux-image-6.1.0-50-amd64",
                            names + ["linux-image-6.1.0-50-cloud-amd64"]) == \
        ["linux-image-6.1.0-9-amd64"]
    assert fi.name_prefix("linux-image-6.12.1-riscv64") == "linux-image-"
    assert fi.name_prefix("busybox-static") == "busybox-static"
    assert fi.quote_version("1:1.37.0-6+b9") == "1%3a1.37.0-6+b9"


def test_cached_deb_lookup(tmp_path):
    g = fi.AptGroup(tmp_path, "trixie", "riscv64", None)
    assert g.cached_deb("busybox-static", "1:1.37.0-6") is None
    g.debs.mkdir(parents=True)
    (g.debs / "busybox-static_1%3a1.37.0-6_riscv64.deb").write_bytes(b"x")
    (g.debs / "busybox-static_1%3a1.37.0-7_riscv64.deb").write_bytes(b"x")
    assert g.cached_deb("busybox-static", "1:1.37.0-6").name == \
        "busybox-static_1%3a1.37.0-6_riscv64.deb"
    assert g.cached_deb("busybox-static", "1:1.37.0-8") is None


def test_check_kernel(tmp_path):
    rv = bytearray(0x240)
    rv[0:2] = b"MZ"
    rv[0x30:0x38] = b"RISCV\0\0\0"
    rv[0x38:0x3c] = b"RSC\x05"
    (tmp_path / "Image").write_bytes(rv)
    fi.check_kernel("riscv64", tmp_path / "Image")
    (tmp_path / "bad").write_bytes(bytes(0x240))
    with pytest.raises(fi.Failure, match="not a RISC-V Image"):
        fi.check_kernel("riscv64", tmp_path / "bad")
    x86 = bytearray(0x240)
    x86[0x1fe:0x200] = b"\x55\xaa"
    x86[0x202:0x206] = b"HdrS"
    (tmp_path / "bzImage").write_bytes(x86)
    fi.check_kernel("amd64", tmp_path / "bzImage")
    with pytest.raises(fi.Failure, match="not an x86 bzImage"):
        fi.check_kernel("amd64", tmp_path / "Image")


# ------------------------------------------------------------ cpio writer

def test_cpio_round_trip():
    w = fi.CpioWriter()
    w.directory("bin")
    w.directory("/dev/")
    w.chardev("dev/console", 5, 1)
    w.file("bin/busybox", b"\x7fELF" + b"x" * 13, 0o755)
    w.symlink("bin/sh", "busybox")
    w.file("init", b"#!/bin/sh\n", 0o755)
    data = w.finish()
    assert len(data) % 512 == 0
    entries, end = read_cpio(data)
    assert data[end:] == b"\0" * (len(data) - end)
    names = [e[0] for e in entries]
    assert names == ["bin", "dev", "dev/console", "bin/busybox", "bin/sh", "init"]
    by = {e[0]: e for e in entries}
    assert stat.S_ISDIR(by["bin"][1]) and stat.S_IMODE(by["bin"][1]) == 0o755
    assert stat.S_ISCHR(by["dev/console"][1]) and by["dev/console"][2:4] == (5, 1)
    assert stat.S_ISREG(by["bin/busybox"][1]) and by["bin/busybox"][4] == b"\x7fELFxxxxxxxxxxxxx"
    assert stat.S_ISLNK(by["bin/sh"][1]) and by["bin/sh"][4] == b"busybox"
    assert stat.S_IMODE(by["init"][1]) == 0o755
    # Every header starts 4-aligned; inode numbers are unique.
    for m in re.finditer(rb"070701", data):
        assert m.start() % 4 == 0
    inos = [int(data[m.start() + 6:m.start() + 14], 16) for m in re.finditer(rb"070701", data)]
    assert len(set(inos[:-1])) == len(inos) - 1
    assert w.finish() == data                  # idempotent


def test_cpio_header_fields():
    w = fi.CpioWriter(mtime=0x1234)
    w.file("a", b"hello")
    data = w.finish()
    hdr = data[:110].decode()
    f = [int(hdr[6 + 8 * i: 14 + 8 * i], 16) for i in range(13)]
    assert hdr[:6] == "070701"
    assert f[1] == stat.S_IFREG | 0o644       # mode
    assert f[2] == 0 and f[3] == 0             # uid, gid
    assert f[5] == 0x1234                      # mtime
    assert f[6] == 5                           # filesize
    assert f[11] == 2                          # namesize with NUL
    assert f[12] == 0                          # check
    assert data[110:112] == b"a\0"
    assert data[112:117] == b"hello"           # 110 + 2 = 112 is 4-aligned


def test_cpio_rejects_bad_order_and_duplicates():
    w = fi.CpioWriter()
    with pytest.raises(ValueError, match="before its directory"):
        w.file("bin/sh", b"")
    w.directory("bin")
    with pytest.raises(ValueError, match="duplicate"):
        w.directory("bin")
    with pytest.raises(ValueError):
        w.file("", b"")
    w.finish()
    with pytest.raises(ValueError, match="finished"):
        w.directory("x")


FAKE_BUSYBOX = (b"\x7fELF junk\0" + b"\0".join(
    a.encode() for a in sorted(fi.APPLETS_REQUIRED + ("nproc", "setsid"))) + b"\0tail")


def test_build_initramfs():
    init = INIT.read_bytes()
    gz, applets = fi.build_initramfs(FAKE_BUSYBOX, init)
    gz2, _ = fi.build_initramfs(FAKE_BUSYBOX, init)
    assert gz == gz2                            # reproducible bytes
    assert gz[:2] == b"\x1f\x8b"
    entries, _ = read_cpio(gzip.decompress(gz))
    by = {e[0]: e for e in entries}
    for d in ("bin", "dev", "proc", "sys"):
        assert stat.S_ISDIR(by[d][1])
    assert stat.S_ISCHR(by["dev/console"][1]) and by["dev/console"][2:4] == (5, 1)
    assert by["init"][4] == init and stat.S_IMODE(by["init"][1]) == 0o755
    assert by["bin/busybox"][4] == FAKE_BUSYBOX
    for a in fi.APPLETS_REQUIRED + ("nproc", "setsid"):
        assert a in applets and by[f"bin/{a}"][4] == b"busybox"
    assert "cttyhack" not in applets and "bin/cttyhack" not in by
    with pytest.raises(fi.Failure, match="no 'poweroff' applet"):
        fi.build_initramfs(FAKE_BUSYBOX.replace(b"\0poweroff\0", b"\0"), init)


def test_init_template():
    text = INIT.read_text()
    assert text.startswith("#!/bin/sh\n")
    for needle in ("mount -t proc", "mount -t sysfs", "mount -t devtmpfs", "uname -r",
                   "TESSERA-CPUS", "MemTotal", "TESSERA-USERLAND-OK", "tessera.shell=1",
                   "poweroff -f"):
        assert needle in text, needle


# --------------------------------------------------- cached runs, offline

def make_cache(tmp_path, pins):
    """A cache that matches pins, made without apt."""
    out = tmp_path / "cache" / "riscv64"
    images = {}
    for img, path, data in (("kernel", "linux/Image", b"kernel"),
                            ("busybox", "busybox/busybox", FAKE_BUSYBOX),
                            ("uboot", "u-boot/u-boot.bin", b"uboot")):
        if img not in pins:
            continue
        p = out / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        pin = pins[img]
        images[img] = {"package": pin.package, "version": pin.version, "suite": pin.suite,
                       "file": pin.file, "path": path, "sha256": fi.sha256_file(p),
                       "format": fi.FORMAT}
    fi.save_manifest(out / "manifest.json", {"images": images})
    return out


@pytest.fixture
def no_apt(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("apt or dpkg-deb was called")
    monkeypatch.setattr(fi.AptGroup, "run", refuse)
    monkeypatch.setattr(fi, "extract_from_deb", refuse)
    monkeypatch.setattr(fi, "read_apt_sources", refuse)


def test_cached_run_uses_no_apt(tmp_path, no_apt, capsys):
    conf = tmp_path / "images.conf"
    conf.write_text(CONF.read_text())
    init = tmp_path / "init"
    init.write_bytes(INIT.read_bytes())
    pins = fi.load_pins(conf, "riscv64")
    out = make_cache(tmp_path, pins)
    args = ["--conf", str(conf), "--cache", str(tmp_path / "cache"), "--init", str(init)]
    # First run: only the initramfs is built (from the cached busybox).
    assert fi.main(args) == 0
    text = capsys.readouterr().out
    assert "initramfs: busybox" in text and "cached, no network used" in text
    m = json.loads((out / "manifest.json").read_text())
    assert m["images"]["initramfs"]["sha256"] == fi.sha256_file(out / "initramfs.cpio.gz")
    # Second run: nothing to do.
    assert fi.main(args) == 0
    text = capsys.readouterr().out
    assert "all cached, nothing to do" in text
    assert str(out / "linux" / "Image") in text and str(out / "initramfs.cpio.gz") in text
    # A changed /init template rebuilds the initramfs, still without apt.
    init.write_bytes(INIT.read_bytes() + b"# changed\n")
    assert fi.main(args) == 0
    assert "initramfs: busybox" in capsys.readouterr().out


def test_changed_pin_needs_network_and_offline_says_so(tmp_path, no_apt, capsys):
    conf = tmp_path / "images.conf"
    conf.write_text(CONF.read_text())
    pins = fi.load_pins(conf, "riscv64")
    make_cache(tmp_path, pins)
    conf.write_text(re.sub(r"(?m)^riscv64\.kernel\.version\s*=.*$",
                           "riscv64.kernel.version = 9.9-9", CONF.read_text()))
    rc = fi.main(["--conf", str(conf), "--cache", str(tmp_path / "cache"), "--offline"])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("fetch-images: offline, but not cached: linux-image-")
    assert "9.9-9" in err


def test_tampered_output_is_not_current(tmp_path):
    pins = fi.load_pins(CONF, "riscv64")
    out = make_cache(tmp_path, pins)
    m = fi.load_manifest(out / "manifest.json")
    assert fi.entry_current(m["images"]["kernel"], pins["kernel"], out)
    assert not fi.entry_current(m["images"]["kernel"], pins["busybox"], out)
    (out / "linux" / "Image").write_bytes(b"other")
    assert not fi.entry_current(m["images"]["kernel"], pins["kernel"], out)
    assert not fi.entry_current(None, pins["kernel"], out)
    assert fi.load_manifest(tmp_path / "none.json") == {"images": {}}


# --------------------------------------------------------- house rules

def test_no_host_names_in_my_files():
    url = re.compile(r"\b[a-z][a-z0-9+.-]*://[A-Za-z0-9]")
    for f in (TOOL, CONF, INIT, DOC):
        if f.exists():
            hits = url.findall(f.read_text())
            assert not hits, f"{f.name} names a host: {hits}"

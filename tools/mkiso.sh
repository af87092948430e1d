#!/usr/bin/env bash
# Make a GRUB (BIOS) rescue ISO that boots a Tessera x86 image as a multiboot
# kernel, as a real PC would boot it: tools/mkiso.sh tessera.elf32 out.iso
set -euo pipefail
elf=$1
iso=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/boot/grub"
cp "$elf" "$tmp/boot/tessera.elf32"
cat > "$tmp/boot/grub/grub.cfg" <<'CFG'
set timeout=0
set default=0
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
menuentry "Tessera" {
	multiboot /boot/tessera.elf32
	boot
}
CFG
grub-mkrescue -o "$iso" "$tmp" >/dev/null 2>&1 || {
	echo "mkiso: grub-mkrescue failed (packages grub-pc-bin grub-common xorriso mtools)" >&2
	exit 1
}

#!/usr/bin/env bash
# Install what building and testing Tessera needs on Debian 12, once.
# As root it runs apt-get; otherwise it prints the exact command to run.
set -euo pipefail

PKGS=(
  make gcc libc6-dev                       # host build, unit tests
  gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu
  qemu-system-misc opensbi                 # qemu-system-riscv64 + fw_jump.bin
  device-tree-compiler                     # dtc: per-VM device trees
  libcmocka-dev                            # unit tests
  python3 python3-pytest python3-pexpect   # config tool, integration tests
  qemu-system-x86                          # x86: SVM under TCG
  grub-pc-bin grub-common xorriso mtools   # x86: GRUB ISO boot
  bochs bochsbios vgabios bochs-term       # x86: Intel VMX under Bochs
  gnuplot-nox                              # make bench: the exit-cost chart
  clang libclang-rt-14-dev                 # make fuzz: libFuzzer + ASan/UBSan runtimes
  cppcheck clang-tidy                      # make lint
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "tessera: installing missing packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "tessera: not root; run this, then try again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

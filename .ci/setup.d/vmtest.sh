#!/usr/bin/env bash
# Stock-kernel lane (make vmtest): qemu (TCG); busybox-static, bash-static and cpio for the
# initramfs; gcc for testdata/attach/uprobe_target; xz/zstd to unpack kernel modules. The lane
# fetches the kernels itself on its first run and caches them in /var/cache/ecli-vmtest.
# Idempotent.
set -euo pipefail
pkgs=(qemu-system-x86 busybox-static bash-static cpio gzip xz-utils zstd gcc libc6-dev apt dpkg)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

#!/usr/bin/env bash
# fetch-kernel.sh VERSION — print the path of a cached Debian stock vmlinuz for VERSION
# (5.10 = bullseye, 6.1 = bookworm, 6.12 = trixie), downloading it first if needed.
#
# apt runs with a private configuration (own sources list, state and cache directories under
# $VMTEST_CACHE), so the machine's apt setup is left alone. The Debian mirror is read at run
# time from the machine's own apt sources; it is never written down in the repository.
set -euo pipefail

ver=${1:?usage: fetch-kernel.sh 5.10|6.1|6.12}
cache=${VMTEST_CACHE:-/var/cache/ecli-vmtest}
case "$ver" in
  5.10) suite=bullseye ;;
  6.1)  suite=bookworm ;;
  6.12) suite=trixie ;;
  *) echo "fetch-kernel.sh: unknown kernel $ver (want 5.10, 6.1 or 6.12)" >&2; exit 2 ;;
esac

dir=$cache/$suite
out=$dir/vmlinuz
# modules/.v2: the module tree holds kernel/drivers/block too (loop, for the block tools).
if [ -s "$out" ] && [ -s "$dir/version" ] && [ -s "$dir/config" ] && [ -e "$dir/modules/.v2" ]; then echo "$out"; exit 0; fi
mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/etc/preferences.d"

# The mirror: first Debian archive URI (not the security archive) in the machine's apt sources,
# in either the deb822 (*.sources) or the one-line (*.list) format.
mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    case "$f" in
      *.sources) awk 'tolower($1)=="uris:" {for (i=2;i<=NF;i++) print $i}' "$f" ;;
      *) awk '$1=="deb" {for (i=2;i<=NF;i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i ~ /:\/\//) {print $i; break}}' "$f" ;;
    esac
  done | grep -v -e security -e '^cdrom:' | grep '/debian/\?$' | head -n1
}
url=$(mirror)
if [ -z "$url" ]; then
  echo "fetch-kernel.sh: no Debian archive URI found in /etc/apt/sources.list or /etc/apt/sources.list.d/" >&2
  exit 1
fi

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
aptopts=(-o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=-
  -o Dir::Etc::preferencesparts="$dir/etc/preferences.d" -o Dir::Etc::preferences="$dir/etc/preferences"
  -o Dir::State::Lists="$dir/lists" -o Dir::State::status=/dev/null -o Dir::Cache="$dir"
  -o Dir::Cache::archives="$dir/archives" -o APT::Architecture=amd64 -o Debug::NoLocking=1
  -o Acquire::Languages=none -o APT::Get::List-Cleanup=0)

update() {
  apt-get "${aptopts[@]}" -q update >"$dir/update.log" 2>&1
}
echo "deb [signed-by=$keyring] $url $suite main" >"$dir/sources.list"
if ! update || grep -q -e NO_PUBKEY -e 'not signed' -e EXPKEYSIG "$dir/update.log"; then
  # The archive keyring of this machine may not know the suite's key (e.g. an older Debian
  # host and trixie); fall back to an unchecked list and say so.
  echo "fetch-kernel.sh: signature check failed for $suite, retrying with [trusted=yes]:" >&2
  sed 's/^/  /' "$dir/update.log" >&2
  echo "deb [trusted=yes] $url $suite main" >"$dir/sources.list"
  update || { cat "$dir/update.log" >&2; exit 1; }
fi

# linux-image-amd64 is a meta-package; its Depends names the concrete linux-image-<abi>-amd64
# (the ABI changes with point releases).
pkg=$(apt-cache "${aptopts[@]}" show linux-image-amd64 | sed -n 's/^Depends: *//p' | head -n1 |
  tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep '^linux-image-' | head -n1)
if [ -z "$pkg" ]; then
  echo "fetch-kernel.sh: no linux-image-* in the Depends of linux-image-amd64 ($suite)" >&2
  exit 1
fi
(cd "$dir/archives" && apt-get "${aptopts[@]}" -q download "$pkg" >"$dir/download.log" 2>&1) ||
  { cat "$dir/download.log" >&2; exit 1; }
deb=$(ls -t "$dir/archives/${pkg}"_*.deb | head -n1)
rm -rf "$dir/x"
dpkg-deb -x "$deb" "$dir/x"
vmlinuz=$(ls "$dir"/x/boot/vmlinuz-* | head -n1)
cp "$vmlinuz" "$out.tmp"
# The kernel's build configuration: the lane reads CONFIG_LSM from it (the LSMs the kernel
# enables by default) to build its lsm= boot parameter.
cp "$(ls "$dir"/x/boot/config-* | head -n1)" "$dir/config"
basename "$vmlinuz" | sed 's/^vmlinuz-//' >"$dir/version"
mv "$out.tmp" "$out"
# Network modules (kernel/net: sch_ingress and cls_bpf for tc without tcx, sch_netem, ...)
# and block drivers (kernel/drivers/block: loop, for biolatency/biosnoop/bitesize), decompressed, so that the lane can put the ones it needs into the initramfs. The package
# has no modules.dep (depmod makes it on install); test/vm reads dependencies from .modinfo.
rm -rf "$dir/modules"
mods=
for m in "$dir"/x/lib/modules/* "$dir"/x/usr/lib/modules/*; do [ -d "$m" ] && mods=$m && break; done
if [ -n "$mods" ] && [ -d "$mods/kernel/net" ]; then
  mkdir -p "$dir/modules.tmp"
  cp -a "$mods/kernel/net" "$dir/modules.tmp/"
  [ ! -d "$mods/kernel/drivers/block" ] || cp -a "$mods/kernel/drivers/block" "$dir/modules.tmp/"
  find "$dir/modules.tmp" -name '*.ko.xz' -exec xz -d {} +
  find "$dir/modules.tmp" -name '*.ko.zst' -exec zstd -q -d --rm {} +
  find "$dir/modules.tmp" -name '*.ko.gz' -exec gzip -d {} +
  mv "$dir/modules.tmp" "$dir/modules"
else
  mkdir -p "$dir/modules"
fi
touch "$dir/modules/.v2"
rm -rf "$dir/x" "$deb" "$dir/lists"
echo "$out"

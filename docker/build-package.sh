#!/usr/bin/env bash
# Compile one *.bpf.c (+ optional header naming the exported structs) into an ecli/eunomia
# package, the way eunomia's ecc does. Used by `make packages` on the host and by the compile
# image's entrypoint, so both produce identical bytes for the same source and compiler.
#
#   build-package.sh [-o OUT.json] [-b OBJ.bpf.o] SRC.bpf.c [HEADER.h]
#
# Environment: CLANG (clang-19), STRIP (llvm-strip-19), BTFEXPORT (btfexport on PATH, else
# bin/btfexport next to this script's repo), ECLI_INCLUDE (directory holding vmlinux/<arch>/ and ecli/,
# default: include/ next to this script, or /usr/share/ecli/include), ECLI_ARCH (x86),
# EXTRA_CFLAGS (more clang flags, word-split).
set -euo pipefail

die() { echo "build-package: $*" >&2; exit 1; }

out="" obj=""
while getopts "o:b:" opt; do
  case $opt in
    o) out=$OPTARG ;;
    b) obj=$OPTARG ;;
    *) die "usage: build-package.sh [-o OUT.json] [-b OBJ.bpf.o] SRC.bpf.c [HEADER.h]" ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: build-package.sh [-o OUT.json] [-b OBJ.bpf.o] SRC.bpf.c [HEADER.h]"
src=$1 hdr=${2:-}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLANG=${CLANG:-clang-19}
STRIP=${STRIP:-llvm-strip-19}
ECLI_ARCH=${ECLI_ARCH:-x86}
if [ -z "${BTFEXPORT:-}" ]; then
  if [ -x "$here/../bin/btfexport" ]; then BTFEXPORT=$here/../bin/btfexport
  else BTFEXPORT=btfexport; fi
fi
if [ -z "${ECLI_INCLUDE:-}" ]; then
  if [ -d "$here/../include/vmlinux" ]; then ECLI_INCLUDE=$(cd "$here/../include" && pwd)
  else ECLI_INCLUDE=/usr/share/ecli/include; fi
fi
vmlinux_dir=$ECLI_INCLUDE/vmlinux/$ECLI_ARCH
[ -f "$vmlinux_dir/vmlinux.h" ] || die "$vmlinux_dir/vmlinux.h: not found (set ECLI_INCLUDE)"
command -v "$CLANG" >/dev/null || die "$CLANG: not found (set CLANG)"
command -v "$STRIP" >/dev/null || die "$STRIP: not found (set STRIP)"
command -v "$BTFEXPORT" >/dev/null || die "$BTFEXPORT: not found (run make bin/btfexport or set BTFEXPORT)"

[ -f "$src" ] || die "$src: no such file"
case $src in *.bpf.c) ;; *) die "$src: not a *.bpf.c file" ;; esac
[ -z "$hdr" ] || [ -f "$hdr" ] || die "$hdr: no such header"
base=$(basename "$src")
name=${base%%.*}
srcdir=$(cd "$(dirname "$src")" && pwd)
out=${out:-$srcdir/package.json}

# Always /tmp/ecli-build.XXXXXX (TMPDIR ignored): see the note on determinism below.
tmp=$(mktemp -d /tmp/ecli-build.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The compile sees only relative paths: the working directory holds a copy of the source (with
# ecc's anchors appended when a header is given, so every struct the header defines lands in
# the object's BTF), `s` -> the source directory and `i` -> vmlinux.h and the ecli/ headers. clang's
# BTF output depends on the lengths of the paths it is given, so absolute paths would make the
# bytes differ between the host (make packages) and the image (/src).
cp "$src" "$tmp/$base"
ln -s "$srcdir" "$tmp/s"
# `i` holds vmlinux.h and ecli/ (the shared tool headers: include/ecli/*.h), so a tool writes
# #include "ecli/ecli.h" and the compile line is the same whether it does or not.
mkdir "$tmp/i"
ln -s "$vmlinux_dir/vmlinux.h" "$tmp/i/vmlinux.h"
[ ! -d "$ECLI_INCLUDE/ecli" ] || ln -s "$ECLI_INCLUDE/ecli" "$tmp/i/ecli"
if [ -n "$hdr" ]; then
  structs=$("$BTFEXPORT" -header-structs "$hdr") || die "$hdr: cannot read"
  {
    echo
    for s in $structs; do
      echo "const volatile struct $s * __eunomia_dummy_${s}_ptr __attribute__((unused));"
    done
  } >>"$tmp/$base"
fi

multiarch=()
for d in /usr/include/"$(uname -m)"-linux-gnu /usr/include/x86_64-linux-gnu; do
  [ -d "$d" ] && { multiarch=(-idirafter "$d"); break; }
done

# Determinism: LLVM's BTF writer orders forward declarations by the address of their metadata
# (a std::map keyed by pointer), so the type ids it emits depend on the compiler's heap layout,
# which depends on the lengths of its arguments, working directory and environment. So clang
# gets a fixed environment, runs cc1 in a fresh process, in a directory whose path always has
# the same length, with the same arguments on the host and in the image.
# shellcheck disable=SC2086
rc=0
(cd "$tmp" && env -i PATH=/usr/local/bin:/usr/bin:/bin LC_ALL=C "$(command -v "$CLANG")" -fno-integrated-cc1 -g -O2 -target bpf -D__TARGET_ARCH_"$ECLI_ARCH" -Wno-unknown-attributes \
  -fdebug-prefix-map="$tmp"=. -Ii -Is "${multiarch[@]}" ${EXTRA_CFLAGS:-} \
  -c "$base" -o "$name.bpf.o") 2>"$tmp/clang.err" || rc=$?
# Diagnostics name the user's files, not the link names the compile saw.
sed -e 's#\(^\|from \)s/#\1#' -e 's#\(^\|from \)i/vmlinux\.h#\1vmlinux.h#' "$tmp/clang.err" >&2
[ "${rc:-0}" -eq 0 ] || die "$src: compile failed"
"$STRIP" -g "$tmp/$name.bpf.o" || die "$src: $STRIP failed"

args=(-name "$name" -src "$src" -o "$out" "$tmp/$name.bpf.o")
[ -z "$hdr" ] || args+=("$hdr")
rc=0
# btfexport's errors name the object by the name the user knows, not the build directory.
"$BTFEXPORT" "${args[@]}" 2>"$tmp/btfexport.err" || rc=$?
sed -e "s#$tmp/##g" "$tmp/btfexport.err" >&2
[ "${rc:-0}" -eq 0 ] || die "$src: btfexport failed"
if [ -n "$obj" ]; then
  cp "$tmp/$name.bpf.o" "$obj.tmp.$$" && mv -f "$obj.tmp.$$" "$obj" || die "$obj: cannot write"
fi

#!/usr/bin/env bash
# Entrypoint of the ecli compile image: compile the *.bpf.c in /src (or in $ECLI_SRC) into
# packages, like eunomia's ecc image.
#
#   docker run -it --user $(id -u):$(id -g) -v $(pwd):/src IMAGE
#
# One *.bpf.c (+ at most one *.h, *.bpf.h excepted): writes package.json and <name>.bpf.o.
# Several *.bpf.c: writes <name>.json and <name>.bpf.o for each, with <name>.h as its header
# when it exists.
set -uo pipefail
shopt -s nullglob

dir=${ECLI_SRC:-/src}
die() { echo "ecli-compile: $*" >&2; exit 1; }

[ -d "$dir" ] || die "$dir: no such directory (mount your source folder: -v \$(pwd):/src)"
cd "$dir" || die "$dir: cannot enter"
probe=".ecli-write-test.$$"
if ! (: >"$probe") 2>/dev/null; then
  die "$dir: not writable by uid $(id -u) (run with --user \$(id -u):\$(id -g) on a folder you own)"
fi
rm -f "$probe"

sources=(*.bpf.c)
[ ${#sources[@]} -gt 0 ] || die "$dir: no *.bpf.c to compile"

headers=()
for h in *.h; do
  case $h in *.bpf.h) ;; *) headers+=("$h") ;; esac
done

if [ ${#sources[@]} -eq 1 ]; then
  src=${sources[0]}
  name=${src%%.*}
  hdr=()
  if [ -f "$name.h" ]; then
    hdr=("$name.h")
  elif [ ${#headers[@]} -eq 1 ]; then
    hdr=("${headers[0]}")
  elif [ ${#headers[@]} -gt 1 ]; then
    die "$dir: several headers (${headers[*]}) and none named $name.h: which one defines the event?"
  fi
  build-package.sh -o package.json -b "$name.bpf.o" "$src" "${hdr[@]}" || exit 1
  echo "ecli-compile: $src${hdr:+ + ${hdr[0]}} -> package.json, $name.bpf.o"
  exit 0
fi

failed=0
for src in "${sources[@]}"; do
  name=${src%%.*}
  hdr=()
  [ -f "$name.h" ] && hdr=("$name.h")
  if build-package.sh -o "$name.json" -b "$name.bpf.o" "$src" "${hdr[@]}"; then
    echo "ecli-compile: $src${hdr:+ + ${hdr[0]}} -> $name.json, $name.bpf.o"
  else
    failed=$((failed + 1))
  fi
done
[ $failed -eq 0 ] || die "$failed of ${#sources[@]} sources failed"

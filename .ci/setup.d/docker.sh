#!/usr/bin/env bash
# Docker for the compile-image tests: install docker.io + debootstrap, start dockerd, and build
# the compile image's two bases without a registry, once per machine:
#   ecli-base:bookworm  debootstrap minbase + docker import (the Dockerfile's BASE)
#   ecli-go:bookworm    that base plus this machine's Go toolchain (the Dockerfile's GO_BASE)
# Idempotent: a running dockerd and existing bases are reused; ecli-go is rebuilt when the
# host's Go version changes.
set -euo pipefail

BASE_IMAGE=${ECLI_BASE_IMAGE:-ecli-base:bookworm}
GO_IMAGE=${ECLI_GO_IMAGE:-ecli-go:bookworm}
DOCKERD_LOG=${ECLI_DOCKERD_LOG:-/tmp/ecli-dockerd.log}

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Start dockerd unless a daemon already answers.
if ! docker info >/dev/null 2>&1; then
  echo "docker.sh: starting dockerd (log: $DOCKERD_LOG)"
  nohup dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    echo "docker.sh: dockerd did not come up within 60s; last lines of $DOCKERD_LOG:" >&2
    tail -n 20 "$DOCKERD_LOG" >&2 || true
    exit 1
  fi
fi

# build_base: debootstrap minbase bookworm from the Debian mirror this machine uses, then
# docker import it as BASE_IMAGE.
build_base() {
# The Debian mirror this machine already uses for bookworm: read it from the apt sources at run
# time (deb822 *.sources first, then one-line *.list / sources.list). Never hard-coded.
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -e "$f" ] || continue
  mirror=$(awk '
    /^[[:space:]]*$/ { if (uri != "" && suite ~ /(^| )bookworm( |$)/) { print uri; exit } uri=""; suite=""; next }
    /^URIs:/ { uri=$2 }
    /^Suites:/ { $1=""; suite=$0 " " }
    END { if (uri != "" && suite ~ /(^| )bookworm( |$)/) print uri }' "$f" | head -n1)
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1) == "bookworm") { print $i; exit } break } }' | head -n1)
fi
if [ -z "$mirror" ]; then
  echo "docker.sh: no bookworm mirror found in /etc/apt/sources.list{,.d}" >&2
  exit 1
fi

root=$(mktemp -d /tmp/ecli-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "docker.sh: debootstrap --variant=minbase bookworm (takes a few minutes)"
start=$(date +%s)
debootstrap --variant=minbase bookworm "$root" "$mirror" >/tmp/ecli-debootstrap.log 2>&1 || {
  echo "docker.sh: debootstrap failed; last lines of /tmp/ecli-debootstrap.log:" >&2
  tail -n 20 /tmp/ecli-debootstrap.log >&2
  exit 1
}
# debootstrap leaves /etc/apt/sources.list pointing at the same mirror (bookworm main), which
# the Dockerfile's apt-get uses for clang-19 etc.; drop the downloaded .debs and lists.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import - "$BASE_IMAGE" >/dev/null
echo "docker.sh: imported $BASE_IMAGE in $(( $(date +%s) - start ))s"
}

# build_go: BASE_IMAGE plus the host's GOROOT and the host's CA bundle (the builder stage
# downloads modules through whatever TLS the host trusts), so the compile image's btfexport is
# built by the same Go as host builds. The build context is a tar stream: no copy of GOROOT.
build_go() {
  local goroot=$1 version=$2 ctx
  ctx=$(mktemp -d /tmp/ecli-go.XXXXXX)
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  cat >"$ctx/Dockerfile" <<EOF
FROM $BASE_IMAGE
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY $(basename "$goroot") /usr/local/go
ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin GOTOOLCHAIN=local
EOF
  echo "docker.sh: building $GO_IMAGE ($version from $goroot)"
  tar -c -C "$ctx" Dockerfile ca-certificates.crt -C "$(dirname "$goroot")" "$(basename "$goroot")" |
    docker build -q -t "$GO_IMAGE" --label "ecli.goversion=$version" - >/dev/null
  rm -rf "$ctx"
}

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "docker.sh: $BASE_IMAGE present (cached)"
else
  build_base
fi

go=$(command -v go || echo /usr/local/go/bin/go)
version=$("$go" env GOVERSION)
have=$(docker image inspect -f '{{ index .Config.Labels "ecli.goversion" }}' "$GO_IMAGE" 2>/dev/null || true)
if [ "$have" = "$version" ]; then
  echo "docker.sh: $GO_IMAGE present ($version, cached)"
else
  build_go "$("$go" env GOROOT)" "$version"
fi

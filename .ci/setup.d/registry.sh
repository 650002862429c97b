#!/usr/bin/env bash
# OCI registry tests (ecli/internal/oci, ecli push/pull/login): Debian's docker-registry
# (distribution v2), which the tests start themselves on 127.0.0.1, and htpasswd (bcrypt
# password files for the basic-auth tests). Idempotent; starts no service.
set -euo pipefail
missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
true

#!/usr/bin/env bash
# Metrics tests (test/metrics): Debian's prometheus, which the test starts itself on a free
# loopback port with a 1 s scrape interval. Its own service must not start (nor bind
# :9090): a policy-rc.d refusing every service start is in place while it is installed,
# and the service is stopped and disabled if an init system started it anyway. Idempotent.
set -euo pipefail
command -v prometheus >/dev/null 2>&1 && exit 0
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  own_policy=1
fi
trap '[ -n "$own_policy" ] && rm -f "$policy"' EXIT
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
true

#!/usr/bin/env bash
# Installs Debian's nginx for the deployment topology test (tests/production/test_topology.py),
# unless an nginx is already there. The test runs deploy/nginx.conf with it, as the compose file's
# nginx container does. Tests look for it at $NGINX_PATH, else /usr/sbin/nginx (Debian's path).
# Only the binary is used: the package's own site is neither started nor enabled by the test.
set -euo pipefail

target="${NGINX_PATH:-/usr/sbin/nginx}"
if [[ -x "$target" ]]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "nginx not found at $target and apt-get is unavailable: install nginx and set NGINX_PATH." >&2
  exit 1
fi
sudo=""
if [[ "$(id -u)" != "0" ]]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "Installing nginx needs root: run 'apt-get install -y nginx' as root." >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# The package starts its default site on port 80 where services may start; the test runs its
# own nginx and needs none. policy-rc.d tells the package scripts not to start services.
policy=/usr/sbin/policy-rc.d
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends nginx >/dev/null
echo "installed $("$target" -v 2>&1)"

#!/usr/bin/env bash
# Installs Debian's Chromium for the widget's browser tests, unless a Chromium is already there.
# Tests look for it at $CHROMIUM_PATH, else /usr/bin/chromium (Debian's package path).
# Playwright's own browser download is not used: it fetches a browser build from outside the
# package registries, which not every network allows.
set -euo pipefail

target="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ -x "$target" ]]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Chromium not found at $target and apt-get is unavailable: install Chromium and set CHROMIUM_PATH." >&2
  exit 1
fi
sudo=""
if [[ "$(id -u)" != "0" ]]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "Installing Chromium needs root: run 'apt-get install -y chromium' as root." >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
echo "installed $(chromium --version 2>/dev/null || echo chromium)"

#!/usr/bin/env bash
# Refresh the socket.io browser client the chat widget ships with (bot/rasa_adapter/channels/widget/vendor/).
# The file is committed, so running the bot never needs npm or a CDN; run this only to upgrade.
# Usage: scripts/vendor-socketio.sh [version]   (then update the pinned checksum below)
set -euo pipefail

VERSION="${1:-4.8.1}"
# sha256 of dist/socket.io.min.js in socket.io-client@4.8.1 from the npm registry.
EXPECTED_SHA256="b0e735814f8dcfecd6cdb8a7ce95a297a7e1e5f2727a29e6f5901801d52fa0c5"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$here/bot/rasa_adapter/channels/widget/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "socket.io-client@$VERSION" >/dev/null && tar xzf socket.io-client-*.tgz)
actual="$(sha256sum "$work/package/dist/socket.io.min.js" | cut -d' ' -f1)"
if [[ "$VERSION" == "4.8.1" && "$actual" != "$EXPECTED_SHA256" ]]; then
  echo "checksum mismatch for socket.io.min.js: $actual" >&2
  exit 1
fi
mkdir -p "$dest"
cp "$work/package/dist/socket.io.min.js" "$dest/socket.io.min.js"
cp "$work/package/LICENSE" "$dest/socket.io-client.LICENSE"
echo "socket.io-client $VERSION sha256 $actual" > "$dest/VERSION"
echo "vendored socket.io-client $VERSION into bot/rasa_adapter/channels/widget/vendor/"

"""Headless Chromium for the widget tests: Debian's package, found at $CHROMIUM_PATH or
/usr/bin/chromium (installed by scripts/install-chromium.sh)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    return path if os.access(path, os.X_OK) else None


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as a test artefact (test-artifacts/ is not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^\w.-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


# The widget lives in an open shadow root; these read its state the way a script on the page can.
ACTIVE_ELEMENT = """() => {
  const host = document.getElementById('massagebot-webchat');
  const el = host && host.shadowRoot.activeElement;
  if (!el) return null;
  return {tag: el.tagName.toLowerCase(), cls: el.className, text: el.textContent.trim(),
          label: el.getAttribute('aria-label')};
}"""

"""The website chat widget, served by the bot itself at `/webchat/`.

Listed in credentials.yml next to Rasa's `socketio` channel, which carries the conversation;
this channel only serves files: `/webchat/widget.js` (the vendored socket.io client and our
widget in one script, so a clinic's site needs a single tag and no CDN), `/webchat/widget.css`
and a demo page at `/webchat/`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

WIDGET_PACKAGE = "bot.rasa_adapter.channels.widget"


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


def _read(name: str) -> str:
    return resources.files(WIDGET_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def _asset(body: str, content_type: str) -> Asset:
    data = body.encode("utf-8")
    return Asset(data, content_type, '"' + hashlib.sha256(data).hexdigest()[:32] + '"')


def bundle_widget() -> str:
    """socket.io client + widget in one script, without touching the host page's globals.

    The client's UMD wrapper sees a local `module` and exports there instead of setting
    `window.io`, so a site that already uses another socket.io version keeps it.
    """
    vendor = _read("vendor/socket.io.min.js")
    widget = _read("widget.js")
    return (
        "/* Massage clinic chat widget. Bundles socket.io-client (MIT licence, header below). */\n"
        "(function () {\n"
        "var module = { exports: {} }; var exports = module.exports; var define;\n"
        f"{vendor}\n"
        "var io = module.exports;\n"
        f"{widget}\n"
        "})();\n"
    )


@lru_cache(maxsize=1)
def assets() -> dict[str, Asset]:
    """The files, read once: they only change with a new release of the bot."""
    return {
        "widget.js": _asset(bundle_widget(), "application/javascript; charset=utf-8"),
        "widget.css": _asset(_read("widget.css"), "text/css; charset=utf-8"),
        "index.html": _asset(_read("demo.html"), "text/html; charset=utf-8"),
    }


def serve(request: Request, name: str) -> HTTPResponse:
    asset = assets()[name]
    headers = {
        "ETag": asset.etag,
        "Cache-Control": "public, max-age=300",
        # Any clinic site may embed the widget; the files hold nothing private.
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("If-None-Match") == asset.etag:
        return response.empty(status=304, headers=headers)
    return response.raw(asset.body, content_type=asset.content_type, headers=headers)


class WebchatInput(InputChannel):
    """Serves the widget; messages themselves go through Rasa's `socketio` channel."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def url_prefix(self) -> str:
        # Absolute, so Rasa's urljoin("/webhooks/", …) leaves it at the site root.
        return "/webchat"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webchat = Blueprint("webchat", __name__)

        @webchat.route("/", methods=["GET"])
        async def demo(request: Request) -> HTTPResponse:
            return serve(request, "index.html")

        @webchat.route("/widget.js", methods=["GET"])
        async def widget_js(request: Request) -> HTTPResponse:
            return serve(request, "widget.js")

        @webchat.route("/widget.css", methods=["GET"])
        async def widget_css(request: Request) -> HTTPResponse:
            return serve(request, "widget.css")

        return webchat

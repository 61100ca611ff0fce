"""Starting the stub bot (tests/support/stub_bot.py) with every messaging channel switched on."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.rasa_adapter.serve import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[2]

# Test-only secrets; the channels read them from the environment like in production.
SECRETS = {
    "TELEGRAM_ACCESS_TOKEN": "123456:test-telegram-token",
    "TELEGRAM_SECRET_TOKEN": "telegram-secret-for-tests",
    "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/webhooks/telegram/webhook",
    "SLACK_BOT_TOKEN": "xoxb-test-token",
    "SLACK_SIGNING_SECRET": "slack-signing-secret-for-tests",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "twilio-auth-token-for-tests",
    "TWILIO_SMS_NUMBER": "+15005550006",
    "TWILIO_WHATSAPP_NUMBER": "+14155238886",
    "FACEBOOK_VERIFY_TOKEN": "fb-verify-for-tests",
    "FACEBOOK_APP_SECRET": "fb-app-secret-for-tests",
    "FACEBOOK_PAGE_ACCESS_TOKEN": "fb-page-token-for-tests",
    # The staff token Telegram's /set_webhook asks for.
    "RASA_TOKEN": "staff-token-for-tests",
}


def channel_env(fake_api_url: str) -> dict[str, str]:
    """Secrets plus every channel's API base URL pointed at the fake platforms."""
    return {
        **SECRETS,
        "TELEGRAM_API_BASE_URL": f"{fake_api_url}/telegram",
        "SLACK_API_BASE_URL": f"{fake_api_url}/slack/api",
        "FACEBOOK_API_BASE_URL": f"{fake_api_url}/facebook",
        "TWILIO_API_BASE_URL": f"{fake_api_url}/twilio",
    }


@dataclass
class StubBot:
    url: str
    process: subprocess.Popen


@contextmanager
def run_stub_bot(
    fake_api_url: str | None, log_path: Path, port: int | None = None
) -> Iterator[StubBot]:
    """Run the stub bot with the repo's credentials.yml; without `fake_api_url` no messaging
    variable is set, as for a clinic that only uses the website."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    if fake_api_url:
        env.update(channel_env(fake_api_url))
    env["RASA_TELEMETRY_ENABLED"] = "false"
    # One secret for every run, so a widget session survives the stub bot's restart.
    env["SESSION_SECRET"] = "stub-bot-session-secret-for-tests-only"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "tests" / "support" / "stub_bot.py"),
                "--port",
                str(port),
                "--credentials",
                str(ROOT / "credentials.yml"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url + "/", timeout=60, process=process, interval=0.2)
            yield StubBot(url, process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

"""Helpers shared by the tests, one module per subject; the fixtures built on them are in the
conftest.py files (tests/conftest.py for everything shared).

- `bots`: a real bot (Rasa + action server) on free ports, the trained model, REST messages.
- `deployments`: Rasa instances and action servers started like a deployment (scale-out, outages).
- `network`: a TCP proxy that can cut a connection (the database "goes down").
- `services`: PostgreSQL and Redis on loopback, a fresh database or key space per test; a clear
  failure when they don't answer (`python -m tests.support.services` checks them for CI).
- `clinics`: a clinic built in code with known hours, and a settable clock.
- `trackers`: a Rasa SDK Tracker for testing actions.
- `servers`, `stub_bot`, `fake_platforms`, `webhooks`: the stub bot (real channels, a scripted
  agent), the messaging platforms' APIs faked on loopback, and their signed webhooks.
- `browser`: headless Chromium for the widget tests.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

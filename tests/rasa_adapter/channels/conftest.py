"""Fixtures for channel tests: the fake platform APIs and the stub bot wired to them."""

from tests.support.fixtures import fake_platforms, platforms, stub_bot

__all__ = ["fake_platforms", "platforms", "stub_bot"]

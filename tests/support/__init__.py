"""Test doubles and helpers shared by the channel and widget tests."""

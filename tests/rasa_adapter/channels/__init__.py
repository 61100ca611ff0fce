"""Messaging channels: formatting, signatures and webhooks."""

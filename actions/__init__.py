"""Rasa SDK custom actions: a thin layer over the `bot` package."""

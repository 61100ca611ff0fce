"""Booking domain logic: understanding dates and contacts, availability, storage and hand-off.

Nothing here imports Rasa, so the same code serves the action server, the staff CLI and tests.
"""

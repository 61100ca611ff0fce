"""Booking domain logic: what the client asked for (`wanted_time`), the clinic's rules (`rules`),
choosing a time against the diary (`time_choice`, `availability`), contacts, storage and hand-off.

Nothing here imports Rasa, so the same code serves the action server, the staff CLI and tests.
"""

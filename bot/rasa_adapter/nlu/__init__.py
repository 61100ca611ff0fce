"""Rasa NLU pieces of the bot: the text cleaner, the warning-sign detector, the spaCy pipeline."""

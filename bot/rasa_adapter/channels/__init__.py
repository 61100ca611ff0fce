"""Rasa input/output channels: the website widget and the messaging apps."""

"""The clinic's domain: facts, the curated FAQ, triage, text cleaning, booking and hand-off.

Nothing here imports Rasa (the import-linter contracts in pyproject.toml enforce it), so the
clinic's rules can be read, tested and reused without the chatbot framework.
"""

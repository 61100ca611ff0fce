"""The project's own spaCy English: a blank tokenizer plus lookup lemmas, nothing downloaded.

No pretrained English model for spaCy 3.4 can be downloaded where the bot is built. Tokens and
lemmas are all the bot needs: the lookup tables come with `spacy-lookups-data`, offline. Rasa's
`SpacyNLP` loads this pipeline from disk (bot/rasa_adapter/nlu/spacy_model.py) and the triage
builds its reader on the same one (bot/clinic/triage).
"""

from __future__ import annotations

import spacy
from spacy.language import Language


def english() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp

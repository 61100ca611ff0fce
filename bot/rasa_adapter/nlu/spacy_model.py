"""Save the project's own spaCy pipeline (`bot.clinic.language.english`) for Rasa's `SpacyNLP`.

Rasa loads a spaCy pipeline by path; this writes the same blank English with lookup lemmas that
the triage reads with (no pretrained model can be downloaded where the bot is built).
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_PATH = Path("var/spacy/en_massagebot")


def build(path: Path = DEFAULT_PATH) -> Path:
    from bot.clinic.english import english

    nlp = english()
    nlp.meta.update(
        {
            "name": "massagebot",
            "version": "1.0.0",
            "description": "Blank English tokenizer with lookup lemmas for the clinic chatbot",
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args()
    if (args.path / "meta.json").exists():
        print(f"spaCy pipeline already at {args.path}")
        return
    print(f"spaCy pipeline written to {build(args.path)}")


if __name__ == "__main__":
    main()

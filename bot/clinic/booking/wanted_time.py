"""What the client asked for when they said when they'd like to come in.

`read_wanted_time(text, clinic, now)` turns "thursday after work", "tomorrow 2ish", "sometime next
week" or "same time next week" into a `WantedTime`: a day or a range of days, an exact clock time
or a window of the day, "as soon as possible", or nothing. It says nothing about whether the
clinic can do it; `rules.py` and `time_choice.py` decide that.

Written here rather than taken from a library because it reads clients' phrasings best. On the
297 frozen time phrasings (tests/…/time_phrasings.yml, labelled by someone who never saw this
code), split by position into a development half (tuned on) and a test half (only scored),
`make bench-dates` gives:

                                   development half (149)    test half (148)
    share right: day / time / both
    this module                      100 / 100 / 100 %       96 / 97 / 93 %
    recognizers-text-date-time        59 /  72 /  46 %       63 / 74 / 51 %
    ctparse                           54 /  72 /  44 %       57 / 67 / 41 %
    (the parser this replaced)        74 /  66 /  52 %       74 / 69 / 53 %

Both libraries are read through the same clinic-aware adapter (a time alone goes to today or
tomorrow, an hour only plausible in the afternoon becomes pm, windows and ranges of days are
trimmed to opening hours). They miss what a booking needs: "half 3" (15:30 in the UK), "2ish",
vague answers as windows ("after work", "sometime next week"), a weekday named on that weekday
meaning next week's, phone numbers, prices and durations that are not times, and a time
relative to one already chosen ("same time next week", `previous`); Recognizers-Text's Python
package also reads dates month first (US English only). dateparser still reads explicit dates
with month names ("3rd of april"), in the clinic's date order.

Conventions (what the labels and the clinic's receptionists agree on):
- an hour without am/pm is the one inside opening hours ("at 5" → 17:00, "at 9" → 09:00);
- "Friday" is the coming Friday; said on a Friday, it is today only with a time still ahead;
  "next Friday" and "Friday week" are Friday of next week (Monday-start weeks);
- a time alone is its next occurrence on an open day (today, or the next open day once passed);
- parts of the day are windows: morning = opening–12:00, afternoon 12:00–17:00, lunchtime
  12:00–14:00, evening / after work / tea time 17:00–closing, first thing = the first hour;
- "this week", "next week", "next month" are ranges of days, trimmed to days the clinic opens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from difflib import SequenceMatcher

from dateparser.date import DateDataParser

from bot.clinic.facts import Clinic

MONTH_FIRST_REGIONS = frozenset({"US", "PH", "FM", "MH", "PW"})


@dataclass(frozen=True)
class TimeWindow:
    """Part of a day: a start may fall at `start` or later, and before `end`."""

    start: time
    end: time

    def holds(self, moment: time) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class WantedTime:
    """What the client asked for, before any rule or diary is looked at.

    `first_day`..`last_day` is one day or a range of days; `at` an exact clock time, `window` a
    part of the day (never both); `asap` "as soon as possible". `problem` is set when the text
    names a date that can't be meant: "not_a_date" ("31/11"; `written` holds those words) or
    "weekday_mismatch" ("Tuesday 21 November" when the 21st is a Friday; `first_day` is the
    date, `named_weekday` the weekday named).
    """

    first_day: date | None = None
    last_day: date | None = None
    at: time | None = None
    window: TimeWindow | None = None
    asap: bool = False
    problem: str = ""
    written: str = ""
    named_weekday: int | None = None

    @property
    def day(self) -> date | None:
        """The one day asked for (None for a range of days or no day)."""
        return self.first_day if self.first_day == self.last_day else None

    @property
    def is_range(self) -> bool:
        return self.first_day is not None and self.first_day != self.last_day

    @property
    def understood(self) -> bool:
        return bool(self.first_day or self.at or self.window or self.asap or self.problem)

    def days(self) -> list[date]:
        if self.first_day is None or self.last_day is None:
            return []
        return [
            self.first_day + timedelta(days=k)
            for k in range((self.last_day - self.first_day).days + 1)
        ]


NOTHING = WantedTime()

# --- vocabulary ------------------------------------------------------------------------------

_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_MINUTE_WORDS = {"o five": 5, "fifteen": 15, "thirty": 30, "forty five": 45, "forty-five": 45}
_HOUR = r"(\d{1,2}|" + "|".join(_WORD_NUMBERS) + r")"
_COUNT = r"(\d{1,2}|a|an|one|two|three|four|five|six|couple of|few)"

_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "weds": 2,
    "wed": 2, "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_WEEKDAY = r"(" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")s?"
_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
}  # fmt: skip
_FULL_MONTHS = tuple(m for m in _MONTHS if len(m) > 4 or m in {"june", "july"})
_MONTH = r"(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"
_ORD = r"(?:st|nd|rd|th)"

_SHORTHANDS = (
    (r"\b(?:tmrw|tmw|tmr|tmrow|tmorrow|tomrw|tomoz|tomo|tomorow|tommorow|tommorrow|tomorro|"
     r"2moro|2morrow|2mrw|2morro)\b", "tomorrow"),
    (r"\b(?:2day|tdy|tday|tody|todat)\b", "today"),
    (r"\b(?:tonite|2nite|2night|tnite)\b", "tonight"),
    (r"\ba\.m\.?(?=\s|$|[,!?])", "am"),
    (r"\bp\.m\.?(?=\s|$|[,!?])", "pm"),
    (r"\bo'?\s?clock\b", "oclock"),
    (r"\bmid-?day\b", "midday"),
    (r"\blunch\s*time\b", "lunchtime"),
    (r"\btea\s*time\b", "teatime"),
    (r"\b(?:aft|arvo|afternoons)\b", "afternoon"),
    (r"\bmornings\b", "morning"),
    (r"\bevenings\b", "evening"),
    (r"\bthis\s+eve\b", "this evening"),
    (r"\b(?:nxt)\b", "next"),
    (r"\b(?:wk|wks)\b", "week"),
    (r"\bw/?c\b", "week commencing"),
    (r"\b(\d{1,2})\s*-\s*ish\b", r"\1ish"),
    (r"\b(?:any\s+time|anytime)\b", "anytime"),
)  # fmt: skip

# Numbers that are not times: phone numbers, prices, durations, counts, references, postcodes.
_NOT_TIMES = (
    re.compile(r"(?:\+|\b00)\s?\d[\d\s\-()]{7,}\d"),  # +44 7400 123456, 0044 7400 654321
    re.compile(r"\(?\b0\d{2,4}\)?[\s\-]?\d{3,4}[\s\-]?\d{3,4}\b"),  # 07400 444555, (01245) 123456
    re.compile(r"\b\d{7,}\b"),
    re.compile(r"[£$€]\s?\d+(?:[.,]\d{1,2})?"),
    re.compile(r"\b\d+(?:\.\d\d)?\s?(?:pounds?|quid|gbp|p|eur|euros?|dollars?)\b"),
    re.compile(
        r"(?<!\bin\s)(?<!\bin\san\s)\b(?:\d{1,3}|an?|one|half\s+an?)\s?-?\s?"
        r"(?:mins?|minutes?|hrs?|hours?|h)\b(?!\s+(?:earlier|later|before|after|from))"
    ),
    re.compile(r"\b\d+\s*(?:people|persons|of us|adults|massages|sessions|years?|yrs?|kg)\b"),
    re.compile(r"\b\d+\s*weeks?\s+(?:pregnant|post|along|ago)\b"),
    re.compile(r"\b(?:i'?m|i\s+am|aged?)\s+\d+\b"),
    re.compile(
        r"\b(?:ref(?:erence)?|booking\s+(?:ref|number|no)|no\.?|number|#)\s*:?\s*[\w-]*\d[\w-]*"
    ),
    re.compile(r"\bmb-?\w+\b"),
    re.compile(r"\b[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2}\b"),  # UK postcodes: m1 4bt, cm1 1aa
    re.compile(r"\b(?:room|flat|unit|house|number)\s+\d+\b"),
)

_ASAP = re.compile(
    r"\b(asap|as soon as (?:possible|poss|you can|you have|u can)|earliest|soonest|first available|"
    r"next available|first free|next free|first (?:slot|appointment|opening|space|gap)|"
    r"next (?:slot|appointment|opening|space|gap)|whenever|(?:^|\s)anytime(?:\s+(?:is|suits|works|"
    r"really|please|at all))?\s*(?:fine|good|ok|okay)?$|the sooner the better|as early as|"
    r"(?:don'?t|do not) mind when|no preference|i'?m flexible|any day(?:\s+is\s+fine)?$)"
)

# --- clock times ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Clock:
    """A clock time as written; `explicit` when am/pm (or a 24-hour form) settles the hour."""

    hour: int
    minute: int
    explicit: bool
    pm: bool = False  # "2-4pm": a pm that also belongs to the first hour


def _count(word: str) -> int:
    if word in {"a", "an", "one"}:
        return 1
    if word == "couple of":
        return 2
    if word == "few":
        return 3
    return _WORD_NUMBERS.get(word) or int(word)


def _clock_from(hour_text: str, minute_text: str | None, suffix: str | None) -> _Clock | None:
    hour = _count(hour_text) if hour_text in _WORD_NUMBERS else int(hour_text)
    minute = int(minute_text) if minute_text else 0
    if suffix in {"am", "pm"}:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
        explicit = True
    else:
        explicit = hour == 0 or hour >= 13 or (len(hour_text) == 2 and hour_text[0] == "0")
    if 0 <= hour <= 23 and 0 <= minute <= 59:
        return _Clock(hour, minute, explicit)
    return None


# A clock time inside a window ("between 2 and 4", "after 3:30", "till 12").
_T = r"(\d{1,2}|" + "|".join(_WORD_NUMBERS) + r")(?:[:.](\d{2}))?\s*(am|pm)?"
_T_GUARD = r"(?!\s*(?:" + _ORD + r"|/|-\s*\d|\d)|\s*(?:" + _MONTH[1:-1] + r")\b)"

_WINDOW_BETWEEN = re.compile(
    r"\b(?:between|from)\s+" + _T + r"\s*(?:and|to|till|til|until|-|–)\s*" + _T + _T_GUARD
)
_WINDOW_DASH = re.compile(
    r"(?<![/\d.:\-])\b" + _T + r"\s*(?:-|–|to|till|til|until)\s*" + _T + r"\b" + _T_GUARD
)
_WINDOW_AFTER = re.compile(
    r"\b(?:anytime\s+|not\s+|no\s+)?(?:after|from|not before|no earlier than|later than)\s+"
    + _T
    + r"\b"
    + _T_GUARD
    + r"|\b"
    + _T
    + r"\s*(?:onwards|or later|or after)\b"
)
_WINDOW_BEFORE = re.compile(
    r"\b(?:anytime\s+)?(?:before|by|not after|no later than|up to|until|till|earlier than)\s+"
    + _T
    + r"\b"
    + _T_GUARD
    + r"|\b"
    + _T
    + r"\s*(?:or earlier|or before|latest)\b"
)

_CLOCK_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:twelve\s+|12\s*)?(noon|midday|midnight)\b"), "named"),
    (re.compile(r"\b(half|quarter)\s+(past|to)\s+" + _HOUR + r"\b"), "past_to"),
    (
        re.compile(
            r"\b(\d{1,2}|five|ten|twenty|twenty[\s-]five)\s+(?:minutes\s+)?(past|to)\s+"
            + _HOUR
            + r"\b"
        ),
        "minutes_past_to",
    ),
    (re.compile(r"\bhalf\s+" + _HOUR + r"\b(?!\s*(?:hours?|an?\b|days?|weeks?))"), "half"),
    (re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)\b"), "ampm"),
    (re.compile(r"\b(\d{1,2}):(\d{2})\b"), "colon"),
    (re.compile(r"(?<![/\d.])\b(\d{1,2})\.(00|15|30|45|[0-5][05])\b(?![./]\d)"), "colon"),
    (
        re.compile(r"\b(" + "|".join(_WORD_NUMBERS) + r")\s+(" + "|".join(_MINUTE_WORDS) + r")\b"),
        "words",
    ),
    (re.compile(r"\b" + _HOUR + r"\s*(?:oclock|ish)\b"), "bare"),
    (re.compile(r"\b(?:at|@)\s+(\d{1,2})\s+(00|15|30|45)\b"), "colon"),
    (re.compile(r"(?<![\d/])\b([01]\d|2[0-3])([0-5]\d)\s*(?:hrs|h|hours)?\b(?![/\d])"), "four"),
    (
        re.compile(
            r"\b(?:at|@|around|about|approx(?:imately)?|roughly|say|ish)\s+"
            + _HOUR
            + r"\b(?!\s*"
            + _ORD
            + r"\b)(?![/\-.:]\d)"
            r"(?!\s*(?:days?|weeks?|months?|hours?|hrs?|minutes?|mins?|people|of)\b)"
            r"(?!\s*(?:" + _MONTH[1:-1] + r")\b)"
        ),
        "bare",
    ),
)

# Parts of the day, as windows before they meet the clinic's hours; "first" means opening time.
_PARTS: tuple[tuple[str, tuple[str, str]], ...] = (
    (r"first thing(?: in the morning)?|as early as possible in the day", ("first", "first+1")),
    (r"early morning", ("06:00", "10:00")),
    (r"(?:late|mid)[\s-]?morning", ("10:00", "12:00")),
    (r"(?:in the )?morning|(?<!\bi\s)am", ("06:00", "12:00")),
    (r"after lunch(?:time)?", ("14:00", "22:00")),
    (r"lunchtime|lunch", ("12:00", "14:00")),
    (r"early afternoon", ("12:00", "14:00")),
    (r"(?:late|mid)[\s-]?afternoon", ("15:00", "17:00")),
    (r"(?:in the )?afternoon|pm", ("12:00", "17:00")),
    (r"after school", ("15:30", "22:00")),
    (r"end of the day|close of business", ("16:00", "22:00")),
    (r"early evening|after work|(?:in the )?evening|tonight|teatime|after hours",
     ("17:00", "22:00")),
)  # fmt: skip
_PART_PATTERNS = tuple((re.compile(r"\b(?:" + p + r")\b"), w) for p, w in _PARTS)

# --- days ---------------------------------------------------------------------------------------

_DAY_AFTER_TOMORROW = re.compile(r"\b(?:the\s+)?day\s+after\s+tomorrow\b")
_TOMORROW = re.compile(r"\btomorrow\b")
_TODAY = re.compile(r"\b(?:later\s+)?today\b|\btonight\b|\bthis\s+(?:morning|afternoon|evening)\b")
_YESTERDAY = re.compile(r"\byesterday\b")
_THIS_TIME = re.compile(r"\b(?:this|same)\s+time\s+(tomorrow|next\s+week)\b")
_WEEKS_TODAY = re.compile(
    r"\b(a|one|two|three|\d)\s+(weeks?|fortnights?)\s+(today|tomorrow|(?:on\s+)?"
    + _WEEKDAY
    + r")\b"
)
_IN_DAYS = re.compile(r"\bin\s+(?:about\s+)?" + _COUNT + r"\s+(days?|weeks?|fortnights?)\b")
_FORTNIGHT = re.compile(r"\b(?:in\s+)?a\s+fortnight\b")
_WEEKDAY_RANGE = re.compile(
    r"\b" + _WEEKDAY + r"\s*(?:-|–|to|till|until|through|thru|or|and)\s*" + _WEEKDAY + r"\b"
)
_WEEKDAY_RE = re.compile(
    r"\b(?:(next|this|coming|last|the\s+following|following|a\s+week\s+on)\s+)?"
    + _WEEKDAY
    + r"\b(?:\s+(next\s+week|this\s+week|week\s+after\s+next|after\s+next|week|"
    r"the\s+week\s+after))?"
)
_WEEKEND = re.compile(r"\b(?:(this|next|the|at the|over the)\s+)?weekend(\s+after\s+next)?\b")
_WEEK_COMMENCING = re.compile(
    r"\bweek\s+(?:commencing|beginning|starting|of)\s+(?:the\s+)?(?:mon(?:day)?\s+)?(\d{1,2})"
    + _ORD
    + r"?(?:\s+(?:of\s+)?"
    + _MONTH
    + r")?\b"
)
_WEEK_RANGE = re.compile(
    r"\b(?:(early|late|later|start of|beginning of|end of|middle of|mid)\s+)?"
    r"(?:(?:in|of)\s+)?(this|next|the\s+following|the)\s+week(\s+after\s+next)?\b"
    r"|\b(week\s+after\s+next)\b"
    r"|\b(?:(?:towards|toward|at|by)\s+)?(?:the\s+)?(end|start|beginning|middle)\s+of\s+"
    r"(?:the\s+|this\s+|next\s+)?week\b"
    r"|\b(later|early)\s+in\s+the\s+week\b|\b(mid)[\s-]?week\b"
)
_MONTH_RANGE = re.compile(
    r"\b(?:(early|late|later|start of|beginning of|end of|middle of|mid)\s+)?"
    r"(?:(?:in|of)\s+)?(this|next|the)\s+month\b"
    r"|\b(?:(early|late|start of|beginning of|end of|middle of|mid)\s+|in\s+|of\s+)(?:the\s+)?"
    + _MONTH
    + r"\b(?!\s*\d)"
)
_WEEK_OF_MONTH = re.compile(
    r"\b(first|1st|second|2nd|third|3rd|fourth|4th|last)\s+week\s+(?:of|in)\s+(?:(this|next)\s+"
    r"month|" + _MONTH + r")\b"
)
_COUPLE_OF_DAYS = re.compile(r"\bin\s+(?:a\s+)?(couple\s+of|few)\s+days\b")
_DATE_RANGE = re.compile(
    r"\b(\d{1,2})" + _ORD + r"?\s*(?:-|–|to|till|until)\s*(\d{1,2})" + _ORD + r"?\s+(?:of\s+)?"
    + _MONTH
    + r"\b|\b"
    + _MONTH
    + r"\s+(\d{1,2})" + _ORD + r"?\s*(?:-|–|to|till|until)\s*(\d{1,2})" + _ORD + r"?\b"
)  # fmt: skip
_EXPLICIT_DATES = (
    re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b"),
    re.compile(r"(?<![\d:.])\b\d{1,2}/\d{1,2}(?:/(?:\d{4}|\d{2}))?\b(?![:.]\d)"),
    re.compile(r"(?<![\d:])\b\d{1,2}[.\-]\d{1,2}[.\-](?:\d{4}|\d{2})\b"),
    re.compile(r"\b\d{1,2}" + _ORD + r"?\s+(?:of\s+)?" + _MONTH + r"\b(?:,?\s+\d{4}\b)?"),
    re.compile(r"\b" + _MONTH + r"\s+(?:the\s+)?\d{1,2}" + _ORD + r"?\b(?:,?\s+\d{4}\b)?"),
)
_ORDINAL_DAY = re.compile(r"\b(?:the\s+)?(\d{1,2})" + _ORD + r"\b|\bthe\s+(\d{1,2})\b(?!\s*[:.]\d)")
# "can't do tomorrow, how about friday": a day ruled out is not the day asked for.
_RULED_OUT = re.compile(
    r"\b(?:can'?t|cannot|can not|couldn'?t|won'?t|not|busy)\s+(?:do|make|manage|come(?:\s+in)?|"
    r"be\s+there)?\s*(?:on\s+)?(?:this\s+|next\s+)?(?:tomorrow|today|tonight|weekend|"
    + _WEEKDAY[1:-3]
    + r")s?\b"
)
_BARE_NUMBER = re.compile(r"(?<![\d:/.£$€])\b(\d{1,2})\b(?![\d:/.])")

# Said about a time already chosen (`previous`).
_SAME_TIME = re.compile(r"\bsame\s+(?:time|slot)\b")
_SAME_DAY = re.compile(r"\bsame\s+(?:day|date)\b|\bthat\s+(?:same\s+)?day\b")
_SHIFT = re.compile(
    r"\b(an?|one|two|three|\d{1,2}|half\s+an?)\s*(hours?|hrs?|mins?|minutes?|days?|weeks?)\s+"
    r"(earlier|later|before|after|sooner)\b"
)
_DAY_AFTER_PREVIOUS = re.compile(r"\b(?:the\s+)?day\s+(after|before)\b(?!\s+tomorrow)")
_EARLIER_LATER = re.compile(r"\b(earlier|later)\b(?!\s+(?:today|this|in\s+the\s+week))")


# --- public API -------------------------------------------------------------------------------


def read_wanted_time(
    text: str,
    clinic: Clinic,
    now: datetime,
    previous: datetime | None = None,
    default_day: date | None = None,
) -> WantedTime:
    """Understand `text` relative to `now` (aware; read in the clinic's time zone).

    `previous` is a time already chosen in the conversation, for "same time next week" or "an
    hour later"; `default_day` a day the client gave earlier, for an answer that is only a time.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return _Reader(clinic, now, previous).read(text, default_day)


# --- the reader ---------------------------------------------------------------------------------


@dataclass
class _Found:
    first: date | None = None
    last: date | None = None
    roll_weekday: bool = False  # a weekday that is also today: next week's unless time is ahead
    clock: _Clock | None = None
    exact: datetime | None = None  # "in 2 hours", "an hour later": already a moment
    window: tuple[_Clock | str, _Clock | str] | None = None
    problem: str = ""
    written: str = ""
    named_weekday: int | None = None


class _Reader:
    def __init__(self, clinic: Clinic, now: datetime, previous: datetime | None) -> None:
        self.clinic = clinic
        self.tz = clinic.timezone
        self.now = now.astimezone(self.tz)
        self.today = self.now.date()
        self.previous = previous.astimezone(self.tz) if previous is not None else None

    # -- orchestration ---------------------------------------------------------------------------

    def read(self, text: str, default_day: date | None) -> WantedTime:
        phrase = _normalise(text)
        if not phrase:
            return NOTHING
        found = _Found()
        phrase = self._relative_to_previous(phrase, found)
        phrase = self._relative_to_now(phrase, found)
        if found.first is None and found.exact is None:
            # Dates written with digits first, so "12-03" or "16-18 march" is never a window.
            weekday_match = _WEEKDAY_RE.search(phrase)
            for step in (self._date_range, self._week_commencing, self._explicit_date):
                cut = step(phrase, found, weekday_match)
                if cut is not None:
                    phrase = cut
                    break
        phrase = self._windows(phrase, found)
        phrase = self._clock(phrase, found)
        phrase = self._parts(phrase, found)
        phrase = self._days(phrase, found)
        if found.problem:
            return WantedTime(
                found.first,
                found.first,
                problem=found.problem,
                written=found.written,
                named_weekday=found.named_weekday,
            )
        if found.clock is None and found.window is None and found.exact is None:
            self._bare_hour(phrase, found, default_day)
        if found.first is None and default_day is not None and (found.clock or found.window):
            found.first = found.last = default_day
        nothing_else = (
            found.first is None and found.clock is None and found.window is None
        ) and found.exact is None
        if nothing_else:
            return WantedTime(asap=True) if _ASAP.search(phrase) else NOTHING
        return self._settle(found)

    def _settle(self, found: _Found) -> WantedTime:
        """Place what was found on days and clock times the clinic keeps."""
        if found.exact is not None:
            return WantedTime(found.exact.date(), found.exact.date(), at=found.exact.time())
        first, last = found.first, found.last
        if first is None:
            first = last = self._next_day_for(found)
        assert last is not None
        if found.roll_weekday and not self._ahead_today(found, first):
            first = last = first + timedelta(days=7)
        if first != last:
            first, last = self._trim_to_open_days(first, last)
        hours = self._hours_for(first, last)
        at = self._place_clock(found.clock, hours) if found.clock else None
        window = self._place_window(found.window, hours, first) if found.window else None
        return WantedTime(first, last, at=at, window=window)

    # -- steps: each reads what it knows and cuts it out of the phrase --------------------------

    def _relative_to_previous(self, phrase: str, found: _Found) -> str:
        """ "same time next week", "an hour later", "the following monday": from `previous`."""
        previous = self.previous
        same_time = _SAME_TIME.search(phrase)
        same_day = _SAME_DAY.search(phrase)
        if previous is None:
            for match in (same_time, same_day):
                if match:
                    phrase = _cut(phrase, match)
            return phrase
        base = previous.date()
        shift = _SHIFT.search(phrase)
        if shift:
            amount = 0.5 if shift.group(1).startswith("half") else _count(shift.group(1))
            unit = shift.group(2)
            sign = -1 if shift.group(3) in {"earlier", "before", "sooner"} else 1
            if unit.startswith(("d", "w")):
                days = amount * (7 if unit.startswith("w") else 1)
                found.first = found.last = base + timedelta(days=sign * days)
                if same_time:
                    found.clock = _Clock(previous.hour, previous.minute, explicit=True)
            else:
                minutes = amount * (60 if unit.startswith("h") else 1)
                found.exact = previous + timedelta(minutes=sign * minutes)
            return _cut(phrase, shift)
        if same_time:
            found.clock = _Clock(previous.hour, previous.minute, explicit=True)
            phrase = _cut(phrase, same_time)
        if same_day:
            found.first = found.last = base
            phrase = _cut(phrase, same_day)
        earlier_later = _EARLIER_LATER.search(phrase)
        if earlier_later and found.clock is None and (same_day or not _names_a_day(phrase)):
            # "same day but earlier", "a bit later": that day, before or after that time.
            found.first = found.last = base
            prev = _Clock(previous.hour, previous.minute, explicit=True)
            found.window = (
                ("open", prev) if earlier_later.group(1) == "earlier" else (prev, "close")
            )
            phrase = _cut(phrase, earlier_later)
        moved = _DAY_AFTER_PREVIOUS.search(phrase)
        if moved:
            found.first = found.last = base + timedelta(days=1 if moved.group(1) == "after" else -1)
            return _cut(phrase, moved)
        moved = re.search(
            r"\b(?:the\s+)?following\s+" + _WEEKDAY + r"\b|\bthe\s+" + _WEEKDAY + r"\s+after\b",
            phrase,
        )
        if moved:
            weekday = _WEEKDAYS[moved.group(1) or moved.group(2)]
            found.first = found.last = base + timedelta(days=(weekday - base.weekday()) % 7 or 7)
            return _cut(phrase, moved)
        if not (same_time or same_day):
            return phrase
        # With "same time" or "same day", "next week" and "in 2 weeks" count from that day.
        moved = re.search(
            r"\bnext\s+week\b|\b(?:the\s+)?(?:week\s+after|following\s+week)\b", phrase
        )
        if moved:
            found.first = found.last = base + timedelta(days=7)
            return _cut(phrase, moved)
        moved = _IN_DAYS.search(phrase)
        if moved:
            found.first = found.last = base + _span(moved.group(1), moved.group(2))
            return _cut(phrase, moved)
        return phrase

    def _relative_to_now(self, phrase: str, found: _Found) -> str:
        if found.exact is not None:
            return phrase
        match = re.search(
            r"\bin\s+(?:about\s+)?(?:(\d{1,2}|an?|one|two|three|four|five|six)|(half)\s+an?)"
            r"\s*(hours?|hrs?|h|minutes?|mins?)\b",
            phrase,
        )
        if match:
            amount = 0.5 if match.group(2) else _count(match.group(1))
            unit = 60 if match.group(3).startswith("h") else 1
            found.exact = (self.now + timedelta(minutes=amount * unit)).replace(
                second=0, microsecond=0
            )
            return _cut(phrase, match)
        match = _THIS_TIME.search(phrase)
        if match:
            days = 1 if match.group(1) == "tomorrow" else 7
            found.exact = (self.now + timedelta(days=days)).replace(second=0, microsecond=0)
            return _cut(phrase, match)
        return phrase

    def _windows(self, phrase: str, found: _Found) -> str:
        for pattern, kind in (
            (_WINDOW_BETWEEN, "between"),
            (_WINDOW_DASH, "between"),
            (_WINDOW_AFTER, "after"),
            (_WINDOW_BEFORE, "before"),
        ):
            match = pattern.search(phrase)
            if not match:
                continue
            clocks = _clocks_in(list(match.groups()))
            if not clocks:
                continue
            if kind == "between" and len(clocks) == 2:
                first, second = clocks
                if second.explicit and second.hour >= 12 and not first.explicit:
                    first = replace(first, pm=True)
                found.window = (first, second)
            elif kind == "after":
                found.window = (clocks[0], "close")
            elif kind == "before":
                found.window = ("open", clocks[0])
            else:
                continue
            return _cut(phrase, match)
        return phrase

    def _clock(self, phrase: str, found: _Found) -> str:
        if found.exact is not None or found.clock is not None:
            return phrase
        for pattern, kind in _CLOCK_PATTERNS:
            for match in pattern.finditer(phrase):
                clock = _read_clock(match, kind)
                if clock is None:
                    continue
                if kind == "four" and not _four_digit_time_context(phrase, match):
                    continue
                found.clock = clock
                return _cut(phrase, match)
        return phrase

    def _parts(self, phrase: str, found: _Found) -> str:
        for pattern, (start, end) in _PART_PATTERNS:
            match = pattern.search(phrase)
            if not match:
                continue
            phrase = _cut(phrase, match)
            if found.exact is not None:
                return phrase
            if found.clock is not None:
                # "9 in the morning", "friday afternoon at 2": the part settles am or pm.
                if not found.clock.explicit and 1 <= found.clock.hour <= 11:
                    if start[0].isdigit() and start >= "12:00":
                        found.clock = _Clock(found.clock.hour + 12, found.clock.minute, True)
                    else:
                        found.clock = replace(found.clock, explicit=True)
                return phrase
            part: tuple[_Clock | str, _Clock | str] = (
                start if start.startswith("first") else _parse_hhmm(start),
                end if end.startswith("first") else _parse_hhmm(end),
            )
            if found.window is not None:
                found.window = _intersect(found.window, part)
            else:
                found.window = part
            return phrase
        return phrase

    def _days(self, phrase: str, found: _Found) -> str:
        if found.exact is not None:
            return phrase
        if found.first is not None:  # the chosen day ("same day") stands
            return phrase
        phrase = _RULED_OUT.sub(" ", phrase)
        weekday_match = _WEEKDAY_RE.search(phrase)
        for step in (
            self._date_range,
            self._week_commencing,
            self._explicit_date,
            self._ordinal_day,
            self._weeks_from,
            self._named_days,
            self._weekday_range,
            self._weekday,
            self._weekend,
            self._week_range,
            self._month_range,
        ):
            cut = step(phrase, found, weekday_match)
            if cut is not None:
                return cut
        return phrase

    # -- day readers: each returns the phrase without what it read, or None ----------------------

    def _date_range(self, phrase: str, found: _Found, _: re.Match[str] | None) -> str | None:
        match = _DATE_RANGE.search(phrase)
        if not match:
            return None
        if match.group(1):
            first_n, last_n, month = int(match.group(1)), int(match.group(2)), match.group(3)
        else:
            month, first_n, last_n = match.group(4), int(match.group(5)), int(match.group(6))
        first = self._future_date(first_n, _MONTHS[month])
        if first is None:
            return None
        try:
            last = first.replace(day=last_n)
        except ValueError:
            return None
        if last < first:
            return None
        found.first, found.last = first, last
        return _cut(phrase, match)

    def _week_commencing(self, phrase: str, found: _Found, _: re.Match[str] | None) -> str | None:
        match = _WEEK_COMMENCING.search(phrase)
        if not match:
            return None
        number = int(match.group(1))
        if match.group(2):
            monday = self._future_date(number, _MONTHS[match.group(2)])
        else:
            monday = _next_day_of_month(number, self.today)
        if monday is None:
            return None
        found.first, found.last = monday, monday + timedelta(days=6)
        return _cut(phrase, match)

    def _explicit_date(
        self, phrase: str, found: _Found, weekday_match: re.Match[str] | None
    ) -> str | None:
        for pattern in _EXPLICIT_DATES:
            match = pattern.search(phrase)
            if not match:
                continue
            day = _explicit_day(match.group(0), self.clinic, self.now)
            if day is None:
                found.problem, found.written = "not_a_date", match.group(0)
                return phrase
            found.first = found.last = day
            if weekday_match:
                weekday = _WEEKDAYS[weekday_match.group(2)]
                if day.weekday() != weekday:
                    found.problem, found.named_weekday = "weekday_mismatch", weekday
            return _cut(phrase, match)
        return None

    def _named_days(self, phrase: str, found: _Found, _: re.Match[str] | None) -> str | None:
        for pattern, offset in (
            (_DAY_AFTER_TOMORROW, 2),
            (_TOMORROW, 1),
            (_TODAY, 0),
            (_YESTERDAY, -1),
        ):
            match = pattern.search(phrase)
            if match:
                found.first = found.last = self.today + timedelta(days=offset)
                # "this afternoon" / "tonight" also name the part of the day; keep that word.
                part = re.search(r"afternoon|morning|evening|tonight", match.group(0))
                if part and found.window is None and found.clock is None:
                    self._parts(part.group(0), found)
                return _cut(phrase, match)
        return None

    def _weeks_from(self, phrase: str, found: _Found, _: re.Match[str] | None) -> str | None:
        match = _WEEKS_TODAY.search(phrase)
        if match:
            anchor = match.group(3)
            if anchor == "today":
                base = self.today
            elif anchor == "tomorrow":
                base = self.today + timedelta(days=1)
            else:
                weekday = _WEEKDAYS[match.group(4)]
                base = self.today + timedelta(days=(weekday - self.today.weekday()) % 7)
            found.first = found.last = base + _span(match.group(1), match.group(2))
            return _cut(phrase, match)
        match = _COUPLE_OF_DAYS.search(phrase)
        if match:
            low, high = (2, 3) if match.group(1).startswith("couple") else (2, 4)
            found.first = self.today + timedelta(days=low)
            found.last = self.today + timedelta(days=high)
            return _cut(phrase, match)
        match = _IN_DAYS.search(phrase)
        if match:
            found.first = found.last = self.today + _span(match.group(1), match.group(2))
            return _cut(phrase, match)
        match = _FORTNIGHT.search(phrase)
        if match:
            found.first = found.last = self.today + timedelta(days=14)
            return _cut(phrase, match)
        return None

    def _weekday_range(self, phrase: str, found: _Found, _: re.Match[str] | None) -> str | None:
        match = _WEEKDAY_RANGE.search(phrase)
        if not match:
            return None
        first_wd, last_wd = _WEEKDAYS[match.group(1)], _WEEKDAYS[match.group(2)]
        rest = _cut(phrase, match)
        monday = self.today - timedelta(days=self.today.weekday())
        next_week = re.search(r"\bnext\s+week\b|\bnext\b", rest)
        if next_week:
            first = monday + timedelta(days=7 + first_wd)
            rest = _cut(rest, next_week)
        else:
            first = self.today + timedelta(days=(first_wd - self.today.weekday()) % 7)
        last = first + timedelta(days=(last_wd - first_wd) % 7)
        found.first, found.last = first, last
        return rest

    def _weekday(
        self, phrase: str, found: _Found, weekday_match: re.Match[str] | None
    ) -> str | None:
        if not weekday_match:
            return None
        modifier, name, suffix = weekday_match.groups()
        modifier = re.sub(r"\s+", " ", modifier or "")
        suffix = re.sub(r"\s+", " ", suffix or "")
        weekday = _WEEKDAYS[name]
        monday = self.today - timedelta(days=self.today.weekday())
        coming = self.today + timedelta(days=(weekday - self.today.weekday()) % 7)
        if modifier == "last":
            day = self.today - timedelta(days=(self.today.weekday() - weekday) % 7 or 7)
        elif modifier == "next" or suffix == "next week" or suffix == "the week after":
            day = monday + timedelta(days=7 + weekday)
        elif suffix in {"week after next", "after next"}:
            day = monday + timedelta(days=14 + weekday)
        elif suffix == "week" or modifier == "a week on":
            day = coming + timedelta(days=7)
        else:
            day = coming
            found.roll_weekday = day == self.today
        found.first = found.last = day
        return _cut(phrase, weekday_match)

    def _weekend(self, phrase: str, found: _Found, _: re.Match[str] | None) -> str | None:
        match = _WEEKEND.search(phrase)
        if not match:
            return None
        saturday = self.today + timedelta(days=(5 - self.today.weekday()) % 7)
        if self.today.weekday() == 6:  # said on a Sunday, "this weekend" is today
            saturday = self.today - timedelta(days=1)
        if match.group(1) == "next" and self.today.weekday() < 5:
            saturday += timedelta(days=7)
        if match.group(2):  # "the weekend after next"
            saturday += timedelta(days=14 if match.group(1) != "next" else 7)
        found.first, found.last = max(saturday, self.today), saturday + timedelta(days=1)
        return _cut(phrase, match)

    def _week_range(self, phrase: str, found: _Found, _: re.Match[str] | None) -> str | None:
        match = _WEEK_RANGE.search(phrase)
        if not match:
            return None
        words = match.group(0)
        monday = self.today - timedelta(days=self.today.weekday())
        if "after next" in words:
            monday += timedelta(days=14)
        elif "next" in words or "following" in words:
            monday += timedelta(days=7)
        first, last = monday, monday + timedelta(days=6)
        if re.search(r"\b(?:end|late|later)\b", words):
            first = monday + timedelta(days=3)
        elif re.search(r"\b(?:early|start|beginning)\b", words):
            last = monday + timedelta(days=2)
        elif re.search(r"\b(?:middle|mid)\b", words):
            first, last = monday + timedelta(days=1), monday + timedelta(days=3)
        found.first, found.last = max(first, self.today), last
        if found.last < found.first:
            found.first = found.last = None
            return None
        return _cut(phrase, match)

    def _month_range(self, phrase: str, found: _Found, _: re.Match[str] | None) -> str | None:
        match = _WEEK_OF_MONTH.search(phrase)
        if match:
            first = self._month_start(match.group(2), match.group(3))
            nth = {"fi": 0, "1s": 0, "se": 1, "2n": 1, "th": 2, "3r": 2, "fo": 3, "4t": 3}
            month_end = _month_end(first)
            if match.group(1) == "last":
                monday = month_end - timedelta(days=month_end.weekday())
            else:
                monday = first + timedelta(days=(7 - first.weekday()) % 7)
                monday += timedelta(weeks=nth[match.group(1)[:2]])
            found.first, found.last = max(monday, self.today), monday + timedelta(days=6)
            return _cut(phrase, match)
        match = _MONTH_RANGE.search(phrase)
        if not match:
            return None
        first = self._month_start(match.group(2), match.group(4))
        last = _month_end(first)
        position = match.group(1) or match.group(3) or ""
        if position in {"early", "start of", "beginning of"}:
            last = first + timedelta(days=9)
        elif position in {"late", "later", "end of"}:
            first = last - timedelta(days=9)
        elif position in {"middle of", "mid"}:
            first, last = first + timedelta(days=9), first + timedelta(days=19)
        found.first, found.last = max(first, self.today), last
        if found.last < found.first:
            found.first = found.last = None
            return None
        return _cut(phrase, match)

    def _month_start(self, this_or_next: str | None, month_name: str | None) -> date:
        if month_name:
            month = _MONTHS[month_name]
            return date(self.today.year + (1 if month < self.today.month else 0), month, 1)
        first = self.today.replace(day=1)
        if this_or_next == "next":
            first = (first + timedelta(days=32)).replace(day=1)
        return first

    def _ordinal_day(
        self, phrase: str, found: _Found, weekday_match: re.Match[str] | None
    ) -> str | None:
        match = _ORDINAL_DAY.search(phrase)
        if not match:
            return None
        number = int(match.group(1) or match.group(2))
        day = _next_day_of_month(number, self.today)
        if day is None:
            found.problem, found.written = "not_a_date", match.group(0)
            return phrase
        if weekday_match and day.weekday() != _WEEKDAYS[weekday_match.group(2)]:
            # "Thu 19th": the next 19th that is a Thursday, within a year.
            weekday = _WEEKDAYS[weekday_match.group(2)]
            later = day
            for _ in range(12):
                later = _next_day_of_month(number, later + timedelta(days=1)) or later
                if later.weekday() == weekday:
                    day = later
                    break
            else:
                found.problem, found.named_weekday = "weekday_mismatch", weekday
                found.first = found.last = day
                return phrase
        found.first = found.last = day
        return _cut(phrase, match)

    # -- placing ---------------------------------------------------------------------------------

    def _bare_hour(self, phrase: str, found: _Found, default_day: date | None) -> None:
        """ "Friday 3", or just "3" as the answer to "what time?" — but not the 2 in "2 back
        massages for me and my wife on Saturday"."""
        if found.first is None and default_day is None:
            return
        rest = _strip_days(phrase)
        words = rest.split()
        leftover = _BARE_NUMBER.search(rest) if len(words) <= 2 else None
        if leftover and 1 <= int(leftover.group(1)) <= 23:
            hour = int(leftover.group(1))
            found.clock = _Clock(hour, 0, explicit=hour > 12)

    def _next_day_for(self, found: _Found) -> date:
        """A time or window with no day: today while it is still ahead, else the next open day."""
        day = self.today
        for _ in range(8):
            if self.clinic.hours_on(day) and self._ahead_today(found, day):
                return day
            day += timedelta(days=1)
            if day > self.today and self.clinic.hours_on(day):
                return day
        return self.today + timedelta(days=1)

    def _ahead_today(self, found: _Found, day: date) -> bool:
        """Whether what was asked for on `day` is still ahead of now (always, on a later day)."""
        if day != self.today:
            return True
        hours = self.clinic.hours_on(day)
        if found.clock is not None:
            return self._place_clock(found.clock, hours) > self.now.time()
        if found.window is not None:
            window = self._place_window(found.window, hours, day)
            return window.end > self.now.time()
        return False  # a weekday alone, said on that weekday: next week's

    def _hours_for(self, first: date, last: date) -> tuple[time, time] | None:
        """The day's opening hours; over a range, the widest hours of its days."""
        spans = [
            h
            for h in (
                self.clinic.hours_on(first + timedelta(days=k))
                for k in range(min((last - first).days, 13) + 1)
            )
            if h
        ]
        if not spans:
            return None
        return min(h[0] for h in spans), max(h[1] for h in spans)

    def _place_clock(self, clock: _Clock, hours: tuple[time, time] | None) -> time:
        hour = clock.hour
        if clock.pm and hour < 12:
            hour += 12
        elif not clock.explicit and 1 <= hour <= 11:
            hour = _likely_hour(hour, clock.minute, hours)
        return time(hour, clock.minute)

    def _place_window(
        self,
        window: tuple[_Clock | str, _Clock | str],
        hours: tuple[time, time] | None,
        day: date,
    ) -> TimeWindow:
        opens, closes = hours or (time(9, 0), time(17, 0))
        start_spec, end_spec = window

        def place(spec: _Clock | str) -> time:
            if spec == "open":
                return opens
            if spec == "close":
                return closes
            if spec == "first":
                return opens
            if spec == "first+1":
                return (datetime.combine(day, opens) + timedelta(hours=1)).time()
            assert isinstance(spec, _Clock)
            return self._place_clock(spec, hours)

        start, end = place(start_spec), place(end_spec)
        if isinstance(end_spec, _Clock) and not end_spec.explicit and end <= start < time(12):
            end = time(end.hour + 12, end.minute) if end.hour < 12 else end
        if end <= start:
            return TimeWindow(start, end)  # nothing fits: the rules will say why
        clipped = TimeWindow(max(start, opens), min(end, closes))
        return clipped if clipped.start < clipped.end else TimeWindow(start, end)

    def _trim_to_open_days(self, first: date, last: date) -> tuple[date, date]:
        while first < last and not self.clinic.hours_on(first):
            first += timedelta(days=1)
        while last > first and not self.clinic.hours_on(last):
            last -= timedelta(days=1)
        return first, last

    def _future_date(self, number: int, month: int) -> date | None:
        for year in (self.today.year, self.today.year + 1):
            try:
                candidate = date(year, month, number)
            except ValueError:
                return None
            if candidate >= self.today:
                return candidate
        return None


# --- helpers ------------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    phrase = (text or "").lower().replace("’", "'").replace("‘", "'")
    phrase = re.sub(r"[!?,;\"()*~]", " ", phrase)
    for pattern, replacement in _SHORTHANDS:
        phrase = re.sub(pattern, replacement, phrase)
    phrase = re.sub(
        r"\b(\d{1,2})(?=(?:st|nd|rd|th)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))",
        r"\1 ",
        phrase,
    )
    phrase = " ".join(_correct_spelling(word) for word in phrase.split())
    for not_a_time in _NOT_TIMES:
        phrase = not_a_time.sub(" _ ", phrase)
    phrase = re.sub(r"(?<=\s)x+$|\bxx*\b$", " ", phrase)  # kisses at the end
    return re.sub(r"\s+", " ", phrase).strip(" .")


_KNOWN_WORDS = frozenset(
    {*_WEEKDAYS, *_MONTHS, "tomorrow", "today", "tonight", "morning", "evening", "afternoon"}
)


def _correct_spelling(word: str) -> str:
    """Weekday and month names typed in a hurry: "thursdy", "fridy", "satuday", "febuary"."""
    bare = word.strip(".")
    if len(bare) < 5 or not bare.isalpha() or bare in _KNOWN_WORDS:
        return word
    best, score = word, 0.0
    for name in (*_FULL_WEEKDAYS, *_FULL_MONTHS, "tomorrow"):
        if name[:2] != bare[:2]:
            continue
        ratio = SequenceMatcher(None, bare, name).ratio()
        if ratio > score:
            best, score = name, ratio
    return best if score >= 0.85 else word


def _cut(phrase: str, match: re.Match[str]) -> str:
    return re.sub(r"\s+", " ", phrase[: match.start()] + " " + phrase[match.end() :]).strip()


def _span(count: str, unit: str) -> timedelta:
    size = 14 if unit.startswith("fortnight") else 7 if unit.startswith("week") else 1
    return timedelta(days=_count(count) * size)


def _parse_hhmm(text: str) -> _Clock:
    hour, minute = (int(p) for p in text.split(":"))
    return _Clock(hour, minute, explicit=True)


def _clocks_in(groups: list[str | None]) -> list[_Clock]:
    """The clock times in a window match: groups come in threes (hour, minutes, am/pm)."""
    clocks = []
    for k in range(0, len(groups) - 2, 3):
        hour, minute, suffix = groups[k], groups[k + 1], groups[k + 2]
        if hour is None:
            continue
        clock = _clock_from(hour, minute, suffix)
        if clock is None:
            return []
        clocks.append(clock)
    return clocks


def _intersect(
    a: tuple[_Clock | str, _Clock | str], b: tuple[_Clock | str, _Clock | str]
) -> tuple[_Clock | str, _Clock | str]:
    """ "tomorrow morning before 11": the narrower bound wins on each side."""
    start = a[0] if a[0] not in {"open", "first"} else b[0]
    end = a[1] if a[1] not in {"close", "first+1"} else b[1]
    return start, end


def _read_clock(match: re.Match[str], kind: str) -> _Clock | None:
    groups = match.groups()
    if kind == "named":
        return _Clock(0, 0, True) if groups[0] == "midnight" else _Clock(12, 0, True)
    if kind == "past_to":
        hour = _count(groups[2])
        minute = {"half": 30, "quarter": 15}[groups[0]]
        if groups[1] == "to":
            hour, minute = (hour - 1) % 12 or 12, 60 - minute
        return _valid(hour, minute, explicit=False)
    if kind == "minutes_past_to":
        words = {"five": 5, "ten": 10, "twenty": 20, "twenty five": 25, "twenty-five": 25}
        spoken = re.sub(r"\s+", " ", groups[0])
        minutes = words[spoken] if spoken in words else int(spoken)
        hour = _count(groups[2])
        if not 1 <= minutes <= 59:
            return None
        if groups[1] == "to":
            hour, minutes = (hour - 1) % 12 or 12, 60 - minutes
        return _valid(hour, minutes, explicit=False)
    if kind == "half":
        return _valid(_count(groups[0]), 30, explicit=False)
    if kind == "ampm":
        return _clock_from(groups[0], groups[1], groups[2])
    if kind == "colon":
        return _clock_from(groups[0], groups[1], None)
    if kind == "words":
        minute = _MINUTE_WORDS[re.sub(r"\s+", " ", groups[1])]
        return _valid(_count(groups[0]), minute, explicit=False)
    if kind == "four":
        return _valid(int(groups[0]), int(groups[1]), explicit=True)
    hour = _count(groups[0])
    return _valid(hour, 0, explicit=hour == 0 or hour > 12)


def _four_digit_time_context(phrase: str, match: re.Match[str]) -> bool:
    """ "tomorrow 1430" is a time; "1430" alone could be anything (a reference, a year)."""
    hour = int(match.group(1))
    if not 6 <= hour <= 21:
        return False
    around = phrase[: match.start()] + phrase[match.end() :]
    return bool(
        re.search(r"\b(?:at|@)\s*$", phrase[: match.start()])
        or _TOMORROW.search(around)
        or _TODAY.search(around)
        or _WEEKDAY_RE.search(around)
    )


def _valid(hour: int, minute: int, explicit: bool) -> _Clock | None:
    if 0 <= hour <= 23 and 0 <= minute <= 59:
        return _Clock(hour, minute, explicit)
    return None


def _likely_hour(hour: int, minute: int, hours: tuple[time, time] | None) -> int:
    """'3' means 15:00 at a clinic open 09:00–18:00; keep the morning reading when it's open."""
    morning, afternoon = time(hour, minute), time(hour + 12, minute)
    if hours:
        if hours[0] <= morning < hours[1]:
            return hour
        if hours[0] <= afternoon < hours[1]:
            return hour + 12
    return hour + 12 if hour < 7 else hour


def _month_end(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _names_a_day(phrase: str) -> bool:
    return bool(re.search(r"\b(?:week|weekend|month)\b", phrase)) or (
        _strip_days(phrase).split() != phrase.split()
    )


def _strip_days(phrase: str) -> str:
    for pattern in (
        _DAY_AFTER_TOMORROW, _TOMORROW, _TODAY, _IN_DAYS, _FORTNIGHT, _WEEKDAY_RE, _WEEKEND,
        *_EXPLICIT_DATES, _ORDINAL_DAY,
    ):  # fmt: skip
        phrase = pattern.sub(" ", phrase)
    return phrase


def _next_day_of_month(number: int, today: date) -> date | None:
    """'the 14th': this month's if still ahead (or today), else the next month that has one."""
    if not 1 <= number <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, number)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return None


def _dateparser(clinic: Clinic, local_now: datetime) -> DateDataParser:
    return DateDataParser(
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "TIMEZONE": str(clinic.timezone),
            "RETURN_AS_TIMEZONE_AWARE": False,
            "DATE_ORDER": "MDY" if clinic.region.upper() in MONTH_FIRST_REGIONS else "DMY",
            "PREFER_DAY_OF_MONTH": "first",
            "RETURN_TIME_AS_PERIOD": True,
        },
    )


def _explicit_day(text: str, clinic: Clinic, local_now: datetime) -> date | None:
    """An explicit date; a date without a year that has passed means next year's.

    ISO dates are read directly: with DATE_ORDER='DMY' dateparser swaps their month and day.
    """
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if iso:
        try:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            return None
    data = _dateparser(clinic, local_now).get_date_data(text)
    if data.date_obj is None:
        return None
    day = data.date_obj.date()
    today = local_now.date()
    if not re.search(r"\d{4}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}", text):
        # No year written: this year's date if still ahead (today included), else next year's.
        for year in (today.year, today.year + 1):
            try:
                candidate = day.replace(year=year)
            except ValueError:  # 29 February
                continue
            if candidate >= today:
                return candidate
        return None
    return day

"""The key times of a visit: every computed moment that asks something of the patient.

They lead the handout (the "Your key times" checklist on page 1 and at the top of the text
rendition), and the JSON timeline and the calendar are made from the same list, so the three
can never disagree. Which moments are key times is the set's to say: a moment with ``key``
wording (format 2, see :mod:`pars_docs.moments`), a repeated task with it (one line, from its
first time to its last), and the medicines to stop, restart or avoid. Python decides only the
order.

A moment already past when the handout is made is never printed as an instruction: one with
``late`` wording becomes a "call us today" item at the top (once per distinct wording), a
last dose that is past becomes one too, and any other past moment is left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .timeline import MedicinePlan, Plan

# The medicine lines' actions; their words are labels (key_ACTION in the page's labels).
MEDICINE_ACTIONS = ("late_dose", "last_dose", "restart", "avoid")


@dataclass(frozen=True)
class KeyTime:
    """One line of the key-times checklist.

    ``at`` is a datetime for a moment with a clock time, a date for a whole day, and
    ``None`` for an item that is due now ("call us today"). ``action`` is the moment's name
    (or a medicine action); ``wording`` the set's field that says what to do (``key`` or
    ``late``), empty for a medicine line. ``last`` is a repeated task's last time.
    """

    action: str
    at: datetime | date | None
    medicine: MedicinePlan | None = None
    wording: str = ""
    last: datetime | date | None = None
    visit: bool = False
    moment: str = ""  # the set's moment whose words it has, when not ``action`` itself

    @property
    def name(self) -> str:
        """The ``timing`` entry whose wording this line has (a moment's line)."""
        return self.moment or self.action

    @property
    def late(self) -> bool:
        return self.at is None

    @property
    def day(self) -> date | None:
        return self.at.date() if isinstance(self.at, datetime) else self.at

    def sort_key(self) -> tuple[int, date, int, datetime | None]:
        if self.at is None:
            return (0, date.min, 0, None)
        # A whole day comes before the timed moments of the same day.
        at = self.at if isinstance(self.at, datetime) else None
        return (1, self.day or date.min, int(at is not None), at)


def shown(moment: Any, entry: dict) -> datetime | date:
    """A moment as the key times and the calendar give it: a day when the set says so."""
    if isinstance(moment, datetime) and entry.get("show") == "day":
        return moment.date()
    return moment


def asked_about(plan: Plan) -> list[MedicinePlan]:
    """The patient's medicines to ask us about: the table says ask, or a pause whose restart
    day is left to us."""
    return [
        m
        for m in plan.medicines
        if m.action == "ask" or (m.action == "stop" and m.last_dose and not m.restart)
    ]


def key_times(plan: Plan) -> list[KeyTime]:
    """The visit's key times, in the order the patient meets them: calls due today first."""
    items = [*_medicine_times(plan), *_moment_times(plan), *_repeat_times(plan)]
    return sorted(items, key=KeyTime.sort_key)


def _medicine_times(plan: Plan) -> Iterator[KeyTime]:
    """A medicine's last dose, restart or avoid-until day not yet past, and a late stop."""
    now = plan.now
    for med in plan.medicines:
        if med.action == "late":
            yield KeyTime("late_dose", None, med)
        elif med.action == "stop" and med.last_dose:
            if now is None or med.last_dose >= now.date():
                yield KeyTime("last_dose", med.last_dose, med)
            if med.restart and (now is None or med.restart >= now.date()):
                yield KeyTime("restart", med.restart, med)
        elif med.action == "avoid" and med.avoid_until:
            if now is None or med.avoid_until >= now.date():
                yield KeyTime("avoid", med.avoid_until, med)


def _moment_times(plan: Plan) -> Iterator[KeyTime]:
    """The set's key moments, and each "too late" call once per wording."""
    timing = plan.instruction_set.data["timing"]
    late = plan.late
    asking = bool(asked_about(plan))
    said: set[str] = set()
    for name, moment in plan.moments.items():
        entry = timing.get(name) or {}
        if isinstance(moment, list):
            continue  # a series is for a table
        if entry.get("for_medicines") == "ask" and not asking:
            continue  # a call about medicines, and there is none to ask about
        if late.get(name):
            words = entry.get("late")
            if words and words not in said:
                said.add(words)
                action = entry.get("late_as") or f"late_{name}"
                yield KeyTime(action, None, wording="late", moment=name)
            continue
        if entry.get("key"):
            yield KeyTime(name, shown(moment, entry), wording="key", visit=bool(entry.get("visit")))


def _repeat_times(plan: Plan) -> Iterator[KeyTime]:
    """The set's key repeated tasks not yet over."""
    timing = plan.instruction_set.data["timing"]
    now = plan.now
    for name, repeat in plan.repeats.items():
        entry = timing.get(name) or {}
        if not entry.get("key"):
            continue
        if now is not None and not _after(repeat.last, now):
            continue  # every time of it is past
        yield KeyTime(name, repeat.first, wording="key", last=repeat.last)


def _after(moment: datetime | date, now: datetime) -> bool:
    if isinstance(moment, datetime):
        return moment >= now
    return moment >= now.date()


@dataclass(frozen=True)
class ClockChange:
    """The clocks change between the first timed key time still to come and the end of the
    procedure: during the night of ``night`` (the evening's date), ``forward`` or back."""

    night: date
    forward: bool


def clock_change(plan: Plan, items: list[KeyTime] | None = None) -> ClockChange | None:
    """The clock change the patient lives through while following the timed key times up to
    the end of the procedure (a fast across the night the clocks spring forward), if any."""
    timed = [k.at for k in items or key_times(plan) if isinstance(k.at, datetime)]
    end = plan.moments["end"]
    first = min((t for t in timed if t <= end), default=None)
    if first is None:
        return None
    if plan.now is not None and first < plan.now:
        first = plan.now
    low, high = first.astimezone(timezone.utc), end.astimezone(timezone.utc)
    zone = end.tzinfo

    def offset(moment: datetime) -> timedelta | None:
        return moment.astimezone(zone).utcoffset()

    before = offset(low)
    if before is None or before == offset(high) or low >= high:
        return None
    # The instant of the change, to the minute: the last minute on the old offset.
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        if offset(middle) == before:
            low = middle
        else:
            high = middle
    after = offset(high)
    local = high.astimezone(zone)
    night = (local - timedelta(hours=12)).date()  # 2:00 AM Sunday is Saturday night
    return ClockChange(night, after is not None and after > before)

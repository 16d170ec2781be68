"""The key times of a visit: every computed moment that asks something of the patient.

They lead the handout (the "Your key times" checklist on page 1 and at the top of the text
rendition), and the JSON timeline and the calendar are made from the same list, so the three
can never disagree. Python decides only which moments ask for an action and in what order;
the words for each action are labels (``key_<action>`` in the page template's labels).

A moment already past when the handout is made is never printed as an instruction: a last
dose or the start of a fast that is past becomes a "call us today" item at the top, and any
other past moment (a reprint after the visit) is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .timeline import MedicinePlan, Plan

# Moments of the plan that ask the patient to do something, and whether the handout gives
# them with a clock time ("time") or as a day ("day": the follow-up is "around Monday").
ACTION_MOMENTS = {
    "stop_solids": "time",
    "stop_liquids": "time",
    "arrive": "time",
    "bandage_off": "time",
    "wound_check": "day",
    "follow_up": "day",
}
# What a past moment of each kind turns into; kinds not named here are left out when past.
LATE_ACTIONS = {"last_dose": "late_dose", "stop_solids": "late_fast", "stop_liquids": "late_fast"}
ACTIONS = (
    "late_dose",
    "late_fast",
    "last_dose",
    "restart",
    *ACTION_MOMENTS,
)


@dataclass(frozen=True)
class KeyTime:
    """One line of the key-times checklist.

    ``at`` is a datetime for a moment with a clock time, a date for a whole day, and
    ``None`` for an item that is due now ("call us today").
    """

    action: str  # one of ACTIONS
    at: datetime | date | None
    medicine: MedicinePlan | None = None

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


def key_times(plan: Plan) -> list[KeyTime]:
    """The visit's key times, in the order the patient meets them: calls due today first."""
    now = plan.now
    items: list[KeyTime] = []
    for med in plan.medicines:
        if med.action == "late":
            items.append(KeyTime("late_dose", None, med))
        elif med.action == "stop" and med.last_dose:
            if now is None or med.last_dose >= now.date():
                items.append(KeyTime("last_dose", med.last_dose, med))
            if med.restart and (now is None or med.restart >= now.date()):
                items.append(KeyTime("restart", med.restart, med))
    fast_late = False
    for name, shown in ACTION_MOMENTS.items():
        moment = plan.moments.get(name)
        if moment is None:
            continue
        if now is not None and moment < now:
            if LATE_ACTIONS.get(name) == "late_fast" and not fast_late:
                fast_late = True
                items.append(KeyTime("late_fast", None))
            continue
        items.append(KeyTime(name, moment if shown == "time" else moment.date()))
    return sorted(items, key=KeyTime.sort_key)

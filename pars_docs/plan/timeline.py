"""Turn a visit and an instruction set into concrete moments on the site's clock.

Hours are counted on absolute time (UTC), so "6 hours before 8:00 AM" on the morning clocks
spring forward is 1:00 AM. Days and weeks are counted on the calendar: "2 days after 9:00 AM"
is 9:00 AM two dates later, whatever the clocks did in between.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..clock import current_time
from ..errors import UsageError, VisitError
from ..load.medicines import MedicineTable
from ..load.structure import conditions, span_moments

if TYPE_CHECKING:
    from ..load.library import InstructionSet
    from ..load.medicines import Medicine
    from ..load.site import Site
    from ..read.visit import Visit

UTC = timezone.utc

# A span's moment is named after its timing key, except where the key names the span itself.
MOMENT_NAMES = {"activity_limits": "activity_end"}


@dataclass(frozen=True)
class MedicinePlan:
    """What one of the patient's medicines needs around this procedure."""

    name: str  # the name the patient knows it by, spelt as in the table
    generic: str
    kind: str
    note: str
    action: str  # "stop", "late" (the last dose is already past), "keep" or "ask"
    source: str
    stop_days_before: int | None = None
    restart_days_after: int | None = None
    last_dose: date | None = None
    first_skip: date | None = None
    restart: date | None = None
    label: str = ""  # brand and generic together: "Eliquis (apixaban)"
    cls: str = "other"
    concern: str = "none"
    rxcui: str | None = None
    form: str = "pill"  # pill, injection or topical: how it is taken
    verb: str = ""  # the verb for taking it in the handout's language, where that varies


@dataclass
class Plan:
    """Everything a rendition needs: the visit, the set, the site and the computed moments."""

    instruction_set: InstructionSet
    visit: Visit
    site: Site
    options: Mapping[str, bool]  # every condition (see structure.conditions), resolved
    moments: dict[str, datetime] = field(default_factory=dict)
    medicines: list[MedicinePlan] = field(default_factory=list)
    now: datetime | None = None  # when the handout is made, on the site's clock
    reprint: bool = False  # the whole visit is over: a reprint (--include-past)
    medicine_words_draft: bool = False  # the medicines listed are worded by a draft translation
    warnings: list[str] = field(default_factory=list)

    @property
    def late(self) -> dict[str, bool]:
        """Each moment name: whether it is already past when the handout is made."""
        return {name: bool(self.now and moment < self.now) for name, moment in self.moments.items()}

    @property
    def sedation(self) -> bool:
        return self.options["sedation"]

    def applies(self, condition: Mapping[str, bool] | None) -> bool:
        """Whether an item with this ``when`` condition belongs in this visit's handout."""
        if not condition:
            return True
        return all(self.options[key] == want for key, want in condition.items())


def localize(day: date, clock: time, tz: ZoneInfo, fold: int = 0) -> datetime:
    """The aware datetime for a wall-clock time, refusing one the zone skips.

    In the hour clocks fall back, ``fold`` picks the reading: 0 the earlier (the default for a
    time typed by a person), 1 the later.
    """
    naive = datetime.combine(day, clock)
    aware = naive.replace(tzinfo=tz, fold=fold)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise VisitError(
            f"time: {clock.strftime('%H:%M')} on {day.isoformat()} does not exist in "
            f"{tz.key}: the clocks skip that hour; choose another time",
            field="time",
        )
    return aware


def shift_hours(moment: datetime, hours: float) -> datetime:
    """``moment`` moved by ``hours`` of elapsed time, read on the same zone's clock."""
    return (moment.astimezone(UTC) + timedelta(hours=hours)).astimezone(moment.tzinfo)


def shift_days(moment: datetime, days: int) -> datetime:
    """The same wall-clock time ``days`` dates later; a skipped time moves forward."""
    naive = moment.replace(tzinfo=None) + timedelta(days=days)
    aware = naive.replace(tzinfo=moment.tzinfo, fold=0)
    return aware.astimezone(UTC).astimezone(moment.tzinfo)


def _span(moment: datetime, span: Mapping[str, Any]) -> datetime:
    if "hours" in span:
        return shift_hours(moment, span["hours"])
    return shift_days(moment, span.get("days", 0) + 7 * span.get("weeks", 0))


def set_option(instruction_set: InstructionSet, name: str) -> dict[str, bool]:
    """The set's option ``name``: its ``default`` and whether it is ``fixed``."""
    option: dict[str, bool] = instruction_set.data.get("options", {}).get(name, {"default": False})
    return option


def option_choices(instruction_set: InstructionSet, name: str) -> list[bool]:
    """The values option ``name`` can take for a visit of this set."""
    option = set_option(instruction_set, name)
    return [option["default"]] if option.get("fixed") else [False, True]


def resolve_option(instruction_set: InstructionSet, name: str, requested: bool | None) -> bool:
    """The visit's value of option ``name``: the set's default unless the visit says, and
    never against a ``fixed`` default."""
    option = set_option(instruction_set, name)
    if requested is None:
        return option["default"]
    if option.get("fixed") and requested != option["default"]:
        always = "with" if option["default"] else "without"
        raise UsageError(
            f"{name}: {instruction_set.id} is always done {always} {name}; "
            f"{name} cannot be turned {'off' if option['default'] else 'on'}",
            field=name,
        )
    return requested


def resolve_options(instruction_set: InstructionSet, visit: Visit) -> dict[str, bool]:
    """Every condition's value for ``visit``; each is the visit field of the same name."""
    return {
        name: resolve_option(instruction_set, name, getattr(visit, name)) for name in conditions()
    }


class QuotedWarning(str):
    """A warning that quotes what a row holds, with ``redacted``: the same words without it,
    for logs (see :func:`redacted`)."""

    redacted: str

    def __new__(cls, text: str, redacted: str) -> QuotedWarning:
        warning = super().__new__(cls, text)
        warning.redacted = redacted
        return warning


def redacted(warning: str) -> str:
    """``warning`` as a log may show it."""
    return warning.redacted if isinstance(warning, QuotedWarning) else warning


def _label(med: Medicine, name: str) -> str:
    """The name the patient gave with the other name beside it: "Eliquis (apixaban)",
    "apixaban (Eliquis)"."""
    if name != med.name:
        return f"{name} ({med.name})"
    return f"{med.name} ({', '.join(med.brands)})" if med.brands else med.name


def plan_medicines(
    names: Iterable[str],
    table: MedicineTable,
    risk: str,
    day: date,
    *,
    sedation: bool = False,
    unknown: str = "error",
    today: date | None = None,
    warnings: list[str] | None = None,
) -> list[MedicinePlan]:
    """One plan per medicine, in date order: pauses by their last dose, then the rest.

    An unknown name raises, unless ``unknown`` is ``"ask"``: then the patient is told to ask
    us and a warning is added. A last dose before ``today`` becomes ``late``.
    """
    plans = []
    seen = set()
    warnings = warnings if warnings is not None else []
    for name in names:
        found = table.read(name) if unknown == "ask" else table.must_read(name)
        if found is None:
            asks = " The handout asks the patient to call about it."
            warnings.append(
                QuotedWarning(
                    table.unknown_message(name) + asks, table.unknown_message(name, "…") + asks
                )
            )
            plans.append(MedicinePlan(name, "", "", "", "ask", "", label=name))
            continue
        if found.dropped:
            read_as = f"' is read as {found.name}; '{found.dropped}' is not printed"
            warnings.append(
                QuotedWarning(f"medication: '{name}{read_as}", f"medication: '…{read_as}")
            )
        med, name = found.medicine, found.name
        if med.name in seen:
            continue  # "apixaban" and "Eliquis" are one medicine: one line
        seen.add(med.name)
        note = " ".join(part for part in (med.note, sedation and med.sedation_note) if part)
        rule = med.pause.get(risk) or {"action": "ask", "source": ""}
        plan = MedicinePlan(
            name,
            med.name,
            med.kind,
            note,
            rule.get("action", "stop"),
            rule["source"],
            label=_label(med, name),
            cls=med.cls,
            concern=med.concern,
            rxcui=med.rxcui,
            form=found.form,
        )
        if "stop_days_before" not in rule:
            plans.append(plan)
            continue
        before, after = rule["stop_days_before"], rule.get("restart_days_after")
        last_dose = day - timedelta(days=before + 1)
        late = today is not None and today > last_dose
        if late:
            warnings.append(
                f"too late to stop {name} on time: its last dose was due {before + 1} days "
                "before the procedure day. The handout tells the patient to call today."
            )
        plans.append(
            replace(
                plan,
                action="late" if late else "stop",
                stop_days_before=before,
                restart_days_after=after,
                last_dose=last_dose,
                first_skip=day - timedelta(days=before),
                restart=day + timedelta(days=after) if after is not None else None,
            )
        )
    for cls, words in (("anticoagulant", "anticoagulants"), ("nsaid", "NSAIDs")):
        same = [p.label for p in plans if p.cls == cls]
        if len(same) > 1:
            warnings.append(
                f"two or more {words} in one visit ({', '.join(same)}): check the list with "
                "the prescriber."
            )
    order = {"late": 0, "stop": 1}
    plans.sort(key=lambda p: (order.get(p.action, 2), p.last_dose or date.max))
    return plans


def make_plan(
    instruction_set: InstructionSet,
    visit: Visit,
    site: Site,
    table: MedicineTable,
    now: datetime | None = None,
) -> Plan:
    """Compute every concrete moment of ``visit`` on ``site``'s clock, as of ``now`` (default:
    :func:`current_time`). Moments already past are marked in ``plan.late`` and warned of."""
    timing = instruction_set.data["timing"]
    now = now or current_time(site.tz)
    plan = Plan(instruction_set, visit, site, resolve_options(instruction_set, visit), now=now)
    start = localize(visit.date, visit.time, site.tz, visit.fold)
    end = shift_hours(start, timing["duration"]["minutes_max"] / 60)
    arrive = shift_hours(start, -timing["arrive"]["minutes_before"] / 60)
    moments = {"start": start, "end": end, "arrive": arrive}
    for kind, name in (("solids", "stop_solids"), ("clear_liquids", "stop_liquids")):
        fast = timing.get("fasting", {}).get(kind)
        if fast and plan.applies(fast.get("when")):
            anchor = arrive if fast["before"] == "arrival" else start
            moments[name] = shift_hours(anchor, -fast["hours"])
    for key in span_moments():
        span = timing.get(key)
        if span and plan.applies(span.get("when")):
            anchor = end if span.get("from") == "end" else start
            moments[MOMENT_NAMES.get(key, key)] = _span(anchor, span)
    if "recovery" in timing:
        moments["recovery_from"] = shift_days(start, 7 * timing["recovery"]["weeks_min"])
        moments["recovery_to"] = shift_days(start, 7 * timing["recovery"]["weeks_max"])
    if site.wound_check_days:
        moments["wound_check"] = shift_days(start, site.wound_check_days)
    plan.moments = moments
    if end < now:
        plan.warnings.append("the whole visit is in the past: check the date and time.")
    elif any(plan.late.get(name) for name in ("stop_solids", "stop_liquids")):
        plan.warnings.append(
            "too late to start the fast on time. The handout tells the patient to call today."
        )
    plan.medicines = plan_medicines(
        visit.medications,
        table,
        instruction_set.bleeding_risk,
        visit.date,
        sedation=plan.sedation,
        unknown=site.unknown_medicines,
        today=now.date(),
        warnings=plan.warnings,
    )
    return plan

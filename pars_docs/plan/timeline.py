"""Turn a visit and an instruction set into concrete moments on the site's clock.

The moments themselves are counted in :mod:`pars_docs.plan.moments` (format 2: every moment named
by the set); the plan holds them, the visit's conditions and the patient's medicines with
the set's medicine rules applied. Hours are counted on absolute time (UTC), so "6 hours
before 8:00 AM" on the morning clocks spring forward is 1:00 AM. Days, weeks and months are
counted on the calendar: "2 days after 9:00 AM" is 9:00 AM two dates later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..clock import current_time
from ..errors import Said, UsageError, plain
from ..load.medicines import MedicineTable
from .moments import Repeat, Timeline, resolve, shift_days, shift_hours
from .moments import localize as localize_named

if TYPE_CHECKING:
    from ..load.library import InstructionSet
    from ..load.medicines import Medicine
    from ..load.site import Site
    from ..read.visit import Visit

UTC = timezone.utc
# Conditions pars-docs works out from the visit; a set cannot declare or set them.
DERIVED = ("afternoon",)
__all__ = ["shift_days", "shift_hours"]


@dataclass(frozen=True)
class MedicinePlan:
    """What one of the patient's medicines needs around this procedure."""

    name: str  # the name the patient knows it by, spelt as in the table
    generic: str
    kind: str
    note: str
    action: str  # "stop", "late" (the last dose is already past), "keep", "ask" or "avoid"
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
    avoid_until: date | None = None  # a medicine rule's avoid_until: not until this day


@dataclass
class Plan:
    """Everything a rendition needs: the visit, the set, the site and the computed moments."""

    instruction_set: InstructionSet
    visit: Visit
    site: Site
    options: Mapping[str, bool]  # every condition (declared and derived), resolved
    moments: dict[str, Any] = field(default_factory=dict)  # see moments.Timeline
    medicines: list[MedicinePlan] = field(default_factory=list)
    now: datetime | None = None  # when the handout is made, on the site's clock
    reprint: bool = False  # the whole visit is over: a reprint (--include-past)
    medicine_words_draft: bool = False  # the medicines listed are worded by a draft translation
    warnings: list[str] = field(default_factory=list)
    repeats: dict[str, Repeat] = field(default_factory=dict)

    @property
    def timeline(self) -> Timeline:
        """The moments, repeated tasks and the set's wording for each (moments.Timeline)."""
        return Timeline(self.moments, self.repeats, self.instruction_set.data["timing"])

    @property
    def late(self) -> dict[str, bool]:
        """Each moment name: whether it is already past when the handout is made (a day-only
        moment: its day is before today; a series: its last moment is past)."""
        return {name: past(moment, self.now) for name, moment in self.moments.items()}

    @property
    def sedation(self) -> bool:
        return self.options.get("sedation", False)

    def applies(self, condition: Mapping[str, bool] | None) -> bool:
        """Whether an item with this ``when`` condition belongs in this visit's handout."""
        if not condition:
            return True
        return all(self.options.get(key, False) == want for key, want in condition.items())


def open_day(day: date, site: Site, step: int = 1) -> date:
    """``day`` if the clinic is open then, else the next open day (``step`` -1: the one
    before), by the site's ``clinic_days`` and ``closed_dates``."""
    for _ in range(800):  # a profile holds at most 400 closed dates and one open weekday
        if day.weekday() in site.clinic_days and day not in site.closed_dates:
            return day
        day += timedelta(days=step)
    return day


def _on_clinic_days(plan: Plan, timing: Mapping[str, Any], site: Site) -> None:
    """Move each moment the set marks ``clinic_day`` onto a day the clinic is open: a
    follow-up on a Saturday to Monday, a call-by day on a Sunday to the Friday before."""
    for name, entry in timing.items():
        rule = entry.get("clinic_day") if isinstance(entry, Mapping) else None
        moment = plan.moments.get(name)
        if not rule or moment is None or isinstance(moment, list):
            continue
        day = moment.date() if isinstance(moment, datetime) else moment
        moved = open_day(day, site, -1 if rule == "before" else 1)
        if moved != day:
            shift = (moved - day).days
            plan.moments[name] = (
                shift_days(moment, shift) if isinstance(moment, datetime) else moved
            )


def past(moment: Any, now: datetime | None) -> bool:
    """Whether ``moment`` (a datetime, a day, or a series' list) is before ``now``."""
    if now is None:
        return False
    if isinstance(moment, list):
        return bool(moment) and past(moment[-1], now)
    if isinstance(moment, datetime):
        return moment < now
    return moment < now.date()


def localize(day: date, clock: time, tz: ZoneInfo, fold: int = 0) -> datetime:
    """The aware datetime for a wall-clock time, refusing one the zone skips.

    In the hour clocks fall back, ``fold`` picks the reading: 0 the earlier (the default for a
    time typed by a person), 1 the later.
    """
    return localize_named(day, clock, tz, "time", fold)


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
            plain(
                f"{name}: {instruction_set.id} is always done {always} {name}; "
                f"{name} cannot be turned {'off' if option['default'] else 'on'}"
            ),
            field=name,
        )
    return requested


def declared_options(instruction_set: InstructionSet) -> list[str]:
    """The options the set declares, in the order written."""
    return list(instruction_set.data.get("options") or {})


def requested_option(visit: Visit, name: str) -> bool | None:
    """What the visit asks for option ``name`` (None: the set's default)."""
    if name == "sedation" and visit.sedation is not None:
        return visit.sedation
    return dict(visit.options).get(name)


def resolve_options(
    instruction_set: InstructionSet, visit: Visit, start: datetime | None = None
) -> dict[str, bool]:
    """Every condition's value for ``visit``: each declared option (the visit's choice or the
    set's default), and the derived ``afternoon`` (a start at or after 12:00)."""
    declared = declared_options(instruction_set)
    for name, _ in visit.options:
        if name not in declared:
            raise UsageError(
                f"option: {instruction_set.id} has no option '{name}'; its options: "
                f"{', '.join(declared) or '(none)'}",
                field="option",
            )
    options = {
        name: resolve_option(instruction_set, name, requested_option(visit, name))
        for name in declared
    }
    options["afternoon"] = (start.hour if start else visit.time.hour) >= 12
    return options


def redacted(warning: str) -> str:
    """``warning`` as a log may show it."""
    return warning.redacted if isinstance(warning, Said) else warning


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
    rules: Iterable[Mapping[str, Any]] = (),
    moments: Mapping[str, Any] | None = None,
) -> list[MedicinePlan]:
    """One plan per medicine, in date order: pauses by their last dose, then the rest.

    An unknown name raises, unless ``unknown`` is ``"ask"``: then the patient is told to ask
    us and a warning is added. A last dose before ``today`` becomes ``late``. The set's
    medicine ``rules`` (see :func:`apply_rules`) act on the table's pause, with the dates of
    ``moments``.
    """
    rules = list(rules)
    plans = []
    seen = set()
    warnings = warnings if warnings is not None else []
    for name in names:
        found = table.read(name) if unknown == "ask" else table.must_read(name)
        if found is None:
            asks = " The handout asks the patient to call about it."
            warnings.append(
                Said(table.unknown_message(name) + asks, table.unknown_message(name, "…") + asks)
            )
            plans.append(MedicinePlan(name, "", "", "", "ask", "", label=name))
            continue
        if found.dropped:
            read_as = f"' is read as {found.name}; '{found.dropped}' is not printed"
            warnings.append(Said(f"medication: '{name}{read_as}", f"medication: '…{read_as}"))
        med, name = found.medicine, found.name
        if med.name in seen:
            continue  # "apixaban" and "Eliquis" are one medicine: one line
        seen.add(med.name)
        note = " ".join(part for part in (med.note, sedation and med.sedation_note) if part)
        rule = med.pause.get(risk) or {"action": "ask", "source": ""}
        for extra in rules:
            if matches(extra, med) and "stop_days_before" in extra:
                rule = {
                    k: extra[k]
                    for k in ("stop_days_before", "restart_days_after", "source")
                    if k in extra
                }
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
            plans.append(apply_rules(plan, med, rules, moments))
            continue
        before, after = rule["stop_days_before"], rule.get("restart_days_after")
        last_dose = day - timedelta(days=before + 1)
        late = today is not None and today > last_dose
        if late:
            warnings.append(
                f"too late to stop {name} on time: its last dose was due {before + 1} days "
                "before the procedure day. The handout tells the patient to call today."
            )
        paused = replace(
            plan,
            action="late" if late else "stop",
            stop_days_before=before,
            restart_days_after=after,
            last_dose=last_dose,
            first_skip=day - timedelta(days=before),
            restart=day + timedelta(days=after) if after is not None else None,
        )
        plans.append(apply_rules(paused, med, rules, moments))
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


def matches(rule: Mapping[str, Any], med: Medicine) -> bool:
    """Whether a medicine rule of the set names ``med`` (by class, or by name or brand)."""
    if med.cls in (rule.get("classes") or ()):
        return True
    names = {n.casefold() for n in (med.name, *med.brands)}
    return any(str(n).casefold() in names for n in rule.get("medicines") or ())


def _first_day_after(moment: Any) -> date | None:
    """The first whole day on which ``moment`` has already happened: a day-only moment's own
    day, and the day after a timed one (unless it falls at midnight). A dose taken at any hour
    of that day comes after the moment: "restart Eliquis on March 17" with the leads taken
    out at 9:00 AM that day would let a morning dose come first."""
    if isinstance(moment, datetime):
        if moment.time() == time(0):
            return moment.date()
        return moment.date() + timedelta(days=1)
    return moment if isinstance(moment, date) else None


def apply_rules(
    plan: MedicinePlan,
    med: Medicine,
    rules: Iterable[Mapping[str, Any]],
    moments: Mapping[str, Any] | None,
) -> MedicinePlan:
    """``plan`` with the set's ``restart_not_before`` and ``avoid_until`` rules applied: a
    paused medicine restarts no earlier than the first whole day after the moment; one kept
    (or left to ask) is avoided until that day. A rule whose moment this visit lacks does
    nothing."""
    for rule in rules:
        if not matches(rule, med):
            continue
        for key in ("restart_not_before", "avoid_until"):
            day = _first_day_after((moments or {}).get(rule.get(key, "")))
            if day is None:
                continue
            if plan.action in ("stop", "late"):
                restart = max(plan.restart, day) if plan.restart else day
                plan = replace(plan, restart=restart)
                if key == "avoid_until":
                    plan = replace(plan, avoid_until=day)
            elif key == "avoid_until":
                plan = replace(plan, action="avoid", avoid_until=day)
    return plan


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
    start = localize(visit.date, visit.time, site.tz, visit.fold)
    plan = Plan(
        instruction_set, visit, site, resolve_options(instruction_set, visit, start), now=now
    )
    timeline = resolve(timing, start, plan.applies, {"wound_check_days": site.wound_check_days})
    plan.moments = timeline.moments
    plan.repeats = timeline.repeats
    _on_clinic_days(plan, timing, site)
    late = plan.late
    if past(plan.moments["end"], now):
        plan.warnings.append("the whole visit is in the past: check the date and time.")
    else:
        # A call about medicines (for_medicines) is left to the medicine lines' warnings.
        missed = [
            name
            for name in plan.moments
            if late.get(name)
            and timeline.entry(name).get("late")
            and not timeline.entry(name).get("for_medicines")
        ]
        if missed:
            plan.warnings.append(
                f"too late for {', '.join(missed)} on time. The handout tells the patient to "
                "call today."
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
        rules=instruction_set.data.get("medicine_rules") or (),
        moments=plan.moments,
    )
    return plan

"""The dry run: every text of an instruction set composed for every visit its options allow.

A misspelt variable, or a moment used where it does not exist (the fasting time without
sedation), fails here, with the file, line and field, not at the desk in front of a patient.
It needs the planner and the composer, so it is not part of loading a set (the load stage never
reads them): the engine runs it before a set's first handout, ``pars-docs check`` runs it on
every set and translation, and the build runs it on the built-in ones. A set that passed,
unchanged, with the same medicine table and the same pars-docs, is not tried again (the
start-up cache, :mod:`pars_docs.checked`).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from .. import checked
from ..errors import InstructionError
from ..load.library import InstructionSet, Library, texts
from ..load.loader import LoadedYAML, load_yaml
from ..load.medicines import MedicineTable, load_medicine_table
from ..load.site import Site
from ..load.structure import conditions
from ..load.validate import problem
from ..plan.timeline import MedicinePlan, Plan, make_plan, option_choices
from ..read.visit import Visit
from .composer import templates_for, text_context, view_model


def _sample_medicines(day: date) -> list[MedicinePlan]:
    """One medicine of each kind a handout can show: paused with and without a restart day,
    kept, and left to the prescriber."""
    return [
        MedicinePlan("Sample", "sample", "", "", "stop", "", 3, 1, day, day, day, "Sample"),
        MedicinePlan("Sample", "sample", "", "", "stop", "", 3, None, day, day, None, "Sample"),
        MedicinePlan("Sample", "sample", "", "", "late", "", 3, 1, day, day, day, "Sample"),
        MedicinePlan("Sample", "sample", "", "", "late", "", 3, None, day, day, None, "Sample"),
        MedicinePlan("Sample", "sample", "", "", "keep", "", label="Sample", concern="bleeding"),
        MedicinePlan("Sample", "sample", "", "", "ask", "", label="Sample", concern="diabetes"),
        MedicinePlan("Sample", "sample", "", "", "ask", "", label="Sample", concern="slow_stomach"),
    ]


def problems(iset: InstructionSet, loaded: LoadedYAML, table: MedicineTable) -> list[str]:
    """Render every text for every visit option with a sample visit and one of each medicine;
    every problem found, each naming the file, line and field (``loaded`` is the set's file)."""
    site = Site(
        name="Clinic",
        phone="555",
        after_hours_phone="555",
        address="",
        tz=ZoneInfo("UTC"),
        wound_check_days=7,
    )
    names = conditions()
    found = []
    templates = templates_for(None, iset.language)
    for values in itertools.product(*(option_choices(iset, name) for name in names)):
        options = dict(zip(names, values, strict=True))
        sample = Visit(iset.id, "Sample", date(2026, 6, 10), time(9, 0), "Sample")
        changes: dict[str, Any] = dict(options)
        visit = dataclasses.replace(sample, **changes)
        # Made long before the visit (nothing late), and after it (everything late).
        plan = make_plan(iset, visit, site, table, now=datetime(2026, 1, 1, tzinfo=site.tz))
        plan.medicines = _sample_medicines(visit.date)
        after = datetime(2027, 1, 1, tzinfo=site.tz)
        try:
            view_model(plan, templates)
            view_model(Plan(iset, visit, site, options, plan.moments, [], after), templates)
        except jinja2.UndefinedError as e:
            field = _field_of_failure(iset.data, templates, text_context(plan), visit.date)
            chosen = ", ".join(f"{name}={value}" for name, value in options.items())
            found.append(problem(loaded, field, f"{e.message} (with {chosen})"))
        except jinja2.TemplateError as e:
            found.append(f"{loaded.path}: template error: {e}")
    return sorted(set(found))


def _field_of_failure(data: dict, templates, context: dict, day: date) -> tuple:
    """Find which text failed to render, to point the author at its line."""
    samples = _sample_medicines(day)
    for field, text in texts(data, ()):
        # A medicine line is tried with the medicines it is shown for; any other text once.
        action = field[-1] if field[-1] in ("stop", "late", "keep", "ask") else None
        for sample in [m for m in samples if m.action == action] or samples[:1]:
            try:
                templates.render_text(text, {**context, "med": sample})
            except jinja2.UndefinedError:
                return field
    return ()


def check_set(library: Library, iset: InstructionSet) -> None:
    """Raise :class:`InstructionError` with every problem the dry run finds in ``iset`` (a set
    or a translation from ``library``)."""
    table_path = library.table_path.resolve()
    memo = (iset.path, iset.language, table_path)
    if _PASSED.get(memo) is iset:
        return
    loaded = load_yaml(iset.path, InstructionError)
    table = load_medicine_table(table_path)
    # What is composed: the set's data (a translation's merged with its English set's).
    data = json.dumps(iset.data, sort_keys=True, default=str)
    check = checked.key("dry run", iset.path.name, iset.language, data, table.text)
    if not checked.passed(check):
        found = problems(iset, loaded, table)
        if found:
            raise InstructionError("\n".join(found))
        checked.remember(check)
    _PASSED[memo] = iset


# The set this process last saw pass, by (path, language, medicine table): the same object
# the library's cache hands out, so a set loaded again (a changed file) is tried again.
_PASSED: dict[tuple[Path, str, Path], InstructionSet] = {}


def check_file(library: Library, path: Path) -> str:
    """Check any pars-docs YAML file as :meth:`Library.check_file` does, and dry-run it if it
    is an instruction set or a translation. Returns a short description of it."""
    description = library.check_file(path)
    iset = library.set_in_file(path)
    if iset is not None:
        check_set(library, iset)
    return description


def check_library(library: Library) -> list[str]:
    """Dry-run every set of ``library`` and every translation; one line per problem (the
    build runs this on the built-in sets, so their records ship checked)."""
    found: list[str] = []
    isets = [library.get(set_id) for set_id in library.ids()]
    isets += [library.get(set_id, language) for set_id, language, _ in library.translation_files()]
    for iset in isets:
        try:
            check_set(library, iset)
        except InstructionError as e:
            found.extend(str(e).splitlines())
    return found

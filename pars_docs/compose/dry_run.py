"""The dry run: every text of an instruction set composed for every visit its options allow.

A misspelt variable, or a moment used where it does not exist (the fasting time without
sedation), fails here, with the file, line and field, not at the desk in front of a patient.
It needs the planner and the composer, so it is not part of loading a set (the load stage never
reads them): the engine runs it before a set's first handout, ``pars-docs check`` runs it on
every set and translation, and the build runs it on the built-in ones. A set that passed,
unchanged, with the same medicine table and the same pars-docs, is not tried again (the
start-up cache, :mod:`pars_docs.startup_cache`).
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from .. import startup_cache
from ..errors import InstructionError, VisitError
from ..load.checks import MEDICINE_TEXTS, moment_names
from ..load.library import InstructionSet, Library
from ..load.loader import LoadedYAML, load_yaml
from ..load.medicines import MedicineTable, load_medicine_table
from ..load.site import Site
from ..load.structure import texts
from ..load.validate import problem
from ..plan.timeline import MedicinePlan, Plan, declared_options, make_plan, option_choices
from ..read.visit import Visit
from .composer import key_time_views, templates_for, text_context, view_model

# -- the dry run -------------------------------------------------------------------------


def _sample_medicines(day: date, avoids: bool = True) -> list:
    """One medicine of each kind a handout can show: paused with and without a restart day,
    kept, left to the prescriber, and (for a set with an ``avoid_until`` rule) avoided until
    a moment."""
    samples = [
        MedicinePlan("Sample", "sample", "", "", "stop", "", 3, 1, day, day, day, "Sample"),
        MedicinePlan("Sample", "sample", "", "", "stop", "", 3, None, day, day, None, "Sample"),
        MedicinePlan("Sample", "sample", "", "", "late", "", 3, 1, day, day, day, "Sample"),
        MedicinePlan("Sample", "sample", "", "", "late", "", 3, None, day, day, None, "Sample"),
        MedicinePlan("Sample", "sample", "", "", "keep", "", label="Sample", concern="bleeding"),
        MedicinePlan("Sample", "sample", "", "", "ask", "", label="Sample", concern="diabetes"),
        MedicinePlan("Sample", "sample", "", "", "ask", "", label="Sample", concern="slow_stomach"),
        MedicinePlan("Sample", "sample", "", "", "avoid", "", label="Sample", avoid_until=day),
    ]
    return samples if avoids else samples[:-1]


def _conditions_on(data: dict, field: tuple) -> list[dict]:
    """The ``when`` of every mapping on the way to ``field``."""
    out = []
    node: Any = data
    for key in field:
        if isinstance(node, dict) and isinstance(node.get("when"), dict):
            out.append(node["when"])
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    if isinstance(node, dict) and isinstance(node.get("when"), dict):
        out.append(node["when"])
    return out


def problems(iset: InstructionSet, loaded: LoadedYAML, table: MedicineTable) -> list[str]:
    """Render every text for every combination of the set's options (and a morning and an
    afternoon start), with a sample visit and one medicine of each kind, made long before the
    visit (nothing late) and after it (everything late)."""
    from ..render.ics import calendar_context

    site = Site(
        name="Clinic",
        phone="555",
        after_hours_phone="555",
        address="",
        tz=ZoneInfo("UTC"),
        wound_check_days=7,
    )
    names = declared_options(iset)
    problems = []
    templates = templates_for(None, iset.language)
    data = iset.data
    timing = data["timing"]
    defined = moment_names(timing)
    choices = [option_choices(iset, name) for name in names]
    avoids = any("avoid_until" in r for r in data.get("medicine_rules") or [])
    clocks = (time(9, 0), time(14, 0))
    for values, clock in itertools.product(itertools.product(*choices), clocks):
        options: dict[str, bool] = dict(zip(names, values, strict=True))
        visit = Visit(
            iset.id,
            "Sample",
            date(2026, 6, 10),
            clock,
            "Sample",
            sedation=options.get("sedation"),
            options=tuple(sorted((k, v) for k, v in options.items() if k != "sedation")),
        )
        try:
            plan = make_plan(iset, visit, site, table, now=datetime(2026, 1, 1, tzinfo=site.tz))
        except VisitError as e:
            problems.append(f"{loaded.path}: {e.message}")
            continue
        plan.medicines = _sample_medicines(visit.date, avoids)
        found_before = len(problems)
        after = datetime(2027, 1, 1, tzinfo=site.tz)
        late_plan = Plan(
            iset, visit, site, plan.options, plan.moments, [], after, repeats=plan.repeats
        )
        shown = ", ".join(f"{k}={v}" for k, v in plan.options.items())
        for one in (plan, late_plan):
            context = text_context(one)
            if one is plan:  # every medicine class listed, so both branches are rendered
                context["takes"] = dict.fromkeys(context["takes"], True)
            calendar = calendar_context(one)
            for field, text in texts(data):
                if not all(one.applies(w) for w in _conditions_on(data, field)):
                    continue
                if (
                    field[0] == "timing"
                    and field[1] not in one.moments
                    and field[1] not in one.repeats
                ):
                    continue  # the moment does not exist for this visit: its words are unused
                here = calendar if "calendar" in field else context
                samples = (
                    _sample_medicines(visit.date, avoids)
                    if field[-1] in (*MEDICINE_TEXTS, "avoid")
                    else [None]
                )
                for sample in samples:
                    if (
                        sample is not None
                        and field[-1] in ("stop", "late", "keep", "ask", "avoid")
                        and sample.action != field[-1]
                    ):
                        continue
                    try:
                        templates.render_text(text, {**here, "med": sample} if sample else here)
                    except jinja2.UndefinedError as e:
                        problems.append(
                            problem(loaded, field, _plain(e.message, text, timing, defined, shown))
                        )
                        break
                    except jinja2.TemplateError as e:
                        problems.append(problem(loaded, field, f"template error: {e}"))
                        break
        if len(problems) > found_before:
            continue  # named text by text above
        try:
            view_model(plan, templates)
            key_time_views(plan, templates)
        except (jinja2.TemplateError, KeyError, IndexError, TypeError) as e:
            problems.append(
                f"{loaded.path}: cannot be composed with {shown} ({type(e).__name__}: {e})"
            )
    return sorted(set(problems))


_UNDEFINED = re.compile(r"has no attribute '([^']+)'|'([^']+)' is undefined")


def _plain(message: str | None, text: str, timing: dict, defined: list[str], options: str) -> str:
    """A Jinja undefined-name message said in the author's words."""
    match = _UNDEFINED.search(message or "")
    name = (match.group(1) or match.group(2)) if match else None
    if name is None:
        return f"a value this visit does not have is used ({message})"
    if re.search(rf"\bmoments\.{re.escape(name)}\b", text) or re.search(
        rf"\blate\.{re.escape(name)}\b", text
    ):
        if name in timing:
            when = timing[name].get("when") if isinstance(timing[name], dict) else None
            cond = ", ".join(f"{k}: {str(v).lower()}" for k, v in (when or {}).items())
            return f"moment '{name}' does not exist for a visit with {options}" + (
                f" (it has when: {{{cond}}}); give this text the same when" if cond else ""
            )
        return f"unknown moment '{name}' in wording; the set defines: {', '.join(defined)}"
    if re.search(rf"\brepeats\.{re.escape(name)}\b", text):
        repeats = [n for n, e in timing.items() if isinstance(e, dict) and "every" in e]
        listed = ", ".join(repeats) or "(none)"
        return f"unknown repeated task '{name}' in wording; the set defines: {listed}"
    if re.search(rf"\bt\.{re.escape(name)}\b", text):
        return f"unknown timing entry '{name}' in wording; the set defines: {', '.join(timing)}"
    if re.search(rf"\bvisit\.{re.escape(name)}\b", text):
        return f"unknown visit value '{name}' in wording (a condition must be declared in options)"
    return f"unknown name '{name}' in wording (for a visit with {options})"


def check_set(library: Library, iset: InstructionSet) -> None:
    """Raise :class:`InstructionError` with every problem the dry run finds in ``iset`` (a set
    or a translation from ``library``)."""
    table_path = library.table_path.resolve()
    memo = (iset.path, iset.language, table_path)
    if _PASSED.get(memo) is iset:
        return
    # A clinic's changes to a built-in set: the merged set, with the clinic file's lines.
    loaded = iset.extension.loaded if iset.extension else load_yaml(iset.path, InstructionError)
    table = load_medicine_table(table_path)
    # What is composed: the set's data (a translation's merged with its English set's).
    data = json.dumps(iset.data, sort_keys=True, default=str)
    check = startup_cache.key("dry run", iset.path.name, iset.language, data, table.text)
    if not startup_cache.passed(check):
        found = problems(iset, loaded, table)
        if found:
            raise InstructionError("\n".join(found))
        startup_cache.remember(check)
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


def page_problems(library: Library, site: Site, language: str) -> list[str]:
    """A sample handout in ``language`` composed through the site's own page template (and
    the paragraphs it fills in), checked against the composed document's contract: an
    element a template makes that the renderers do not know is named here, by ``check``,
    not met first at the desk."""
    from dataclasses import replace

    from .composer import compose
    from .elements import problems as contract_problems

    for set_id in library.ids():
        try:
            if language not in library.languages(set_id):
                continue
            iset = library.get(set_id, language)
        except InstructionError:
            continue  # the set's own line reports it
        sample = replace(site, tz=ZoneInfo("UTC"), wound_check_days=site.wound_check_days or 7)
        visit = Visit(iset.id, "Sample", date(2026, 6, 10), time(9, 0), "Sample")
        table = library.medicine_table()
        plan = make_plan(iset, visit, sample, table, now=datetime(2026, 1, 1, tzinfo=sample.tz))
        templates = templates_for(site.templates_dir, language, site.clock)
        where = templates.loader.get_source(templates.doc_env, "handout.xml.j2")[1]
        found = contract_problems(compose(plan, templates))
        return [f"{where}: composed for {set_id} in {language}: {text}" for text in found]
    return []


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

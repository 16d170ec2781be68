"""Compose a handout: fill the instruction set's wording and the page template with a plan.

The result is a small XML document (``templates/handout.xml.j2``) that every renderer reads:
the PDF renderer lays it out, the text renderer prints it. Patient values are escaped by
Jinja's autoescaping and are never evaluated as templates.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import MutableMapping
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from importlib import import_module
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError

from .. import startup_cache
from ..errors import InstructionError, UsageError
from ..load.languages import load_labels, resolve
from ..load.loader import load_yaml
from ..load.medicines import CLASSES
from ..load.pictures import pictures
from ..load.structure import SECTIONS, slot_names
from ..plan.keytimes import asked_about, clock_change, key_times
from ..read.visit import PartialDate
from ..resources import templates_dir
from ..sandbox import bounded_render, environment, unsafe_constructs
from .dates import (
    OWN_NAME_COUNTS,
    babel_version,
    format_date,
    format_datetime,
    own_names_problem,
)
from .markup import BOLD_OFF, strong

HANDOUT_TEMPLATE = "handout.xml.j2"
REQUIRED_FORMATS = ("when", "when_year", "day", "day_year", "time", "date_long", "date_short")
PACKET_TEMPLATE = "packet.xml.j2"
_SPACES = re.compile(r"[ \t\n\r\f\v]+")
_DOUBLE_STOP = re.compile(f"\\.({BOLD_OFF})\\.")
PAGE_TEMPLATES = (HANDOUT_TEMPLATE, PACKET_TEMPLATE)


def _not_pattern(name: str) -> bool:
    """Whether a language's formats entry is not a date pattern: words added after a time
    (repeated_*), the decimal sign, or the language's own names of months and weekdays."""
    return name.startswith("repeated") or name == "decimal" or name in OWN_NAME_COUNTS


def _repeated(moment: datetime) -> bool:
    """Whether the wall-clock reading of ``moment`` happens twice (clocks going back)."""
    other = moment.replace(fold=1 - moment.fold)
    return other.utcoffset() != moment.utcoffset()


def _format_problems(chosen, language: str) -> list[tuple[tuple, str]]:
    """What is wrong with one language's formats: a missing one, one that is not text, or a
    pattern Babel cannot write (tried on a sample moment, so it never fails mid-batch)."""
    if not isinstance(chosen, dict):
        return [((), f"the formats for '{language}' must map names to patterns")]
    problems: list[tuple[tuple, str]] = []
    missing = [k for k in REQUIRED_FORMATS if k not in chosen]
    if missing:
        problems.append(((), f"formats for '{language}' lack {', '.join(missing)}"))
    import babel.dates  # the authority on patterns; compose/dates.py writes the usual ones itself

    sample = datetime(2026, 12, 3, 8, 30)
    locale = language.replace("-", "_")
    own = [name for name in OWN_NAME_COUNTS if name in chosen]
    for name in own:
        names, count = chosen[name], OWN_NAME_COUNTS[name]
        if not (
            isinstance(names, list)
            and len(names) == count
            and all(isinstance(n, str) and n.strip() for n in names)
        ):
            first = "January" if name == "months" else "Monday"
            problems.append(((name,), f"{name}: must list {count} names, {first} first"))
    for name, pattern in chosen.items():
        if name in OWN_NAME_COUNTS:
            continue
        if not isinstance(pattern, str):
            problems.append(((name,), f"{name}: must be text"))
            continue
        if _not_pattern(name):
            continue  # words added after a time, or the decimal sign: not a pattern
        try:
            babel.dates.format_datetime(sample, pattern, locale=locale)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            problems.append(((name,), f"{name}: not a date pattern Babel can write ({e})"))
            continue
        if own and (why := own_names_problem(pattern)):
            problems.append(((name,), f"{name}: {why}"))
    return problems


class LocalNumber(float):
    """A number that prints with a decimal sign other than the point ("100,4"), and
    otherwise compares and counts as the number it is."""

    sign = "."

    def __str__(self) -> str:
        return float.__repr__(self).replace(".", self.sign)


def _with_decimal(value, sign: str):
    """``value`` (the timing, nested) with each fractional number a :class:`LocalNumber`."""
    if isinstance(value, dict):
        return {key: _with_decimal(item, sign) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_decimal(item, sign) for item in value]
    if isinstance(value, float) and not value.is_integer():
        number = LocalNumber(value)
        number.sign = sign
        return number
    return value


def tidy_spaces(text: str) -> str:
    """Runs of spaces and line breaks made one space; no-break spaces ("8:00 a. m.") kept."""
    return _SPACES.sub(" ", text).strip()


def single_stop(text: str) -> str:
    """A moment that ends in an abbreviation ("8:00 a. m.") ends its sentence too: the
    sentence's own full stop after it is dropped."""
    return _DOUBLE_STOP.sub(r".\1", text)


def fill(label: str, **values) -> str:
    """A label with its ``{name}`` places filled: ``"Page {page}"`` and so on."""
    return re.sub(r"{(\w+)}", lambda m: str(values.get(m[1], m[0])), label)


def clock_24(pattern: str) -> str:
    """A CLDR pattern on the 24-hour clock: ``h`` → ``H``, the AM/PM field dropped. Quoted
    text is left as it stands."""
    out, quoted = [], False
    for part in re.split(r"('[^']*')", pattern):
        quoted = part.startswith("'") and len(part) > 1
        if not quoted:
            part = re.sub(r"\s*a+", "", part.replace("h", "H"))
        out.append(part)
    return "".join(out)


class Templates:
    """The templates, date formats and labels for one site and language: its own folder
    first, then the built-ins. ``clock`` is 12 or 24 (the site's choice)."""

    def __init__(self, override: Path | None = None, language: str = "en", clock: int = 12):
        self.dirs = [d for d in (override, templates_dir()) if d]
        labels = load_labels(tuple(self.dirs))
        try:
            # The nearest language the labels have: a site in es-US is written in es.
            language = resolve(language, labels.languages)
        except UsageError as e:
            raise InstructionError(
                f"templates: no labels for language '{language}' in {labels.loaded.path}"
            ) from e
        self.labels = labels.get(language)
        self.language = language
        self.clock = clock
        self.formats = self._formats(language)
        # The decimal sign of numbers the wording prints from `timing` (100,4 °F in French).
        self.decimal = str(self.formats.get("decimal", "."))
        # A language's own names of months and weekdays, where CLDR has none (Haitian Creole).
        self.own_names = {k: self.formats[k] for k in OWN_NAME_COUNTS if k in self.formats}
        self._local_timing: tuple[object, dict] | None = None
        if clock == 24:
            self.formats = {
                key: clock_24(value) if isinstance(value, str) and not _not_pattern(key) else value
                for key, value in self.formats.items()
            }
        # A site's own templates are the clinic's data: both run sandboxed (sandbox.py).
        self.text_env = environment(autoescape=False, keep_trailing_newline=False)
        self.loader = _Loader([str(d) for d in self.dirs])
        self.doc_env = environment(
            loader=self.loader,
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        for env in (self.text_env, self.doc_env):
            env.filters.update(
                when=self._when,
                day=self._day,
                time=self._time,
                date_long=self._date_long,
                date_short=self._date_short,
                on_the_day=self._on_the_day,
                strong=strong,
                fill=fill,
            )
        self._compiled: dict[str, jinja2.Template] = {}
        self._pages_checked = False

    def _formats(self, language: str) -> dict:
        for folder in self.dirs:
            path = folder / "formats.yaml"
            if path.is_file():
                loaded = load_yaml(path, InstructionError)
                table = loaded.data or {}
                if not isinstance(table, dict):
                    raise InstructionError(f"{path}: must map each language to its formats")
                base = language.replace("-", "_").split("_")[0]
                key = language if table.get(language) else base
                chosen = table.get(key)
                if chosen:
                    # Unchanged formats that passed before are not tried again (startup_cache.py).
                    check = startup_cache.key("date formats", key, loaded.text, babel_version())
                    if startup_cache.passed(check):
                        return chosen
                    problems = _format_problems(chosen, language)
                    if problems:
                        raise InstructionError(
                            "\n".join(
                                f"{loaded.where((key, *field))}: {text}" for field, text in problems
                            )
                        )
                    startup_cache.remember(check)
                    return chosen
        raise InstructionError(
            f"templates: no date formats for language '{language}' in formats.yaml"
        )

    def _as_written(self, value, pattern: str) -> tuple:
        """The moment as it will be written and the format to write it with.

        Exact midnight and noon have words of their own when the formats give them, and
        midnight is written as the end of the day before. The year check and the writing both
        ask here, so they always agree on which day is shown.
        """
        if (
            isinstance(value, datetime)
            and (value.minute, value.second) == (0, 0)
            and (value.hour in (0, 12))
        ):
            special = f"{pattern}_{'midnight' if value.hour == 0 else 'noon'}"
            if special in self.formats:
                if value.hour == 0 and not pattern.startswith("time"):
                    value = value - timedelta(days=1)  # the end of the day before
                return value, special
        return value, pattern

    def _fmt(self, value, pattern: str) -> str:
        if value is None:
            raise jinja2.UndefinedError(
                f"a date this visit does not have was given to the {pattern} filter (such as "
                "med.restart for a medicine whose restart the surgeon decides): put the text "
                "inside {% if … %}"
            )
        locale = self.language.replace("-", "_")
        if not isinstance(value, datetime):
            return format_date(value, self.formats[pattern], locale=locale, own=self.own_names)
        shown, key = self._as_written(value, pattern)
        # CLDR joins "a. m." with a narrow space that ReportLab would break a line at.
        text = format_datetime(shown, self.formats[key], locale=locale, own=self.own_names)
        text = text.replace("\u202f", "\u00a0")
        if key == pattern and pattern.startswith(("when", "time")) and _repeated(value):
            # The hour the clocks go back happens twice: say which one.
            which = "repeated_second" if value.fold else "repeated_first"
            text += self.formats.get(which, "")
        return text

    def _dated(self, ctx, value, pattern: str) -> str:
        """``pattern``, or its ``_year`` form when the day shown is not in the procedure's
        year (a fast that starts on New Year's Eve)."""
        start = ctx.get("moments", {}).get("start")
        if value is None or start is None:
            return self._fmt(value, pattern)
        shown, _ = self._as_written(value, pattern)
        return self._fmt(value, f"{pattern}_year" if shown.year != start.year else pattern)

    @jinja2.pass_context
    def _when(self, ctx, value: datetime) -> str:
        return strong(self._dated(ctx, value, "when"))

    @jinja2.pass_context
    def _day(self, ctx, value: date) -> str:
        return strong(self._dated(ctx, value, "day"))

    def _time(self, value: datetime) -> str:
        return strong(self._fmt(value, "time"))

    @jinja2.pass_context
    def _on_the_day(self, ctx, value: datetime) -> str:
        """A moment's clock time when it falls on the procedure's date (and is not
        midnight), else its day and time: a time alone is clear only on that day."""
        start = ctx.get("moments", {}).get("start")
        if (
            isinstance(value, datetime)
            and start is not None
            and value.date() == start.date()
            and (value.hour, value.minute) != (0, 0)
        ):
            return self._time(value)
        return self._when(ctx, value)

    def _date_long(self, value: date) -> str:
        return self._fmt(value, "date_long")

    def _date_short(self, value) -> str:
        if isinstance(value, PartialDate):  # a date of birth known to the year or month
            if value.month is None:
                return str(value.year)
            pattern = self.formats.get("month_year", "MMMM y")
            return format_date(
                value.first_day,
                pattern,
                locale=self.language.replace("-", "_"),
                own=self.own_names,
            )
        return self._fmt(value, "date_short")

    def page_problems(self) -> list[str]:
        """What is wrong with the page templates this site would use: a syntax error, or a
        construct that reaches for Python's internals (see :mod:`pars_docs.sandbox`)."""
        problems = []
        for name in PAGE_TEMPLATES:
            try:
                source, filename, _ = self.loader.get_source(self.doc_env, name)
            except jinja2.TemplateNotFound:
                problems.append(f"templates: {name}: not found")
                continue
            except (OSError, UnicodeDecodeError) as e:
                problems.append(f"templates: {name}: cannot read ({e})")
                continue
            try:
                unsafe = unsafe_constructs(source)
            except jinja2.TemplateSyntaxError as e:
                problems.append(f"{filename}:{e.lineno}: template error: {e.message}")
                continue
            problems += [
                f"{filename}: {what}: not allowed (a template may not reach Python's internals)"
                for what in unsafe
            ]
        return problems

    def _check_pages(self) -> None:
        """Raise :class:`InstructionError` for :meth:`page_problems`; page templates that
        passed before, unchanged, are not parsed again (see startup_cache.py)."""
        sources = []
        for name in PAGE_TEMPLATES:
            try:
                sources.append(self.loader.get_source(self.doc_env, name)[0])
            except (jinja2.TemplateNotFound, OSError, UnicodeDecodeError):
                sources.append("")  # page_problems names it
        check = startup_cache.key("page templates", *sources)
        if startup_cache.passed(check):
            return
        problems = self.page_problems()
        if problems:
            raise InstructionError("\n".join(problems))
        startup_cache.remember(check)

    def page(self, name: str, **context) -> str:
        """The page template ``name`` rendered in the sandbox. A template that reaches for
        Python's internals, or fails, is an :class:`InstructionError`, never a traceback."""
        if not self._pages_checked:
            self._check_pages()
            self._pages_checked = True
        try:
            return bounded_render(self.doc_env.get_template(name), context)
        except SecurityError as e:
            raise InstructionError(f"templates: {name}: not allowed ({e})") from e
        except jinja2.TemplateError as e:
            raise InstructionError(f"templates: {name}: {e}") from e
        except (ValueError, RecursionError, OverflowError, MemoryError) as e:
            # A number literal too long to read, or nesting too deep to compile.
            raise InstructionError(
                f"templates: {name}: cannot be compiled ({type(e).__name__})"
            ) from e

    def compile_text(self, source: str) -> jinja2.Template:
        """Compile one piece of instruction-set wording, once per process."""
        template = self._compiled.get(source)
        if template is None:
            template = self._compiled[source] = _from_string(self.text_env, source)
        return template

    def render_text(self, source: str, context: dict) -> str:
        if "{" not in source:
            # No variable, tag or comment: Jinja would give the text back unchanged.
            return single_stop(tidy_spaces(source))
        try:
            text = bounded_render(self.compile_text(source), self.numbers(context))
        except SecurityError as e:
            raise InstructionError(f"wording: not allowed ({e}): {source[:60]!r}") from e
        return single_stop(tidy_spaces(text))

    def numbers(self, context: dict) -> dict:
        """``context`` with the timing's fractional numbers written with this language's
        decimal sign, when it is not a point."""
        timing = context.get("t")
        if self.decimal == "." or not isinstance(timing, dict):
            return context
        if self._local_timing is None or self._local_timing[0] is not timing:
            self._local_timing = (timing, _with_decimal(timing, self.decimal))
        return {**context, "t": self._local_timing[1]}


def _from_string(env: jinja2.Environment, source: str) -> jinja2.Template:
    """``env.from_string(source)``, from the package's own compiled form when it shipped one.
    Compiled code is never kept in the user's cache (its records are data only, see
    startup_cache.py): wording the package did not ship is compiled once per process."""
    template = _shipped_template(env, source, None, None)
    if template is not None:
        return template
    try:
        return env.from_string(source)
    except (ValueError, RecursionError, OverflowError, MemoryError) as e:
        # A number literal too long to read, or nesting too deep to compile.
        raise InstructionError(f"wording: cannot be compiled ({type(e).__name__})") from e


class _Loader(jinja2.FileSystemLoader):
    """The templates' folders; a template the package shipped compiled is not compiled."""

    def load(
        self,
        environment: jinja2.Environment,
        name: str,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        source, filename, uptodate = self.get_source(environment, name)
        template = _shipped_template(environment, source, name, filename, globals)
        if template is None:
            return super().load(environment, name, globals)
        template._uptodate = uptodate
        return template


collecting: dict[str, str] | None = None
"""While the package is built: every template compiled, by key, as Python source."""


def compiled_key(env: jinja2.Environment, source: str, name: str | None) -> str:
    """What Jinja's compiled code depends on: its version, the environment's kind and
    settings, the template's name and its source."""
    digest = hashlib.sha256(f"jinja {jinja2.__version__}\0{name}\0".encode())
    kind = type(env)
    settings = (env.autoescape, env.trim_blocks, env.lstrip_blocks, env.keep_trailing_newline)
    generation = getattr(kind, "generation", 0)  # how the kind rewrites what it compiles
    digest.update(f"{kind.__module__}.{kind.__qualname__}.{generation}\0{settings!r}\0".encode())
    digest.update(source.encode("utf-8"))
    return digest.hexdigest()[:40]


@cache
def _has_compiled() -> bool:
    # The package's shipped records (startup_cache.py) hold one module per built-in template and
    # piece of wording, compiled when the package was built (pars_docs/prebuild.py).
    return (startup_cache.shipped_dir() / "__init__.py").is_file()


def _shipped_template(
    env: jinja2.Environment,
    source: str,
    name: str | None,
    filename: str | None,
    globals: MutableMapping[str, Any] | None = None,
) -> jinja2.Template | None:
    key = compiled_key(env, source, name)
    if collecting is not None:
        collecting[key] = env.compile(source, name, filename, raw=True, defer_init=True)
        return None
    if not _has_compiled():
        return None
    try:
        module = import_module(f"{startup_cache.__package__}.{startup_cache.SHIPPED}.t{key}")
        namespace = module.load(env)
    except ImportError:
        return None
    namespace["__file__"] = filename or "<template>"
    return env.template_class.from_module_dict(env, namespace, env.make_globals(globals))


@lru_cache(maxsize=16)
def templates_for(override: Path | None, language: str, clock: int = 12) -> Templates:
    return Templates(override, language, clock)


def asks(plan) -> str:
    """The medicines to ask us about (``{{ asks }}``), by the names their lines use, in the
    order of the list: a comma between two, which reads in every language built in."""
    return ", ".join(m.label or m.name for m in asked_about(plan))


def text_context(plan) -> dict:
    site = plan.site
    return {
        "visit": {
            "patient": plan.visit.patient,
            "clinician": plan.visit.clinician,
            **plan.options,
        },
        "clinic": {
            "name": site.name,
            "phone": site.phone,
            "after_hours_phone": site.after_hours_phone,
        },
        "t": plan.instruction_set.data["timing"],
        "moments": plan.moments,
        "repeats": {
            name: {"first": r.first, "last": r.last, "count": r.count}
            for name, r in plan.repeats.items()
        },
        "late": plan.late,
        # The medicines to ask us about, named as the medicine lines name them.
        "asks": asks(plan),
        # Which classes of medicine the patient listed: wording for one class only.
        "takes": {cls: any(m.cls == cls for m in plan.medicines) for cls in CLASSES},
    }


def _item(templates: Templates, item, context: dict, style: str, plan) -> dict | None:
    if isinstance(item, str):
        item = {"text": item}
    if not plan.applies(item.get("when")):
        return None
    check = item.get("check", style in ("checklist", "medicines"))
    text = templates.render_text(item["text"], context)
    # Wording that depends on a moment the visit may lack ({% if moments.x is defined %})
    # can come out empty: such an item is left out.
    return {"text": text, "check": check} if text else None


def _group(
    templates: Templates, group: dict | None, context: dict, plan, key: str = ""
) -> dict | None:
    if not group or not plan.applies(group.get("when")):
        return None
    style = group.get("style", "bullets")
    items = [_item(templates, i, context, style, plan) for i in group.get("items") or ()]
    view = {
        "key": key,
        "heading": templates.render_text(group["heading"], context),
        "intro": templates.render_text(group["intro"], context) if "intro" in group else None,
        "style": style,
        "icon": group.get("icon"),
        "picture": _picture(group),
        "items": [i for i in items if i],
    }
    shape = STYLES.get(style, _list)
    if shape is _list and group.get("items") and not view["items"] and not view["intro"]:
        return None  # every item's wording came out empty for this visit: no bare heading
    return shape(templates, group, context, plan, view)


def _picture(part: dict) -> dict | None:
    """The picture ``part`` (a group or ``about``) names: its name and its labels' names,
    whose words the page template takes from the labels (``picture_NAME_LABEL``)."""
    name = part.get("picture")
    if not name:
        return None
    known = pictures()
    if name not in known:
        raise InstructionError(
            f"picture '{name}' is not one of {', '.join(sorted(known))} (templates/pictures.yaml)"
        )
    return {"name": name, "labels": known[name].label_names}


def _list(templates: Templates, group: dict, context: dict, plan, view: dict) -> dict:
    return view


def _paragraph(templates: Templates, group: dict, context: dict, plan, view: dict) -> dict:
    view["text"] = templates.render_text(group["text"], context)
    return view


def _table(templates: Templates, group: dict, context: dict, plan, view: dict) -> dict | None:
    """A table with a row per moment of the group's series: each column gives the row's
    clock time, day and time, label, or a blank cell to write in."""
    rows = plan.moments.get(group["series"])
    if rows is None:
        return None  # the series does not exist for this visit
    labels = [templates.render_text(t, context) for t in group.get("row_labels") or ()]
    columns = group["columns"]
    view["columns"] = [templates.render_text(c["heading"], context) for c in columns]
    view["rows"] = [
        [_cell(templates, column, moment, labels, index, context) for column in columns]
        for index, moment in enumerate(rows)
    ]
    return view


def _cell(templates: Templates, column: dict, moment, labels: list, index: int, context: dict):
    value = column.get("value")
    if value == "time" and isinstance(moment, datetime):
        return templates._time(moment)
    if value in ("when", "time"):
        return templates.render_text(
            "{{ m | when }}" if isinstance(moment, datetime) else "{{ m | day }}",
            {**context, "m": moment},
        )
    if value == "offset":
        return labels[index] if index < len(labels) else ""
    return ""  # a cell to write in


CONCERNS = ("bleeding", "slow_stomach", "diabetes")


def _medicines(templates: Templates, group: dict, context: dict, plan, view: dict) -> dict:
    """The medicines group: an introduction that fits the medicines listed, then one line per
    medicine in date order, then the group's own items."""
    concerns = group.get("concerns", {})
    said = [
        templates.render_text(concerns[c], context)
        for c in CONCERNS
        if c in concerns and any(m.concern == c for m in plan.medicines)
    ]
    if said:
        view["intro"] = " ".join(filter(None, [view["intro"], *said]))
    lines = []
    for med in plan.medicines:
        lines.append(
            {
                "text": templates.render_text(group[med.action], {**context, "med": med}),
                "check": True,  # every medicine line asks the patient to do something
            }
        )
    if not plan.medicines:
        lines.append({"text": templates.render_text(group["none_listed"], context), "check": True})
    view["items"] = lines + view["items"]
    return view


# Each group style's maker: one edit here (and one per renderer) adds a style.
STYLES = {
    "checklist": _list,
    "bullets": _list,
    "steps": _list,
    "paragraph": _paragraph,
    "table": _table,
    "medicines": _medicines,
}


def groups_of(part: dict) -> list[tuple[str, dict]]:
    """A section's groups, in the order the author wrote them."""
    return [(name, group) for name, group in part.items() if name != "heading"]


def view_model(plan, templates: Templates) -> dict:
    """The instruction set's wording rendered for this plan, skipping what does not apply."""
    data = plan.instruction_set.data
    context = text_context(plan)

    def section(key: str) -> dict:
        part = data[key]
        groups = []
        for name, group in groups_of(part):
            view = _group(templates, group, context, plan, name)
            if view:
                groups.append(view)
        return {"heading": templates.render_text(part["heading"], context), "groups": groups}

    about = data["about"]
    calls = data["when_to_call"]
    own = data.get("slots") or {}
    slots: dict[str, list[str]] = {}
    for name in slot_names():
        slots[name] = [templates.render_text(own[name], context)] if name in own else []
        site_text = plan.site.slot(name, templates.language)
        if site_text:
            slots[name].append(site_text)
    return {
        "slots": slots,
        "about": {
            "heading": templates.render_text(about["heading"], context),
            "what": templates.render_text(about["what"], context),
            "treats_intro": (
                templates.render_text(about["treats_intro"], context)
                if "treats_intro" in about
                else None
            ),
            "treats": [templates.render_text(t, context) for t in about["treats"]],
            "picture": _picture(about),
        },
        **{key: section(key) for key in SECTIONS},
        "call_clinic": _group(templates, calls["call_clinic"], context, plan, "call_clinic"),
        "no_answer": (
            templates.render_text(calls["no_answer"], context) if "no_answer" in calls else None
        ),
        "call_911": _group(templates, calls["call_911"], context, plan, "call_911"),
    }


def translation_status(plan) -> str | None:
    """None for an English handout; else "draft" unless a reviewer approved both the set's
    translation and, when the handout lists medicines, the medicine table's ("reviewed")."""
    from ..load.translations import review_of

    translation = plan.instruction_set.translation
    if translation is None:
        return None
    attested = plan.site.translation_reviews
    if any(tag == translation.language for tag, _, _ in attested):
        return "reviewed"  # the clinic attests its review of the language, medicine words too
    review = review_of(translation.status, translation.reviewer, translation.date, "", ())
    return "draft" if review.status != "reviewed" or plan.medicine_words_draft else "reviewed"


def key_time_views(plan, templates: Templates) -> list:
    """The key times (keytimes.py), each with its words from the set rendered (``words``);
    a medicine line's words are the page's labels, filled in the template."""
    context = text_context(plan)
    timing = plan.instruction_set.data["timing"]
    views = []
    for item in key_times(plan):
        words = None
        if item.wording:
            words = templates.render_text(timing[item.name][item.wording], context)
        views.append({"k": item, "words": words})
    return views


def compose(
    plan, templates: Templates, other_language: str | None = None, part: int = 1
) -> ET.Element:
    """The handout document for ``plan``, as the XML tree the renderers read.

    In a bilingual handout, ``other_language`` names (in its own words) the language of the
    other part, and ``part`` says whether this one comes first (1) or second (2)."""
    iset = plan.instruction_set
    xml = templates.page(
        HANDOUT_TEMPLATE,
        L=templates.labels,
        language=templates.language,
        other_language=other_language,
        part=part,
        set={
            "id": iset.id,
            "title": iset.title,
            "version": iset.version,
            "reviewed": iset.reviewed,
            # A clinic's changes to a built-in set: the footer names that set and version.
            "base": (
                {"id": iset.based_on[0], "version": iset.based_on[1]} if iset.based_on else None
            ),
        },
        visit=plan.visit,
        clinic=plan.site,
        sedation=plan.sedation,
        moments=plan.moments,
        medicines=plan.medicines,
        key_times=key_time_views(plan, templates),
        clock_change=clock_change(plan),
        made=plan.now,
        reprint=plan.reprint,
        translation_status=translation_status(plan),
        staff_draft_mark=templates_for(plan.site.templates_dir, "en", plan.site.clock).labels[
            "draft_mark"
        ],
        **view_model(plan, templates),
    )
    try:
        document = ET.fromstring(xml)
    except ET.ParseError as e:
        raise InstructionError(
            f"{HANDOUT_TEMPLATE}: the template produced malformed XML ({e})"
        ) from e
    large = plan.visit.large_print
    if large if large is not None else plan.site.large_print:
        document.set("print", "large")  # how the PDF lays it out; the words are the same
    return document


def compose_packet(records, site, others=()) -> ET.Element:
    """The packet wrapper of a merged batch: its title and the scheduler's index, which lists
    every input row: the handouts in the packet (``records``, in the packet's order), then the
    rows with no handout of their own (``others``), each with its status and reason.

    ``records`` need ``start`` (ISO 8601), ``patient``, ``procedure_title`` and ``row``;
    ``others`` need ``row``, ``status`` and ``reason``, and ``patient`` when the row gave a
    name fit to print.
    """
    templates = templates_for(site.templates_dir, site.language, site.clock)
    rows = [
        {
            "start": datetime.fromisoformat(r.start),
            "patient": r.patient,
            "procedure": r.procedure_title,
            "row": r.row,
        }
        for r in records
    ]
    missing = [
        {"row": r.row, "patient": r.patient, "status": str(r.status), "reason": r.reason or ""}
        for r in others
    ]
    xml = templates.page(
        PACKET_TEMPLATE,
        rows=rows,
        others=missing,
        clinic=site,
        L=templates.labels,
        language=templates.language,
    )
    try:
        return ET.fromstring(xml)
    except ET.ParseError as e:
        raise InstructionError(
            f"{PACKET_TEMPLATE}: the template produced malformed XML ({e})"
        ) from e

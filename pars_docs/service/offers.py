"""The front door's offers: what a form offers a person to choose for a set (its sedation
and other options, with their defaults), the order of the sets' groups, and the site's
language as the library has it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..load.library import InstructionSet, Library, group_order
from ..load.structure import SECTIONS, schema

if TYPE_CHECKING:
    from datetime import datetime
    from zoneinfo import ZoneInfo

__all__ = [
    "SECTIONS",
    "InstructionSet",
    "built_in_library",
    "form_options",
    "group_order",
    "library_language",
    "now_on",
    "schema",
    "sedation_choice",
]


def built_in_library() -> Library:
    """The instruction sets that ship with pars-docs, without a site's own."""
    return Library()


def now_on(zone: ZoneInfo, as_of: datetime | None = None) -> datetime:
    """The handouts' "now" on ``zone``'s clock: ``as_of``, else ``SOURCE_DATE_EPOCH``, else
    the real time."""
    from ..clock import current_time

    return current_time(zone, as_of)


def form_options(iset: InstructionSet) -> list[dict]:
    """The set's declared options a form offers a box for, in the order written: each but
    sedation (it has its own field) and those ``fixed``. ``label`` is the set's own wording
    for the box, else the option's name."""
    from ..plan.timeline import declared_options, set_option

    boxes = []
    for name in declared_options(iset):
        option = set_option(iset, name)
        if name == "sedation" or option.get("fixed"):
            continue
        label = str(option.get("label") or name)
        boxes.append({"name": name, "label": label, "default": bool(option["default"])})
    return boxes


def sedation_choice(iset: InstructionSet) -> tuple[bool, bool]:
    """Whether a visit of this set may choose sedation, and the set's default."""
    from ..plan.timeline import set_option

    option = set_option(iset, "sedation")
    return not option.get("fixed", False), bool(option["default"])


def library_language(tag: str, library: Library) -> str:
    """``tag`` as the library has it (``es-MX`` → ``es``); a :class:`ParsDocsError` when
    the library has no such language."""
    from ..load.languages import resolve

    return resolve(tag, library.all_languages())

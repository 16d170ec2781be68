"""The front door's offers: what a form offers a person to choose for a set (its sedation
and other options, with their defaults), the order of the sets' groups, and the site's
language as the library has it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..load.library import group_order

if TYPE_CHECKING:
    from ..load.library import InstructionSet, Library

__all__ = ["form_options", "group_order", "library_language", "sedation_choice"]


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

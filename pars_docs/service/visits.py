"""The front door's visits: loose values (a command's options, a row) → a :class:`Visit`.
(The Python API's
:func:`~pars_docs.make_handout` makes its visit with the same
:func:`~pars_docs.read.visit.visit_from_row`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..read.rows import Row
from ..read.visit import (
    MissingField,
    Visit,
    make_visit,
    parse_options,
    visit_from_row,
)

if TYPE_CHECKING:
    pass

__all__ = [
    "MissingField",
    "Visit",
    "make_visit",
    "parse_options",
    "visit_of",
]


def visit_of(
    values: Mapping[str, Any] | Row,
    *,
    sedation: bool | None = None,
    also_language: str | None = None,
    options: Mapping[str, bool] | None = None,
) -> Visit:
    """The visit that loose values describe: a command's options or the Python API's
    arguments (a value of None is not given), or a row read from a list or a feed.
    ``sedation`` is for values that do not say; ``also_language`` a second language to
    print (None: the site's); ``options`` the set's other options. Raises
    :class:`~pars_docs.read.visit.MissingField` naming every missing field, else a
    :class:`UsageError` naming every problem."""
    row = values if isinstance(values, Row) else Row(1, _given(values))
    return visit_from_row(row, sedation=sedation, also_language=also_language, options=options)


def _given(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}

"""The marks a composed handout carries in its text, and how each renderer turns them out.

Emphasis travels through the text as two private-use characters, which visit values may not
contain (see :func:`pars_docs.read.visit.clean_text`), so a patient's name can never turn text
bold. The PDF draws them as bold, the text rendition and the calendar drop them.
"""

from __future__ import annotations

BOLD_ON, BOLD_OFF = "\ue000", "\ue001"

WRITE_IN = "_" * 24
"""A line to write a number on by hand when the site profile has none."""


def strong(value: object) -> str:
    """``value`` as text marked bold."""
    return f"{BOLD_ON}{value}{BOLD_OFF}"


def escape(text: str) -> str:
    """``text`` safe inside ReportLab paragraph markup: ``&``, ``<`` and ``>`` escaped.

    The same as ``xml.sax.saxutils.escape``, whose module imports urllib, http and ssl, a
    fifth of a cold start.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markup(text: str | None) -> str:
    """Composed text as ReportLab paragraph markup: escaped, bold where the text asks for it."""
    return escape(text or "").replace(BOLD_ON, "<b>").replace(BOLD_OFF, "</b>")


def plain(text: str | None) -> str:
    """Composed text without its marks."""
    return (text or "").replace(BOLD_ON, "").replace(BOLD_OFF, "")

"""Output file names for batch runs, made safe from whatever a row holds.

A name comes from a pattern of plain placeholders filled with row values. Every value is
cleaned: no path separators, no ``..``, nothing hidden, nothing a file system would refuse,
so a file can never land outside the folder it was meant for.
"""

from __future__ import annotations

import glob
import re
import string
import time
import unicodedata
from pathlib import Path

from ..errors import UsageError
from .output import FOLDER_MODE, NewFile

# Every rendition a handout has, and the file suffix it is written with.
FILE_SUFFIXES = {"pdf": ".pdf", "text": ".txt", "json": ".json", "ics": ".ics"}

DEFAULT_NAME = "{date}_{time}_{procedure}_{id}"
NAME_FIELDS = ("date", "time", "procedure", "mrn", "row", "id", "patient")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+|\s+')
MAX_NAME_BYTES = 200


def safe_name(text: str, fallback: str) -> str:
    """A file name made from row values: no separators, no ``..``, nothing hidden, and at most
    200 bytes, well inside every file system's limit whatever the script."""
    text = unicodedata.normalize("NFC", text)
    text = _UNSAFE.sub("_", text).replace("..", "_").strip("._ ")
    encoded = text.encode("utf-8")[:MAX_NAME_BYTES]
    text = encoded.decode("utf-8", errors="ignore").strip("._ ")
    return text or fallback


def check_name_pattern(pattern: str) -> None:
    """Only plain ``{field}`` placeholders: no attribute or index lookups, no conversions."""
    allowed = f"{{{'}, {'.join(NAME_FIELDS)}}}"
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as e:
        raise UsageError(
            f"--name: '{pattern}' is not a pattern ({e}); use {allowed}", field="name"
        ) from e
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in NAME_FIELDS or spec or conversion:
            raise UsageError(
                f"--name: '{{{field}}}' is not a placeholder; use {allowed}", field="name"
            )


def output_name(pattern: str, visit, row: int, suffix: str = ".pdf") -> str:
    """The file name for ``visit`` (input row ``row``), ending in ``suffix``."""
    values = {
        "date": visit.date.isoformat(),
        "time": visit.time.strftime("%H%M"),
        "procedure": visit.procedure,
        "mrn": visit.mrn or "",
        "row": str(row),
        "id": visit.mrn or f"row{row}",
        "patient": visit.patient,
    }
    values = {k: safe_name(v, "") for k, v in values.items()}
    name = safe_name(pattern.format_map(values), f"row{row}")
    return name if name.lower().endswith(suffix) else name + suffix


def default_filename(visit, suffix: str = ".pdf") -> str:
    """The name ``make`` writes to when not told: it says what and when, and nothing about
    who."""
    return f"{visit.procedure}-{visit.date.isoformat()}-{visit.time.strftime('%H%M')}{suffix}"


def check_writable(folder: Path, what: str) -> None:
    """Fail before any work if ``folder`` cannot take new files. A folder made here is private
    (mode 0700): it is for patient data."""
    try:
        folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        # The probe is a NewFile: made unnamed, or new with O_EXCL|O_NOFOLLOW, in the folder
        # opened once; nothing planted in the folder (a link, a file) is opened or followed.
        NewFile(folder / ".pars-docs-probe").discard()
    except OSError as e:
        raise UsageError(f"{what}: cannot write to {folder} ({e.strerror})", field=what) from e


STALE_AFTER = 600  # seconds: a part file this old belongs to no running batch


def remove_stale_parts(folder: Path, name: str | None = None) -> None:
    """Temporary files a killed run left behind (for the file ``name``, or any); never a
    finished handout, and never the file another batch writing into the same folder is in the
    middle of. Where the system allows, files being written have no name, and there are none."""
    now = time.time()
    pattern = f".{glob.escape(name)}.*.part" if name else ".*.part"
    for stale in folder.glob(pattern):
        try:
            if now - stale.lstat().st_mtime > STALE_AFTER:
                stale.unlink()
        except FileNotFoundError:
            continue

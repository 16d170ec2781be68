"""Read appointment lists: CSV, TSV, a JSON array or NDJSON, streamed row by row.

Exports from scheduling systems are messy. This module copes with the habits of
spreadsheets (a byte-order mark, CRLF line ends, quoted fields holding commas or line breaks,
blank rows, stray spaces) and maps each export's column names onto pars-docs' fields. Text
that is not valid in the chosen encoding is refused before any work starts, never guessed.

Row numbers are what a person sees: for CSV and TSV the header is row 1, as in a
spreadsheet; for JSON the first object is row 1; for NDJSON a row is a line.

Every reader (CSV, TSV, JSON, NDJSON and FHIR) yields the same three kinds of result: a
:class:`Row` to make a handout from, a :class:`Skipped` appointment (cancelled, say) and a
:class:`BadRow` that cannot be read. :func:`pars_docs.read.visit.visit_from_row` turns a row into a
visit.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import itertools
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import DataError, ParsDocsError, UsageError
from ..load.loader import load_yaml
from . import jsonin

FIELDS = (
    "procedure",
    "patient",
    "date",
    "time",
    "clinician",
    "dob",
    "mrn",
    "sedation",
    "medications",
    "note",
    "visit_id",
    "language",
    "large_print",
)
REQUIRED = ("procedure", "patient", "date", "time", "clinician")
FORMATS = ("csv", "tsv", "json", "ndjson", "xlsx", "fhir", "hl7")  # fhir: JSON or XML
# Formats whose times are instants from a record system: they need the clinic's time zone.
FEEDS = ("fhir", "hl7")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".hl7": "hl7",
    ".xlsx": "xlsx",
}
_ZIP = b"PK\x03\x04"  # an Excel workbook (.xlsx) is a zip archive
# Column names exports commonly use, compared without case, spaces or punctuation; the first
# one present wins, in this order, so the choice never varies between runs.
ALIASES = {
    "procedure": ("procedure", "procedureid", "procedurecode"),
    "patient": ("patient", "patientname", "name"),
    "date": ("date", "appointmentdate", "proceduredate"),
    "time": ("time", "appointmenttime", "starttime", "proceduretime"),
    "clinician": ("clinician", "provider", "doctor", "physician", "surgeon"),
    "dob": ("dob", "dateofbirth", "birthdate"),
    "mrn": ("mrn", "medicalrecordnumber", "recordnumber"),
    "sedation": ("sedation",),
    "medications": ("medications", "medication", "meds", "medicines"),
    "note": ("note", "notes", "comment", "comments"),
    "visit_id": ("visitid", "appointmentid", "appointmentnumber", "encounterid", "csn"),
    "language": ("language", "lang", "preferredlanguage", "patientlanguage"),
    "large_print": ("largeprint", "largetype"),
}
_CHUNK = 1 << 16
MAX_WHOLE_BYTES = 256 << 20  # a file read at once rather than row by row


@dataclass(frozen=True)
class Row:
    """One appointment read from an input: ``values`` maps pars-docs' fields (see
    :data:`FIELDS`) to what the input says, with empty optional fields left out."""

    number: int  # the row number a person sees in the input
    values: dict[str, Any]
    # Which of two readings of a clock time in the hour the clocks go back: 0 the first,
    # 1 the second. Only an appointment given as an instant (FHIR) can say.
    fold: int = 0
    # The source's own references that it has (FHIR: appointment, patient, practitioner,
    # mrn_system), for the record written back to it.
    refs: dict[str, str] = dataclasses.field(default_factory=dict)
    # When the booking last changed (minutes since 2000, UTC), from a record system.
    revision: int | None = None
    # The record system's own version of the booking (FHIR meta.versionId), which orders two
    # changes in the same minute.
    version: str | None = None
    # The row's other columns (header → value, empty ones left out): a column named like one
    # of the set's declared options sets it (see :mod:`pars_docs.batch.tasks`).
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def visit_id(self) -> str | None:
        """The booking's id in the system it came from, if the input gives one."""
        value = self.values.get("visit_id")
        return str(value) if value not in (None, "") else None


@dataclass(frozen=True)
class Skipped:
    """An appointment not to make a handout for, such as a cancelled one."""

    number: int
    reason: str
    status: str = "cancelled"  # or "skipped"
    tally: str | None = None  # the word it is counted under in the summary: "past", …
    # The booking and its revision, when a record system says them: a cancellation that is
    # newer than a booking's other messages in the same input replaces them.
    visit_id: str | None = None
    revision: int | None = None
    version: str | None = None


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be read; ``error`` says why."""

    number: int
    error: ParsDocsError


RowResult = Row | Skipped | BadRow


def _norm(header: str) -> str:
    return re.sub(r"[\W_]+", "", str(header).casefold())


def normalised_header(header: str) -> str:
    """A column name as headers are compared: without case, spaces or punctuation."""
    return _norm(header)


class _Reader(io.RawIOBase):
    """A reader of an open file with a position of its own, so that several can read one
    file at once (it is never closed through them)."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self._position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        os.lseek(self._fd, self._position, os.SEEK_SET)
        data = os.read(self._fd, len(buffer))
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


class Source:
    """An input file (or standard input, spooled to a temporary file that has no name) and
    its format."""

    def __init__(
        self,
        name: str,
        fmt: str | None = None,
        encoding: str | None = None,
        stdin: IO[bytes] | None = None,
    ):
        self.name = name
        self._spool: IO[bytes] | None = None
        self.encoding = encoding or "utf-8-sig"
        try:
            info = codecs.lookup(self.encoding)
        except LookupError as e:
            raise UsageError(f"--encoding: unknown encoding '{encoding}'", field="encoding") from e
        # rot13, base64, zlib and the like are codecs, but not ways of writing text; Python's
        # "undefined" is one that decodes nothing.
        try:
            b"abc".decode(info.name)
            usable = getattr(info, "_is_text_encoding", True)
        except (UnicodeError, ValueError, TypeError, LookupError):
            usable = False
        if not usable:
            raise UsageError(
                f"--encoding: '{encoding}' is not a text encoding; use one such as utf-8 or cp1252",
                field="encoding",
            )
        if name == "-":
            self.label = "standard input"
            self._spool_stdin(stdin if stdin is not None else sys.stdin.buffer)
        else:
            self.path = Path(name)
            if not self.path.is_file():
                what = "not a regular file" if self.path.exists() else "no such file"
                raise UsageError(f"INPUT: {name}: {what}", field="input")
            self.label = name
        try:
            try:
                if (fmt or self._sniff()) == "xlsx":
                    self.format = "xlsx"  # a zip of XML: no text encoding to check
                else:
                    self._check_encoding()
                    self.format = fmt or self._detect()
            except OSError as e:
                raise DataError(
                    f"{self.label}: cannot read ({e.strerror or type(e).__name__})", field="input"
                ) from e
        except BaseException:
            self.close()  # never leave a copy of patient data behind
            raise

    def _spool_stdin(self, stdin: IO[bytes]) -> None:
        """Copy standard input to a temporary file, so it can be checked before any work and
        then read row by row like a file. The file has no name (it is unlinked at once, or
        made without one), so no copy of the list is left behind however the run ends, even
        by ``kill -9``."""
        try:
            self._spool = tempfile.TemporaryFile(prefix="pars-docs-")  # noqa: SIM115
            shutil.copyfileobj(stdin, self._spool)
            self._spool.flush()
        except OSError as e:
            self.close()
            raise DataError(
                f"standard input: cannot keep a copy to read it ({e.strerror or e}); free some "
                f"space in {tempfile.gettempdir()}, or give the list as a file",
                field="input",
            ) from e
        except BaseException:
            self.close()
            raise

    def open_binary(self) -> IO[bytes]:
        if self._spool is not None:
            return io.BufferedReader(_Reader(self._spool.fileno()))
        return open(self.path, "rb")

    def open_text(self) -> IO[str]:
        if self._spool is not None:
            return io.TextIOWrapper(self.open_binary(), encoding=self.encoding, newline="")
        return open(self.path, encoding=self.encoding, newline="")

    @property
    def size(self) -> int:
        """The input's size in bytes (standard input's copy's, for ``-``)."""
        if self._spool is not None:
            return os.fstat(self._spool.fileno()).st_size
        return self.path.stat().st_size

    @property
    def _encoding_name(self) -> str:
        return "UTF-8" if self.encoding.lower().replace("_", "-") == "utf-8-sig" else self.encoding

    def _check_encoding(self) -> None:
        decoder = codecs.getincrementaldecoder(self.encoding)()
        line, offset = 1, 0
        with self.open_binary() as stream:
            while chunk := stream.read(_CHUNK):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as e:
                    bad = chunk[e.start : e.start + 1]
                    line += chunk[: e.start].count(b"\n")
                    hint = (
                        "; save it as UTF-8 or give --encoding, e.g. --encoding cp1252"
                        if self.encoding.startswith("utf")
                        else ""
                    )
                    raise DataError(
                        f"{self.label}: line {line}: byte 0x{bad.hex()} at offset "
                        f"{offset + e.start} is not valid {self._encoding_name} text"
                        f"{hint}",
                        field="encoding",
                    ) from e
                line += chunk.count(b"\n")
                offset += len(chunk)
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError as e:
                raise DataError(
                    f"{self.label}: the file ends in the middle of a {self.encoding} character",
                    field="encoding",
                ) from e

    def _sniff(self) -> str | None:
        """ "xlsx" for a file that is a zip archive (an Excel workbook), else None."""
        with self.open_binary() as stream:
            return "xlsx" if stream.read(len(_ZIP)) == _ZIP else None

    def _detect(self) -> str:
        suffix = Path(self.name).suffix.lower() if self.name != "-" else ""
        with self.open_text() as text:
            head = text.read(4096)
        stripped = head.lstrip()
        if stripped.startswith(("MSH", "\x0bMSH", "FHS", "BHS", "\x0bFHS", "\x0bBHS")):
            return "hl7"  # HL7 v2 messages (with or without MLLP framing, or batch headers)
        if stripped.startswith("<"):
            if "http://hl7.org/fhir" in head:
                return "fhir"  # FHIR XML
            raise DataError(
                f"{self.label}: this is XML; pars-docs reads CSV, TSV, JSON, NDJSON, FHIR JSON "
                "and HL7 v2",
                field="input",
            )
        if stripped.startswith("{") and self._fhir_resource():
            return "fhir"
        if suffix in _EXTENSIONS:
            return _EXTENSIONS[suffix]
        if stripped.startswith("["):
            return "json"
        if stripped.startswith("{"):
            first = stripped.splitlines()[0] if stripped else ""
            try:
                json.loads(first)
                return "ndjson"
            except (ValueError, RecursionError):
                return "json"  # one object spread over lines: a FHIR resource
        first_line = head.splitlines()[0] if head else ""
        return "tsv" if first_line.count("\t") > first_line.count(",") else "csv"

    def _fhir_resource(self) -> bool:
        """Whether a file that starts with an object holds a FHIR Bundle or Appointment,
        wherever in the object its ``resourceType`` is written (not only in the first 4 KB):
        the first line's object for NDJSON, else the whole file's."""
        with self.open_text() as text:
            line = text.readline()
            try:
                value = jsonin.DECODER.decode(line)
            except (ValueError, RecursionError):
                if self.size > MAX_WHOLE_BYTES:
                    return False  # too big to read at once: refused when it is read
                try:
                    value = jsonin.DECODER.decode(line + text.read())
                except (ValueError, RecursionError):
                    return False  # not JSON: reported when it is read as rows
        # Any FHIR resource: one that is not an Appointment or Bundle is refused naming it.
        kind = value.get("resourceType") if isinstance(value, dict) else None
        return isinstance(kind, str) and re.fullmatch(r"[A-Z][A-Za-z]{1,63}", kind) is not None

    def read_whole(self) -> str:
        """The whole text, for formats read at once (a FHIR Bundle, HL7 v2 messages, one JSON
        object); a :class:`DataError` for a file over :data:`MAX_WHOLE_BYTES`."""
        if self.size > MAX_WHOLE_BYTES:
            raise DataError(
                f"{self.label}: over {MAX_WHOLE_BYTES >> 20} MB, more than one read at once may "
                "be; split it (for FHIR, into the pages of a search)",
                field="input",
            )
        with self.open_text() as text:
            return text.read()

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None


def check_pages(source: Source, pages: tuple[Source, ...]) -> None:
    """Several inputs are read together only as the pages of one FHIR search, or as HL7 v2
    files (one message or many in each, as interface engines drop them)."""
    if not pages:
        return
    formats = {source.format, *(p.format for p in pages)}
    if formats not in ({"fhir"}, {"hl7"}):
        raise UsageError(
            "INPUT: several files are read together only as the pages of one FHIR search, "
            "or as HL7 v2 files",
            field="input",
        )


def read_mapping(path: str | None, columns: tuple[str, ...]) -> dict[str, str]:
    """Field → header from ``--map FILE`` (YAML or JSON) and ``--column field=Header``."""
    mapping: dict[str, str] = {}
    if path:
        data = load_yaml(Path(path), UsageError).data
        if not isinstance(data, dict):
            raise UsageError(f"--map: {path} must hold field: Header pairs", field="map")
        mapping.update({str(k): str(v) for k, v in data.items()})
    for item in columns:
        field, sep, header = item.partition("=")
        if not sep or not field.strip() or not header.strip():
            raise UsageError(f"--column: '{item}' must look like field=Header", field="column")
        mapping[field.strip()] = header.strip()
    for field in mapping:
        if field not in FIELDS:
            raise UsageError(
                f"--map/--column: unknown field '{field}'; fields are {', '.join(FIELDS)}",
                field="map",
            )
    return mapping


def _listing(headers: list[str]) -> str:
    return ", ".join(headers) or "none"


def resolve_columns(
    headers: list[str], mapping: dict[str, str], label: str, require: bool = True
) -> dict[str, str]:
    """Field → the input's header for it; an error before any work if a required one is
    missing, naming the columns the input does have."""
    by_norm: dict[str, list[str]] = {}
    for header in headers:
        by_norm.setdefault(_norm(header), []).append(header)
    chosen: dict[str, str] = {}
    for field in FIELDS:
        if field in mapping:
            wanted = mapping[field]
            found = [wanted] * headers.count(wanted) or by_norm.get(_norm(wanted), [])
            if not found:
                raise UsageError(
                    f"--map: column '{wanted}' for {field} is not in {label} "
                    f"(columns: {_listing(headers)})",
                    field="map",
                    # A file without a header row would show its first patient as "columns".
                    redacted=f"--map: column '{wanted}' for {field} is not in {label} "
                    "(--verbose lists the columns it has)",
                )
            _one_column(field, found, label)
            chosen[field] = found[0]
            continue
        found = [h for alias in ALIASES[field] for h in by_norm.get(alias, [])]
        if found:
            _one_column(field, found, label)
            chosen[field] = found[0]
    missing = [f for f in REQUIRED if f not in chosen] if require else []
    if missing:
        fix = f"map one with --column {missing[0]}=HEADER"
        raise UsageError(
            f"{label}: no column for {', '.join(missing)} (columns: {_listing(headers)}); {fix}",
            field=missing[0],
            # A file without a header row would show its first patient as "columns".
            redacted=f"{label}: no column for {', '.join(missing)}; {fix} (--verbose lists "
            "the columns it has)",
        )
    return chosen


def _one_column(field: str, headers: list[str], label: str) -> None:
    """Refuse two columns that both give ``field``: a header written twice, or two names for
    one field ("patient" and "Patient Name"). Which one is meant cannot be told. (The names
    shown are headers that are a field's name or alias, never a patient's values.)"""
    if len(headers) < 2:
        return
    if len(set(headers)) == 1:
        message = (
            f"{label}: the column '{headers[0]}' is written twice; pars-docs will not choose "
            "between them: rename or remove one"
        )
    else:
        shown = " and ".join(f"'{h}'" for h in headers[:3])
        message = (
            f"{label}: the columns {shown} both give {field}; pars-docs will not choose "
            f"between them: remove one, or name the one to use with --column {field}=HEADER"
        )
    raise UsageError(message, field=field, redacted=message)


Record = tuple[int, Any]  # (row number, a decoded record), or (row number, an error)


def _records(source: Source) -> Iterator[Record]:
    if source.format == "ndjson":
        return _ndjson_records(source)
    return _json_records(source)


def _csv_table(source: Source) -> tuple[list[str], Iterator[Record]]:
    """The header (the first row that is not blank) and the records after it.

    Every line of the file is accounted for. A quote that opens and never closes takes in
    the lines after it as one value: that row fails naming itself, and each line it took in
    fails too, so no appointment vanishes without a word. A value over the csv module's
    limit (131,072 characters) fails its row."""
    delimiter = "\t" if source.format == "tsv" else ","
    text = source.open_text()
    reader = csv.reader(text, delimiter=delimiter, skipinitialspace=True, strict=False)
    headers = None
    number = 0  # the row a spreadsheet would show: one per record, one per line taken in
    try:
        for cells in reader:
            number += 1
            if any(c.strip() for c in cells):
                headers = [c.strip() for c in cells]
                break
    except csv.Error as e:
        text.close()
        raise DataError(f"{source.label}: row {number + 1}: the header cannot be read ({e})") from e
    if headers is None:
        text.close()
        raise DataError(f"{source.label}: holds no rows")
    return headers, _csv_records(reader, text, headers, number, delimiter)


def _taken_in(first: int, count: int) -> Iterator[Record]:
    for offset in range(1, count + 1):
        yield (
            first + offset,
            DataError(
                f"not read: taken into row {first}'s value by the quote that opens there "
                "and does not close",
                row=first + offset,
            ),
        )


def _unreadable(error: csv.Error, number: int, extra: int) -> DataError:
    reason = (
        f"a value is over {csv.field_size_limit():,} characters long"
        if "field limit" in str(error)
        else f"cannot be read ({error})"
    )
    if extra:
        reason += (
            f"; it runs over {extra + 1} lines, as when a quote opens and does "
            f"not close, so rows {number + 1} to {number + extra} fail too"
        )
    return DataError(reason, row=number)


def _csv_records(
    reader: Any, text: IO[str], headers: list[str], number: int, delimiter: str
) -> Iterator[Record]:
    """The records after the header (row ``number``), each line accounted for."""
    # A line taken in by a runaway quote looks like a row: it has most of the separators.
    row_like = max(1, min(len(headers), len(REQUIRED)) - 1)
    with text:
        while True:
            before = reader.line_num
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                number += 1
                extra = max(0, reader.line_num - before - 1)
                yield number, _unreadable(e, number, extra)
                yield from _taken_in(number, extra)
                number += extra
                continue
            number += 1
            extra = reader.line_num - before - 1
            if extra and _runaway(cells, delimiter, row_like):
                yield (
                    number,
                    DataError(
                        f"a quote opens in this row and does not close where the row ends; "
                        f"it takes in the next {extra} lines (rows {number + 1} to "
                        f"{number + extra}), which fail too: close the quote and run again",
                        row=number,
                    ),
                )
                yield from _taken_in(number, extra)
                number += extra
                continue
            if not any(c.strip() for c in cells):
                continue  # blank rows, wherever a spreadsheet left them
            if len(cells) > len(headers) and any(c.strip() for c in cells[len(headers) :]):
                yield (
                    number,
                    DataError(
                        f"has {len(cells)} values but the header has {len(headers)} columns",
                        row=number,
                    ),
                )
                continue
            record: dict[str, str] = {}
            for header, cell in zip(headers, cells, strict=False):
                # A header written twice for a field is refused (resolve_columns); any other
                # is not read.
                record.setdefault(header, cell)
            yield number, record


def _xlsx_table(source: Source) -> tuple[list[str], Iterator[Record]]:
    """The first sheet of an Excel workbook as a header and records, like a CSV's: the header
    is the first row that is not blank, and row numbers are the sheet's own. A date cell is
    a date, a time cell a time, a whole number (a record number typed as a number) its
    digits."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if source.size > MAX_WHOLE_BYTES:
        raise DataError(
            f"{source.label}: over {MAX_WHOLE_BYTES >> 20} MB, more than a workbook read at "
            "once may be; save it as CSV",
            field="input",
        )
    with source.open_binary() as stream:
        data = io.BytesIO(stream.read())
    try:
        book = load_workbook(data, read_only=True, data_only=True)
        sheet = book.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        headers = None
        number = 0
        for cells in lines:
            number += 1
            if any(_cell(c) not in (None, "") for c in cells):
                headers = [str(_cell(c) or "").strip() for c in cells]
                break
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as e:
        raise DataError(
            f"{source.label}: cannot be read as an Excel workbook (.xlsx) "
            f"({type(e).__name__}); save it again from Excel, or as CSV",
            field="input",
        ) from e
    if headers is None:
        book.close()
        raise DataError(f"{source.label}: holds no rows")
    while headers and not headers[-1]:
        headers.pop()  # a sheet's empty columns at the right
    return headers, _xlsx_records(book, lines, headers, number, source.label)


def _cell(value: Any) -> Any:
    """A workbook cell as a row value: dates, times and text as they are, a date at midnight
    as its day, a whole number as its digits."""
    import datetime as dt

    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time(0) else value.isoformat(" ", "minutes")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return value


def _xlsx_records(
    book: Any, lines: Iterator[tuple], headers: list[str], number: int, label: str
) -> Iterator[Record]:
    try:
        for cells in lines:
            number += 1
            values = [_cell(c) for c in cells]
            if all(v in (None, "") or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            if any(v not in (None, "") for v in values[len(headers) :]):
                yield (
                    number,
                    DataError(
                        f"has a value beyond the header's {len(headers)} columns", row=number
                    ),
                )
                continue
            record: dict[str, Any] = {}
            for header, value in zip(headers, values, strict=False):
                if header:
                    record.setdefault(header, "" if value is None else value)
            yield number, record
    except (OSError, ValueError, KeyError) as e:
        raise DataError(
            f"{label}: row {number}: cannot be read from the workbook ({type(e).__name__})"
        ) from e
    finally:
        book.close()


def _runaway(cells: list[str], delimiter: str, row_like: int) -> bool:
    """Whether a value that spans lines holds lines that look like rows of their own."""
    for cell in cells:
        for line in cell.splitlines()[1:]:
            if line.count(delimiter) >= row_like:
                return True
    return False


def _checked(number: int, value: Any) -> Record:
    """A decoded row, or the error for one that writes a key twice or nests too deeply."""
    wrong = jsonin.problem(value)
    return (number, DataError(wrong, row=number)) if wrong else (number, value)


def _ndjson_records(source: Source) -> Iterator[Record]:
    with source.open_text() as text:
        for number, line in enumerate(text, 1):
            if not line.strip():
                continue
            try:
                value, end = jsonin.raw_decode(line, len(line) - len(line.lstrip()))
                if line[end:].strip():
                    raise ValueError("more after the object on this line")
            except ValueError as e:
                yield number, DataError(f"not valid JSON ({jsonin.reason(e, False)})", row=number)
                continue
            yield _checked(number, value)


class _Chunks:
    """A text stream read in chunks, with a position in the text held so far."""

    def __init__(self, text: IO[str]) -> None:
        self.text = text
        self.buffer, self.position, self.eof = "", 0, False
        self.fill()

    def fill(self) -> None:
        chunk = self.text.read(_CHUNK)
        self.eof = not chunk
        self.buffer = self.buffer[self.position :] + chunk
        self.position = 0

    def skip(self, characters: str = "") -> str:
        """Move past white space (and ``characters``); the next character, "" at the end."""
        while True:
            buffer = self.buffer
            while self.position < len(buffer) and (
                buffer[self.position].isspace() or buffer[self.position] in characters
            ):
                self.position += 1
            if self.position < len(buffer) or self.eof:
                return buffer[self.position : self.position + 1]
            self.fill()

    def rest(self) -> str:
        return self.buffer[self.position :] + self.text.read()


def _json_records(source: Source) -> Iterator[Record]:
    """Objects of a top-level JSON array, decoded one at a time."""
    with source.open_text() as text:
        chunks = _Chunks(text)
        first = chunks.skip()
        if first == "{":
            # A single object: a FHIR resource or one appointment.
            if source.size > MAX_WHOLE_BYTES:
                raise DataError(
                    f"{source.label}: one JSON object over {MAX_WHOLE_BYTES >> 20} MB, more "
                    "than one read at once may be; split it (a FHIR Bundle into the pages of a "
                    "search), or write the rows as a JSON array or NDJSON",
                    field="input",
                )
            yield 1, jsonin.loads(chunks.rest(), source.label)
            return
        if first != "[":
            raise DataError(f"{source.label}: expected a JSON array of objects")
        chunks.position += 1
        yield from _array_items(chunks, source.label)


def _array_items(chunks: _Chunks, label: str) -> Iterator[Record]:
    number = 0
    while True:
        following = chunks.skip(",")
        if not following:
            raise DataError(f"{label}: the JSON array is not closed")
        if following == "]":
            chunks.position += 1
            if chunks.rest().strip():
                raise DataError(
                    f"{label}: more text after the JSON array ends (after row "
                    f"{number}); the file is not one JSON array",
                    field="input",
                )
            return
        try:
            value, end = jsonin.raw_decode(chunks.buffer, chunks.position)
        except ValueError as e:
            if chunks.eof:
                raise DataError(
                    f"{label}: not valid JSON after row {number} ({jsonin.reason(e)})"
                ) from e
            chunks.fill()
            continue
        if end == len(chunks.buffer) and not chunks.eof:
            chunks.fill()  # a number or literal may continue in the next chunk
            continue
        chunks.position = end
        number += 1
        yield _checked(number, value)


def read_rows(source: Source, mapping: dict[str, str]) -> Iterator[RowResult]:
    """A :class:`Row` for each record of a CSV, TSV, JSON or NDJSON input, and a
    :class:`BadRow` for one that cannot be read. (FHIR and HL7 v2 input is
    read by :func:`pars_docs.read.feeds.read_appointments`.)

    The header is read and checked against the mapping now, before any row is produced, so a
    missing column stops the run before any work. Values are stripped; empty optional fields
    are left out.
    """
    if source.format in FEEDS:
        raise ValueError("read FHIR and HL7 v2 input with pars_docs.read.feeds.read_appointments")
    if source.format in ("csv", "tsv", "xlsx"):
        headers, table = _xlsx_table(source) if source.format == "xlsx" else _csv_table(source)
        columns = resolve_columns(headers, mapping, source.label)
        return _mapped(table, lambda record: columns)
    records = _records(source)
    first = next(records, None)
    if first is None:
        raise DataError(f"{source.label}: holds no rows")
    # JSON objects may each carry other keys: each is matched on its own, and a missing
    # field fails only its row. A mapping's field names are still checked now.
    for name in mapping:
        if name not in FIELDS:
            raise UsageError(f"--map: unknown field '{name}'", field="map")

    def columns_of(record: dict) -> dict[str, str]:
        return resolve_columns([str(k) for k in record], mapping, "this row", require=False)

    return _mapped(itertools.chain([first], records), columns_of)


def _mapped(
    records: Iterable[Record], columns_of: Callable[[dict], dict[str, str]]
) -> Iterator[RowResult]:
    for number, record in records:
        if isinstance(record, ParsDocsError):
            yield BadRow(number, record)
            continue
        if not isinstance(record, dict):
            yield BadRow(number, DataError("is not an object", row=number))
            continue
        try:
            columns = columns_of(record)
        except UsageError as e:
            yield BadRow(
                number, DataError(e.message, field=e.field, row=number, redacted=e.redacted)
            )
            continue
        values = {}
        for name, header in columns.items():
            value = record.get(header)
            if isinstance(value, str):
                value = value.strip()
            if value not in (None, ""):
                values[name] = value
        used = set(columns.values())
        extra = {}
        for header, value in record.items():
            if isinstance(value, str):
                value = value.strip()
            if header not in used and isinstance(header, str) and value not in (None, ""):
                extra[header] = value
        yield Row(number, values, extra=extra)

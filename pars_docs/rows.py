"""Read appointment lists: CSV, TSV, a JSON array or NDJSON, streamed row by row.

Exports from scheduling systems are messy. This module copes with the habits of
spreadsheets (a byte-order mark, CRLF line ends, quoted fields holding commas or line breaks,
blank rows, stray spaces) and maps each export's column names onto pars-docs' fields. Text
that is not valid in the chosen encoding is refused before any work starts, never guessed.

Row numbers are what a person sees: for CSV and TSV the header is row 1, as in a
spreadsheet; for JSON the first object is row 1; for NDJSON a row is a line.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from .errors import DataError, UsageError
from .loader import load_yaml

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
)
REQUIRED = ("procedure", "patient", "date", "time", "clinician")
FORMATS = ("csv", "tsv", "json", "ndjson", "fhir", "hl7")  # fhir: JSON or XML
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
}
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
}
_CHUNK = 1 << 16


def _norm(header: str) -> str:
    return re.sub(r"[\W_]+", "", str(header).casefold())


class Source:
    """An input file (or standard input, spooled to a temporary file) and its format."""

    def __init__(self, name: str, fmt: str | None = None, encoding: str | None = None):
        self.name = name
        self._spooled: Path | None = None
        self.encoding = encoding or "utf-8-sig"
        try:
            codecs.lookup(self.encoding)
        except LookupError as e:
            raise UsageError(f"--encoding: unknown encoding '{encoding}'", field="encoding") from e
        if name == "-":
            self.label = "standard input"
            self._spool_stdin()
        else:
            self.path = Path(name)
            if not self.path.is_file():
                raise UsageError(f"INPUT: {name}: no such file", field="input")
            self.label = name
        try:
            self._check_encoding()
            self.format = fmt or self._detect()
        except BaseException:
            self.close()  # never leave a copy of patient data behind
            raise

    def _spool_stdin(self) -> None:
        """Copy standard input to a temporary file, so it can be checked before any work and
        then read row by row like a file. The copy is removed however the run ends."""
        spool = tempfile.NamedTemporaryFile(prefix="pars-docs-", delete=False)  # noqa: SIM115
        self._spooled = self.path = Path(spool.name)
        try:
            with spool:
                shutil.copyfileobj(sys.stdin.buffer, spool)
        except BaseException:
            self.close()
            raise

    def open_binary(self):
        return open(self.path, "rb")

    def open_text(self):
        return open(self.path, encoding=self.encoding, newline="")

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
        if stripped.startswith("{") and re.search(
            r'"resourceType"\s*:\s*"(Bundle|Appointment)"', head
        ):
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
            except ValueError:
                return "json"  # one object spread over lines: a FHIR resource
        first_line = head.splitlines()[0] if head else ""
        return "tsv" if first_line.count("\t") > first_line.count(",") else "csv"

    def close(self) -> None:
        if self._spooled is not None:
            self._spooled.unlink(missing_ok=True)


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
    by_norm = {}
    for header in headers:
        by_norm.setdefault(_norm(header), header)
    chosen: dict[str, str] = {}
    for field in FIELDS:
        if field in mapping:
            wanted = mapping[field]
            actual = wanted if wanted in headers else by_norm.get(_norm(wanted))
            if actual is None:
                raise UsageError(
                    f"--map: column '{wanted}' for {field} is not in {label} "
                    f"(columns: {_listing(headers)})",
                    field="map",
                )
            chosen[field] = actual
            continue
        for alias in ALIASES[field]:
            if alias in by_norm:
                chosen[field] = by_norm[alias]
                break
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


def _records(source: Source) -> Iterator[tuple[int, dict | Exception]]:
    if source.format in ("csv", "tsv"):
        yield from _csv_records(source)
    elif source.format == "ndjson":
        yield from _ndjson_records(source)
    else:
        yield from _json_records(source)


def _csv_records(source: Source):
    delimiter = "\t" if source.format == "tsv" else ","
    with source.open_text() as text:
        reader = csv.reader(text, delimiter=delimiter, skipinitialspace=True, strict=False)
        headers = None
        for number, cells in enumerate(reader, 1):
            if not any(c.strip() for c in cells):
                continue  # blank rows, wherever a spreadsheet left them
            if headers is None:
                headers = [c.strip() for c in cells]
                yield 0, headers
                continue
            if len(cells) > len(headers) and any(c.strip() for c in cells[len(headers) :]):
                yield (
                    number,
                    DataError(
                        f"has {len(cells)} values but the header has {len(headers)} columns",
                        row=number,
                    ),
                )
                continue
            yield number, dict(zip(headers, cells, strict=False))


def _ndjson_records(source: Source):
    with source.open_text() as text:
        headers_sent = False
        for number, line in enumerate(text, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as e:
                yield number, DataError(f"not valid JSON ({e.msg})", row=number)
                continue
            if not headers_sent:
                headers_sent = True
                yield 0, list(value) if isinstance(value, dict) else []
            yield number, value


def _json_records(source: Source):
    """Objects of a top-level JSON array, decoded one at a time."""
    decoder = json.JSONDecoder()
    with source.open_text() as text:
        buffer, position, eof = "", 0, False

        def fill():
            nonlocal buffer, position, eof
            chunk = text.read(_CHUNK)
            eof = not chunk
            buffer = buffer[position:] + chunk
            position = 0

        fill()
        while True:
            while position < len(buffer) and buffer[position].isspace():
                position += 1
            if position < len(buffer) or eof:
                break
            fill()
        if buffer[position : position + 1] == "{":
            # A single object: a FHIR resource or one appointment.
            whole = buffer[position:] + text.read()
            try:
                value = json.loads(whole)
            except ValueError as e:
                raise DataError(f"{source.label}: not valid JSON ({e})") from e
            yield 0, list(value)
            yield 1, value
            return
        if buffer[position : position + 1] != "[":
            raise DataError(f"{source.label}: expected a JSON array of objects")
        position += 1
        number, headers_sent = 0, False
        while True:
            while True:
                while position < len(buffer) and (
                    buffer[position].isspace() or buffer[position] == ","
                ):
                    position += 1
                if position < len(buffer) or eof:
                    break
                fill()
            if position >= len(buffer):
                raise DataError(f"{source.label}: the JSON array is not closed")
            if buffer[position] == "]":
                return
            try:
                value, end = decoder.raw_decode(buffer, position)
            except ValueError as e:
                if eof:
                    raise DataError(
                        f"{source.label}: not valid JSON after row {number} ({e.msg})"
                    ) from e
                fill()
                continue
            if end == len(buffer) and not eof:
                fill()  # a number or literal may continue in the next chunk
                continue
            position = end
            number += 1
            if not headers_sent:
                headers_sent = True
                yield 0, list(value) if isinstance(value, dict) else []
            yield number, value


def read_rows(
    source: Source, mapping: dict[str, str], feed=None, pages: tuple = ()
) -> Iterator[tuple]:
    """(row number, {field: value}) for each record, or (row number, error) for a bad one.

    The header is read and checked against the mapping now, before any row is produced, so a
    missing column stops the run before any work. Values are stripped; empty optional fields
    are left out. FHIR and HL7 v2 input need a :class:`~pars_docs.ehr.Feed`; appointments
    that get no handout come as (row number, :class:`~pars_docs.ehr.Skip`). ``pages`` are
    more FHIR files read with ``source``: the later pages of a search.
    """
    if pages and (source.format != "fhir" or any(p.format != "fhir" for p in pages)):
        raise UsageError(
            "INPUT: several files are read together only as the pages of one FHIR search",
            field="input",
        )
    if source.format == "fhir":
        from .fhir import appointment_rows, read_resource

        data = []
        for each in (source, *pages):
            with each.open_text() as text:
                data.append((read_resource(text.read(), each.label), each.label))
        return appointment_rows(data, feed)
    if source.format == "hl7":
        from .hl7v2 import appointment_rows as hl7_rows

        with source.open_text() as text:
            return hl7_rows(text.read(), source.label, feed)
    records = _records(source)
    first = next(records, None)
    if first is None:
        raise DataError(f"{source.label}: holds no rows")
    if source.format in ("csv", "tsv"):
        columns = resolve_columns([str(h) for h in first[1]], mapping, source.label)
        return _mapped(records, lambda record: columns)
    # JSON objects may each carry other keys: each is matched on its own, and a missing
    # field fails only its row. A mapping's field names are still checked now.
    for field in mapping:
        if field not in FIELDS:
            raise UsageError(f"--map: unknown field '{field}'", field="map")

    def columns_of(record: dict) -> dict[str, str]:
        return resolve_columns([str(k) for k in record], mapping, "this row", require=False)

    return _mapped(records, columns_of)


def _mapped(records, columns_of):
    for number, record in records:
        if isinstance(record, Exception):
            yield number, record
            continue
        if not isinstance(record, dict):
            yield number, DataError("is not an object", row=number)
            continue
        try:
            columns = columns_of(record)
        except UsageError as e:
            yield number, DataError(e.message, field=e.field, row=number)
            continue
        row = {}
        for field, header in columns.items():
            value = record.get(header)
            if isinstance(value, str):
                value = value.strip()
            if value not in (None, ""):
                row[field] = value
        yield number, row


_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0"}


def parse_sedation(value) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UsageError(f"sedation: '{value}' is not yes or no", field="sedation")


def parse_medications(value) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(";")
    return [str(m).strip() for m in items if str(m).strip()]


def reformat_date(value, date_format: str | None, field: str):
    """A date written the way ``--date-format`` says, as ISO text for :func:`make_visit`."""
    if value is None or not date_format:
        return value
    try:
        return datetime.strptime(str(value).strip(), date_format).date().isoformat()
    except ValueError as e:
        if "does not match format" in str(e) or "unconverted data" in str(e):
            reason = f"does not match --date-format {date_format}"
        else:  # it matches the format but names no real day, such as 02/30/2026
            reason = "is not a real date"
        raise UsageError(f"{field}: '{value}' {reason}", field=field) from e

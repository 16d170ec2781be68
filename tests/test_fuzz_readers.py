"""Every reader meets arbitrary input: each either reads it or says why in one error of its own
kind (a ParsDocsError), never an unhandled exception.

The example counts are modest so the suite stays fast; the heavier runs are marked slow.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from helpers import DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pars_docs.errors import ParsDocsError
from pars_docs.load.library import Library
from pars_docs.load.loader import load_yaml
from pars_docs.load.site import load_site
from pars_docs.read.codes import CodeMap
from pars_docs.read.ehr import Feed
from pars_docs.read.feeds import read_appointments
from pars_docs.read.fhir import appointment_rows, read_resource
from pars_docs.read.hl7v2 import appointment_rows as hl7_rows
from pars_docs.read.rows import Row, Source, read_mapping, read_rows
from pars_docs.read.visit import visit_from_row

# FUZZ_EXAMPLES=2000 runs a longer search by hand.
QUICK = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HEAVY = settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TZ = ZoneInfo("America/New_York")

# JSON values of any shape; strings lean towards what the readers look for.
KEYS = st.sampled_from(
    [
        "resourceType",
        "entry",
        "resource",
        "participant",
        "actor",
        "reference",
        "start",
        "end",
        "status",
        "serviceType",
        "coding",
        "code",
        "system",
        "name",
        "given",
        "family",
        "identifier",
        "birthDate",
        "id",
        "patient",
        "procedure",
        "date",
        "time",
        "clinician",
        "mrn",
        "dob",
        "medications",
        "note",
        "sedation",
        "type",
        "link",
        "relation",
        "url",
        "text",
        "comment",
        "valueString",
        "extension",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "Appointment",
            "Bundle",
            "Patient",
            "Practitioner",
            "booked",
            "cancelled",
            "Patient/1",
            "Practitioner/1",
            "#p1",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59+14:00",
            "2030-12-03T08:00:00-05:00",
            "2030-12-03",
            "0001",
            "pars-defect-injection",
            "\u202eevil\u200b",
        ]
    ),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(KEYS | st.text(max_size=8), children)
    ),
    max_leaves=30,
)


def appointment_like():
    """Appointments with fields of any type in the places the reader looks."""
    return st.fixed_dictionaries(
        {"resourceType": st.just("Appointment")},
        optional={
            "id": JSON_VALUES,
            "status": JSON_VALUES,
            "start": JSON_VALUES,
            "end": JSON_VALUES,
            "serviceType": JSON_VALUES,
            "participant": JSON_VALUES,
            "contained": JSON_VALUES,
            "comment": JSON_VALUES,
            "identifier": JSON_VALUES,
            "meta": JSON_VALUES,
        },
    )


BUNDLES = st.one_of(
    JSON_VALUES,
    appointment_like(),
    st.fixed_dictionaries(
        {
            "resourceType": st.just("Bundle"),
            "entry": st.one_of(
                JSON_VALUES,
                st.lists(
                    st.one_of(
                        JSON_VALUES,
                        st.fixed_dictionaries(
                            {"resource": st.one_of(appointment_like(), JSON_VALUES)},
                            optional={"fullUrl": JSON_VALUES, "search": JSON_VALUES},
                        ),
                    ),
                    max_size=4,
                ),
            ),
        },
        optional={"type": JSON_VALUES, "link": JSON_VALUES, "total": JSON_VALUES},
    ),
)


@pytest.fixture(scope="module")
def codes():
    return CodeMap.build(Library(None))


def settle(results) -> list:
    """Read every result as a batch would: a row becomes a visit or a ParsDocsError."""
    out = []
    for result in results:
        if isinstance(result, Row):
            try:
                out.append(visit_from_row(result))
            except ParsDocsError as e:
                out.append(e)
        else:
            out.append(result)
    return out


def read_list(path: Path, fmt: str | None = None) -> None:
    """Read a CSV, TSV, JSON or NDJSON list to the end; a ParsDocsError is a fine answer."""
    try:
        source = Source(str(path), fmt)
    except ParsDocsError:
        return
    try:
        if source.format in ("fhir", "hl7"):
            return
        settle(read_rows(source, {}))
    except ParsDocsError:
        return
    finally:
        source.close()


HEADER = "procedure,patient,date,time,clinician,dob,mrn,medications,note\n"
CSV_CHARS = st.text(alphabet=st.sampled_from(list(',"\n\r\t ab1-:/;\u200b\u202e\x1b\x00é')))


@QUICK
@given(body=CSV_CHARS)
def test_csv_reader(tmp_path_factory, body):
    path = tmp_path_factory.mktemp("csv") / "list.csv"
    path.write_text(HEADER + body, encoding="utf-8", newline="")
    read_list(path)


@QUICK
@given(raw=st.binary(max_size=300))
def test_any_bytes_as_any_list(tmp_path_factory, raw):
    folder = tmp_path_factory.mktemp("bytes")
    for name, fmt in (("list.csv", None), ("list.tsv", "tsv"), ("list.json", "json")):
        path = folder / name
        path.write_bytes(raw)
        read_list(path, fmt)


@QUICK
@given(value=JSON_VALUES)
def test_json_reader(tmp_path_factory, value):
    path = tmp_path_factory.mktemp("json") / "list.json"
    path.write_text(json.dumps(value), encoding="utf-8")
    read_list(path, "json")


@QUICK
@given(lines=st.lists(st.one_of(JSON_VALUES.map(json.dumps), st.text(max_size=20)), max_size=6))
def test_ndjson_reader(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("ndjson") / "list.ndjson"
    path.write_text("\n".join(line.replace("\n", " ") for line in lines), encoding="utf-8")
    read_list(path, "ndjson")


def read_fhir(data, codes) -> None:
    feed = Feed(codes, TZ, include_past=True)
    try:
        settle(appointment_rows([(data, "in.json")], feed))
    except ParsDocsError:
        pass


@QUICK
@given(data=BUNDLES)
def test_fhir_reader(codes, data):
    read_fhir(data, codes)


@pytest.mark.slow
@HEAVY
@given(data=BUNDLES)
def test_fhir_reader_heavy(codes, data):
    read_fhir(data, codes)


@QUICK
@given(text=st.text(max_size=200))
def test_fhir_text(codes, text):
    for shaped in (text, "<" + text, '{"resourceType": "Bundle", ' + text):
        try:
            read_fhir(read_resource(shaped, "in"), codes)
        except ParsDocsError:
            pass


HL7_TEXT = st.text(alphabet=st.sampled_from(list("MSHSIUPIDAISRGSCH|^~\\&\r\n0123456789 .-")))


@QUICK
@given(body=HL7_TEXT)
def test_hl7_reader(codes, body):
    feed = Feed(codes, TZ, include_past=True)
    try:
        settle(hl7_rows("MSH|^~\\&|" + body, "in.hl7", feed))
    except ParsDocsError:
        pass


YAML_TEXT = st.one_of(
    st.text(max_size=200),
    JSON_VALUES.map(lambda v: yaml.safe_dump(v, allow_unicode=True)),
    st.text(alphabet=st.sampled_from(list("&*ab: -[]{}\n!'\"#%|>?,"))),
)


def each_yaml_reader(path: Path, library: Library) -> None:
    """The set, table and site checker, the site loader, the --map reader and the code map:
    each reads ``path`` or raises a ParsDocsError."""
    readers = (
        lambda: load_yaml(path),
        lambda: library.check_file(path),
        lambda: load_site(path),
        lambda: read_mapping(str(path), ()),
        lambda: CodeMap.build(library, path),
    )
    for read in readers:
        try:
            read()
        except ParsDocsError:
            pass


@pytest.fixture(scope="module")
def library():
    return Library(None)


@QUICK
@given(text=YAML_TEXT)
def test_yaml_readers(tmp_path_factory, library, text):
    path = tmp_path_factory.mktemp("yaml") / "file.yaml"
    path.write_text(text, encoding="utf-8")
    each_yaml_reader(path, library)


@QUICK
@given(
    key=st.sampled_from(["clinic", "timezone", "paper", "language", "logo", "reminder_time"]),
    value=JSON_VALUES,
)
def test_site_fields_of_any_type(tmp_path_factory, key, value):
    base = {"clinic": {"name": "Clinic"}, "timezone": "America/Chicago"}
    base[key] = value
    path = tmp_path_factory.mktemp("site") / "site.yaml"
    path.write_text(yaml.safe_dump(base), encoding="utf-8")
    try:
        load_site(path)
    except ParsDocsError:
        pass


@QUICK
@given(edit=st.tuples(st.sampled_from(["timing", "sources", "about", "before"]), JSON_VALUES))
def test_instruction_set_parts_of_any_type(tmp_path_factory, library, edit):
    data = yaml.safe_load((Path(library.dirs[-1]) / "pars-defect-injection.yaml").read_text())
    key, value = edit
    data[key] = value
    path = tmp_path_factory.mktemp("set") / "pars-defect-injection.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    try:
        library.check_file(path)
    except ParsDocsError:
        pass


def test_the_feeds_read_files_the_same_way(codes, tmp_path):
    """The file-level entry point for FHIR, on a file of another shape than it expects."""
    path = tmp_path / "bundle.json"
    path.write_text('{"resourceType": "Bundle", "entry": 3}', encoding="utf-8")
    source = Source(str(path))
    assert source.format == "fhir"
    with pytest.raises(ParsDocsError, match="Bundle.entry is not a list"):
        list(read_appointments(source, Feed(codes, TZ)))
    assert (DATA / "fhir").is_dir()

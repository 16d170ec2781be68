"""Filing handouts on a FHIR server (`--fhir-server`, issue 22): `make` and `batch` post each
DocumentReference to a real FHIR server on loopback (Medplum's FHIR router and in-memory
repository, tests/fhir_server), as a transaction of conditional creates or single POSTs, as
the vendor profile says; a repeated run files each document once; the server's answers are
in the manifest; a refusal fails its row with the server's words."""

import json

import jsonschema
import pytest
from helpers import DATA, SITE, FhirServer, read_manifest
from test_thirdparty import EXPECTED, THIRDPARTY

from pars_docs.cli import cli
from pars_docs.schemas import schema as load_schema
from pars_docs.write.fhir_post import load_vendor, shaped, vendor_names


def appointment(id, start, end=None, patient="p1", doctor="dr"):
    resource = {
        "resourceType": "Appointment",
        "id": id,
        "status": "booked",
        "serviceType": [
            {"coding": [{"system": "urn:pars-docs:procedure", "code": "pars-defect-injection"}]}
        ],
        "start": start,
        "participant": [
            {"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{doctor}"}, "status": "accepted"},
        ],
    }
    if end:
        resource["end"] = end
    return resource


PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [
        {
            "type": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                ]
            },
            "system": "urn:oid:2.16.840.1.113883.19.5",
            "value": "MRN-1001",
        }
    ],
    "name": [{"given": ["Ana"], "family": "Díaz"}],
}
DOCTOR = {"resourceType": "Practitioner", "id": "dr", "name": [{"text": "Dr. Sam Lee"}]}


def bundle(tmp_path, *appointments):
    path = tmp_path / "appointments.json"
    entries = [{"resource": r} for r in (PATIENT, DOCTOR, *appointments)]
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    return path


TWO = (
    appointment("a1", "2026-12-03T13:00:00Z", "2026-12-03T14:00:00Z"),
    appointment("a2", "2026-12-04T13:00:00Z", "2026-12-04T13:30:00Z"),
)


def batch(runner, server, source, tmp_path, *extra, manifest="manifest.jsonl"):
    args = [
        "batch",
        str(source),
        "--site",
        str(SITE),
        "--emit",
        "fhir",
        "--fhir-server",
        server.url,
        "--manifest",
        str(tmp_path / manifest),
        *extra,
    ]
    if server.token_file and "--fhir-token-file" not in extra:
        args += ["--fhir-token-file", str(server.token_file)]
    return runner.invoke(cli, args)


def posts(server):
    return [r for r in server.requests() if r["method"] == "POST"]


def test_a_batch_is_filed_once_however_often_it_is_posted(runner, fhir_server, tmp_path):
    source = bundle(tmp_path, *TWO)
    first = batch(runner, fhir_server, source, tmp_path)
    assert first.exit_code == 0, first.output
    records = read_manifest(tmp_path / "manifest.jsonl")
    schema = load_schema("manifest")
    for record in records:
        jsonschema.validate(record, schema)
    assert [r["fhir_server"]["status"] for r in records] == [201, 201]
    ids = [r["fhir_server"]["id"] for r in records]
    assert all(i.startswith("DocumentReference/") for i in ids) and len(set(ids)) == 2
    stored = fhir_server.search("DocumentReference")
    assert len(stored) == 2
    assert {d["subject"]["reference"] for d in stored} == {"Patient/p1"}
    # The generic profile: one transaction of conditional creates.
    (post,) = posts(fhir_server)
    assert post["path"] == "/fhir/R4"
    again = batch(runner, fhir_server, source, tmp_path, manifest="again.jsonl")
    assert again.exit_code == 0, again.output
    repeat = read_manifest(tmp_path / "again.jsonl")
    assert [r["fhir_server"]["status"] for r in repeat] == [200, 200]
    assert [r["fhir_server"]["id"] for r in repeat] == ids
    assert len(fhir_server.search("DocumentReference")) == 2


def test_single_posts_are_conditional_creates(runner, fhir_server, tmp_path):
    source = bundle(tmp_path, *TWO)
    result = batch(runner, fhir_server, source, tmp_path, "--fhir-write", "single")
    assert result.exit_code == 0, result.output
    sent = posts(fhir_server)
    assert [r["path"] for r in sent] == ["/fhir/R4/DocumentReference"] * 2
    assert all(r["ifNoneExist"].startswith("identifier=urn:ietf:rfc:3986|urn:uuid:") for r in sent)
    assert [r["fhir_server"]["status"] for r in read_manifest(tmp_path / "manifest.jsonl")] == [
        201,
        201,
    ]


def test_a_transient_failure_is_retried_and_counted(runner, fhir_server, tmp_path):
    fhir_server.faults(status=503, count=1, retryAfter=0)
    source = bundle(tmp_path, TWO[0])
    result = batch(runner, fhir_server, source, tmp_path, "--fhir-write", "single")
    assert result.exit_code == 0, result.output
    (record,) = read_manifest(tmp_path / "manifest.jsonl")
    assert record["fhir_server"]["status"] == 201 and record["fhir_server"]["attempts"] == 2


def test_a_refused_token_fails_each_row_and_keeps_the_handouts(runner, fhir_server, tmp_path):
    source = bundle(tmp_path, *TWO)
    wrong = tmp_path / "wrong-token"
    wrong.write_text("not-the-token\n")
    out = tmp_path / "handouts"
    result = batch(
        runner,
        fhir_server,
        source,
        tmp_path,
        "--fhir-token-file",
        str(wrong),
        "--out-dir",
        str(out),
    )
    assert result.exit_code == 1
    assert "not filed on the FHIR server: 401: error: Unauthorized" in result.output
    records = read_manifest(tmp_path / "manifest.jsonl")
    assert [r["status"] for r in records] == ["failed", "failed"]
    assert [r["field"] for r in records] == ["fhir_server", "fhir_server"]
    assert [r["fhir_server"]["status"] for r in records] == [401, 401]
    assert len(list(out.glob("*.pdf"))) == 2  # made, not filed: nothing good is lost
    assert "2 rows: 0 written, 2 failed" in result.output


def test_the_token_may_come_from_the_environment(runner, fhir_server, tmp_path, monkeypatch):
    monkeypatch.setenv("PARS_DOCS_FHIR_TOKEN", fhir_server.token)
    source = bundle(tmp_path, TWO[0])
    args = ["batch", str(source), "--site", str(SITE), "--emit", "fhir"]
    result = runner.invoke(cli, [*args, "--fhir-server", fhir_server.url])
    assert result.exit_code == 0, result.output
    assert len(fhir_server.search("DocumentReference")) == 1


def test_a_csv_manifest_has_the_answer_in_columns(runner, fhir_server, tmp_path):
    source = bundle(tmp_path, TWO[0])
    result = batch(runner, fhir_server, source, tmp_path, manifest="manifest.csv")
    assert result.exit_code == 0, result.output
    header, line = (tmp_path / "manifest.csv").read_text().splitlines()
    assert header.endswith(",chart_medicines,fhir_status,fhir_id,fhir_outcome")
    assert ",201,DocumentReference/" in line


def test_make_files_its_document_and_says_so(runner, fhir_server, tmp_path):
    source = bundle(tmp_path, TWO[0])
    result = runner.invoke(
        cli,
        [
            "make",
            "--fhir",
            str(source),
            "--site",
            str(SITE),
            "--emit",
            "fhir",
            "--fhir-server",
            fhir_server.url,
            "--fhir-token-file",
            str(fhir_server.token_file),
        ],
    )
    assert result.exit_code == 0, result.output
    (stored,) = fhir_server.search("DocumentReference")
    assert f"filed on the FHIR server: 201 DocumentReference/{stored['id']}" in result.output
    assert "wrote" not in result.output  # no file unless -o asks for one
    assert stored["context"]["period"]["end"] == "2026-12-03T14:00:00+00:00"


@pytest.fixture
def oracle_like(tmp_path):
    """A server that takes no transactions (as Oracle Health's documented write)."""
    (tmp_path / "oracle").mkdir()
    server = FhirServer(tmp_path / "oracle", transactions=False)
    yield server
    server.stop()


def test_a_transaction_to_a_server_that_takes_none_is_refused_per_row(
    runner, oracle_like, tmp_path
):
    source = bundle(tmp_path, *TWO)
    result = batch(runner, oracle_like, source, tmp_path)
    assert result.exit_code == 1
    assert "422: error: Transactions are not supported by this server" in result.output
    assert oracle_like.search("DocumentReference") == []


def test_the_oracle_health_profile(runner, oracle_like, tmp_path):
    # Single POSTs, no If-None-Exist (none documented), one content entry, and the
    # appointment's end, which it needs (a2 has none: its row fails).
    source = bundle(
        tmp_path,
        appointment("a1", "2026-12-03T13:00:00Z", "2026-12-03T14:00:00Z"),
        appointment("a2", "2026-12-04T13:00:00Z"),
    )
    result = batch(runner, oracle_like, source, tmp_path, "--fhir-vendor", "oracle-health")
    assert result.exit_code == 1
    records = read_manifest(tmp_path / "manifest.jsonl")
    assert records[0]["status"] == "ok" and records[0]["fhir_server"]["status"] == 201
    assert records[1]["status"] == "failed" and records[1]["fhir_server"] is None
    assert records[1]["reason"] == (
        "fhir_server: the oracle-health profile's server needs what this document lacks "
        "(context.period.end: the appointment's end (FHIR Appointment.end, HL7 TQ1-8))"
    )
    (sent,) = posts(oracle_like)
    assert sent["path"] == "/fhir/R4/DocumentReference" and sent["ifNoneExist"] is None
    (stored,) = oracle_like.search("DocumentReference")
    assert stored["author"] == [{"reference": "Practitioner/dr", "display": "Dr. Sam Lee"}]
    assert len(stored["content"]) == 1 and stored["docStatus"] == "final"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--fhir-server", "http://127.0.0.1:9/fhir"], "--fhir-server goes with --emit fhir"),
        (["--emit", "fhir", "--fhir-write", "single"], "--fhir-write goes with --fhir-server"),
        (
            ["--emit", "fhir", "--fhir-server", "http://ehr.example/fhir"],
            "a token is never sent over plain http to ehr.example; use https",
        ),
        (
            ["--emit", "fhir", "--fhir-server", "https://ehr.example/fhir", "--fhir-vendor", "x"],
            "'x' is neither a built-in profile (generic, medplum, oracle-health) nor a file",
        ),
    ],
)
def test_usage_errors(runner, tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("PARS_DOCS_FHIR_TOKEN", "t")
    source = bundle(tmp_path, TWO[0])
    result = runner.invoke(cli, ["batch", str(source), "--site", str(SITE), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    make = runner.invoke(cli, ["make", "--fhir", str(source), "--site", str(SITE), *args])
    assert make.exit_code == 2 and message in make.output


def test_every_built_in_vendor_profile_loads_and_a_bad_one_is_named(tmp_path):
    assert vendor_names() == ["generic", "medplum", "oracle-health"]
    for name in vendor_names():
        assert load_vendor(name).id == name
    bad = tmp_path / "vendor.yaml"
    bad.write_text("id: x\ntitle: X\nsource: s\nwrite: sometimes\n")
    with pytest.raises(Exception, match=r"vendor.yaml: write: one of transaction, single"):
        load_vendor(str(bad))
    document = {"resourceType": "DocumentReference", "author": [{"display": "Dr. Lee"}]}
    shaped_doc = shaped(
        {
            **document,
            "subject": {"reference": "Patient/1"},
            "docStatus": "final",
            "context": {"period": {"end": "x"}},
        },
        load_vendor("oracle-health"),
    )
    assert "author" not in shaped_doc


def test_the_site_names_the_server_its_token_and_vendor(runner, fhir_server, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(
        SITE.read_text(encoding="utf-8")
        + f"fhir_server: {fhir_server.url}/\n"
        + f"fhir_token_file: {fhir_server.token_file}\n"
        + "fhir_vendor: oracle-health\n",
        "utf-8",
    )
    source = bundle(tmp_path, TWO[0])
    args = ["batch", str(source), "--site", str(site), "--emit", "fhir"]
    result = runner.invoke(cli, [*args, "--fhir-server", fhir_server.url])
    assert result.exit_code == 0, result.output
    (sent,) = posts(fhir_server)
    # oracle-health: a single POST, no If-None-Exist; the site's token was sent.
    assert sent["path"] == "/fhir/R4/DocumentReference" and sent["ifNoneExist"] is None
    assert sent["authorized"]
    from pars_docs.load.site import load_site
    from pars_docs.read.fhir_client import FhirClient

    client = FhirClient.for_site(load_site(str(site)))
    assert client is not None and client.token == fhir_server.token
    assert FhirClient.for_site(load_site(str(SITE))) is None


def test_the_sites_token_never_goes_to_another_server(runner, fhir_server, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(
        SITE.read_text(encoding="utf-8")
        + "fhir_server: https://ehr.example/fhir/R4\n"
        + f"fhir_token_file: {fhir_server.token_file}\n",
        "utf-8",
    )
    source = bundle(tmp_path, TWO[0])
    args = ["batch", str(source), "--site", str(site), "--emit", "fhir"]
    result = runner.invoke(cli, [*args, "--fhir-server", fhir_server.url])
    assert result.exit_code == 1
    assert "401: error: Unauthorized" in result.output
    assert not posts(fhir_server)[0]["authorized"]


THIRDPARTY_MADE = [
    name
    for name, expected in EXPECTED.items()
    if name.endswith(".json")
    and isinstance(expected, list)
    and any(status == "ok" for status, _ in expected)
]


@pytest.mark.slow
@pytest.mark.parametrize("name", THIRDPARTY_MADE)
def test_the_third_party_sets_documents_are_accepted_by_the_server(
    runner, fhir_server, tmp_path, name
):
    """Every handout made from the third-party FHIR files (US Core, Argonaut, Epic, Oracle
    Health, the HL7 spec) is a DocumentReference the server's validator takes."""
    site = tmp_path / "site.yaml"
    site.write_text(SITE.read_text(encoding="utf-8") + "fallback_language: en\n", "utf-8")
    codes = tmp_path / "codes.yaml"
    codes.write_text(
        (THIRDPARTY / "codes.yaml").read_text(encoding="utf-8")
        + (DATA / "thirdparty" / "codes.yaml").read_text(encoding="utf-8"),
        "utf-8",
    )
    result = runner.invoke(cli, [
        "batch", str(THIRDPARTY / name), "--site", str(site), "--codes", str(codes),
        "--as-of", "2000-01-01", "-j", "1", "--emit", "fhir", "--fhir-server", fhir_server.url,
        "--fhir-token-file", str(fhir_server.token_file), "--manifest", str(tmp_path / "m.jsonl"),
    ])  # fmt: skip
    records = read_manifest(tmp_path / "m.jsonl")
    made = [r for r in records if r["fhir_server"] is not None]
    assert len(made) == sum(status == "ok" for status, _ in EXPECTED[name]), result.output
    assert [r["fhir_server"]["status"] for r in made] == [201] * len(made), result.output
    assert len(fhir_server.search("DocumentReference")) == len(made)


def test_a_refused_transaction_fails_every_row_in_it(runner, fhir_server, tmp_path):
    fhir_server.faults(status=422, count=1)
    source = bundle(tmp_path, *TWO)
    result = batch(runner, fhir_server, source, tmp_path)
    assert result.exit_code == 1
    records = read_manifest(tmp_path / "manifest.jsonl")
    assert [(r["status"], r["fhir_server"]["status"]) for r in records] == [
        ("failed", 422),
        ("failed", 422),
    ]
    assert len(posts(fhir_server)) == 1  # a 422 is an answer, not retried
    assert fhir_server.search("DocumentReference") == []


def test_a_transaction_file_posted_twice_files_each_document_once(runner, fhir_server, tmp_path):
    # The report: the server rewrote fullUrls equal to the identifier, so ifNoneExist
    # never matched and a second post filed every document again.
    from pars_docs.read.fhir_client import FhirClient

    source = bundle(tmp_path, *TWO)
    out = tmp_path / "documents.json"
    result = runner.invoke(cli, [
        "batch", str(source), "--site", str(SITE), "--emit", "fhir", "--fhir-bundle",
        "transaction", "--fhir-output", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    client = FhirClient(fhir_server.url, token=fhir_server.token)
    first, second = client.transaction(document), client.transaction(document)
    assert [e["response"]["status"] for e in first.resource["entry"]] == ["201", "201"]
    assert [e["response"]["status"] for e in second.resource["entry"]] == ["200", "200"]
    assert len(fhir_server.search("DocumentReference")) == 2

"""The FHIR client (pars_docs/read/fhir_client.py) against a real FHIR server on loopback:
Medplum's FHIR router with its in-memory repository (tests/fhir_server), started per test.
Conditional creates, the bearer token, safe retries (only what cannot be done twice), the
server's answers, and the schedule read back as a Bundle the FHIR reader takes."""

import json
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from helpers import DATA

from pars_docs.errors import UsageError
from pars_docs.load.library import Library
from pars_docs.read.codes import CodeMap
from pars_docs.read.ehr import Feed
from pars_docs.read.fhir import appointment_rows
from pars_docs.read.fhir_client import FhirClient, FhirServerError, load_token, reference_of
from pars_docs.read.rows import Row

IDENTIFIER = "urn:ietf:rfc:3986|urn:uuid:6f1c2a9e-0000-4000-8000-000000000001"


def document(value="urn:uuid:6f1c2a9e-0000-4000-8000-000000000001"):
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": value}],
        "subject": {"reference": "Patient/example"},
        "content": [{"attachment": {"contentType": "application/pdf", "data": "JVBERi0="}}],
    }


def client(server, **kwargs):
    kwargs.setdefault("sleep", lambda seconds: None)
    return FhirClient(server.url, token=server.token, **kwargs)


def test_a_conditional_create_files_a_document_once(fhir_server):
    first = client(fhir_server).create(document(), if_none_exist=f"identifier={IDENTIFIER}")
    again = client(fhir_server).create(document(), if_none_exist=f"identifier={IDENTIFIER}")
    assert (first.status, again.status) == (201, 200)
    assert first.id == again.id and first.id.startswith("DocumentReference/")
    assert first.location.startswith(f"{fhir_server.url}/{first.id}/_history/")
    assert len(fhir_server.search("DocumentReference", f"identifier={IDENTIFIER}")) == 1
    seen = fhir_server.requests()
    assert [r["ifNoneExist"] for r in seen] == [f"identifier={IDENTIFIER}"] * 2
    assert all(r["authorized"] for r in seen)


def test_the_servers_refusal_is_its_answer_with_the_outcome(fhir_server):
    bad = document()
    del bad["content"]
    answer = client(fhir_server).create(bad)
    assert answer.status == 400 and not answer.ok and answer.id is None
    assert answer.outcome == "error: Missing required property (DocumentReference.content)"
    assert answer.summary() == "400: error: Missing required property (DocumentReference.content)"


def test_without_the_token_the_server_says_401(fhir_server):
    answer = FhirClient(fhir_server.url).create(document())
    assert answer.status == 401 and answer.outcome == "error: Unauthorized"
    wrong = FhirClient(fhir_server.url, token="not-it").create(document())
    assert wrong.status == 401
    assert fhir_server.search("DocumentReference") == []
    with pytest.raises(FhirServerError, match="read Patient/x: 401: error: Unauthorized"):
        FhirClient(fhir_server.url).read("Patient", "x")


def test_transient_failures_of_a_conditional_create_are_retried_with_backoff(fhir_server):
    fhir_server.faults(status=503, count=2)
    waits = []
    answer = client(fhir_server, sleep=waits.append).create(
        document(), if_none_exist=f"identifier={IDENTIFIER}"
    )
    assert answer.status == 201 and answer.attempts == 3
    assert waits == [0.5, 1.0]
    assert [r["status"] for r in fhir_server.requests()] == [503, 503, 201]


def test_retry_after_is_honoured_up_to_a_cap(fhir_server):
    fhir_server.faults(status=429, count=1, retryAfter=120)
    waits = []
    answer = client(fhir_server, sleep=waits.append, max_wait=2.0).create(
        document(), if_none_exist=f"identifier={IDENTIFIER}"
    )
    assert answer.status == 201 and waits == [2.0]


def test_retries_are_bounded(fhir_server):
    fhir_server.faults(status=503, count=10)
    answer = client(fhir_server, retries=2).create(
        document(), if_none_exist=f"identifier={IDENTIFIER}"
    )
    assert answer.status == 503 and answer.attempts == 3
    assert answer.outcome == "error: Service unavailable"
    assert len(fhir_server.requests()) == 3


def test_a_plain_post_is_never_sent_twice(fhir_server):
    fhir_server.faults(status=503, count=1)
    answer = client(fhir_server).create(document())
    assert answer.status == 503 and answer.attempts == 1
    assert len(fhir_server.requests()) == 1


def test_an_answer_lost_after_the_server_filed_it_is_retried_and_files_once(fhir_server):
    # The server stores the document, then the connection drops before its answer (a proxy
    # timing out): the conditional create sent again finds it instead of filing a second.
    fhir_server.faults(drop=1)
    answer = client(fhir_server).create(document(), if_none_exist=f"identifier={IDENTIFIER}")
    assert answer.status == 200 and answer.attempts == 2
    assert len(fhir_server.search("DocumentReference", f"identifier={IDENTIFIER}")) == 1
    assert [r["status"] for r in fhir_server.requests()] == ["dropped", 200]


def test_a_lost_answer_to_a_plain_post_is_reported_not_retried(fhir_server):
    fhir_server.faults(drop=1)
    answer = client(fhir_server).create(document())
    assert answer.status is None and answer.attempts == 1
    assert answer.summary().startswith("no answer: ")
    assert len(fhir_server.search("DocumentReference")) == 1  # filed, though unanswered


def test_a_server_that_is_not_there(tmp_path):
    answer = FhirClient("http://127.0.0.1:9/fhir", retries=1, sleep=lambda s: None).create(
        document(), if_none_exist=f"identifier={IDENTIFIER}"
    )
    assert answer.status is None and answer.attempts == 2
    assert "refused" in answer.error.lower()


def test_a_transaction_of_conditional_creates_is_retried(fhir_server):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:0d6e3c4a-0000-4000-8000-000000000002",
                "resource": document(),
                "request": {
                    "method": "POST",
                    "url": "DocumentReference",
                    "ifNoneExist": f"identifier={IDENTIFIER}",
                },
            }
        ],
    }
    fhir_server.faults(status=502, count=1)
    answer = client(fhir_server).transaction(bundle)
    assert answer.status == 200 and answer.attempts == 2
    assert answer.resource["type"] == "transaction-response"
    assert answer.resource["entry"][0]["response"]["status"] == "201"


def test_read_and_a_missing_resource(fhir_server):
    fhir_server.put({"resourceType": "Patient", "id": "p1", "name": [{"family": "Díaz"}]})
    assert client(fhir_server).read("Patient", "p1")["name"] == [{"family": "Díaz"}]
    with pytest.raises(FhirServerError, match=r"read Patient/nope: 404"):
        client(fhir_server).read("Patient", "nope")


def test_tokens_come_from_a_file_or_the_environment_only(tmp_path):
    token = tmp_path / "token"
    token.write_text("abc.def-ghi\n")
    assert load_token(token, env={}) == "abc.def-ghi"
    assert load_token(None, env={"PARS_DOCS_FHIR_TOKEN": "xyz"}) == "xyz"
    assert load_token(None, env={}) is None
    token.write_text("two words\n")
    with pytest.raises(UsageError, match="one line of printable ASCII"):
        load_token(token, env={})
    with pytest.raises(UsageError, match="not a regular file"):
        load_token(tmp_path, env={})
    token.write_text("x" * 9000)
    with pytest.raises(UsageError, match="over 8192 bytes"):
        load_token(token, env={})


def test_a_token_never_goes_over_plain_http_off_loopback():
    with pytest.raises(UsageError, match="never sent over plain http to ehr.example"):
        FhirClient("http://ehr.example/fhir", token="t")
    FhirClient("https://ehr.example/fhir", token="t")
    FhirClient("http://localhost:8080/fhir", token="t")
    with pytest.raises(UsageError, match="not an http"):
        FhirClient("ftp://ehr.example/fhir")


def test_reference_of_a_location():
    assert reference_of("http://h/fhir/DocumentReference/abc/_history/2") == "DocumentReference/abc"
    assert reference_of("DocumentReference/abc") == "DocumentReference/abc"
    assert reference_of("http://h/") is None


def load_chart(server):
    """tests/data/fhir/chart/chart.json's resources, stored on the server as an EHR holds
    them (references relative to the server)."""
    bundle = json.loads((DATA / "fhir" / "chart" / "chart.json").read_text(encoding="utf-8"))
    for entry in bundle["entry"]:
        resource = json.loads(
            json.dumps(entry["resource"]).replace("http://example.org/fhir/Patient/", "Patient/")
        )
        if resource["resourceType"] == "Appointment":
            # The file leaves out what R4 requires and the server's validator holds to:
            # an end with the start (app-2) and each participant's status.
            resource["end"] = "2030-03-08T13:30:00Z"
            for participant in resource["participant"]:
                participant.setdefault("status", "accepted")
        server.put(resource)


def test_the_schedule_is_a_bundle_the_fhir_reader_makes_handouts_from(fhir_server):
    load_chart(fhir_server)
    other_day = {
        "resourceType": "Appointment",
        "id": "visit-2",
        "status": "booked",
        "start": "2030-03-10T13:00:00Z",
        "end": "2030-03-10T13:30:00Z",
        "participant": [{"actor": {"reference": "Patient/example"}, "status": "accepted"}],
    }
    fhir_server.put(other_day)
    bundle = client(fhir_server).schedule(
        date(2030, 3, 8), practitioner="Practitioner/practitioner-1"
    )
    kinds = sorted(
        f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]
    )
    assert "Appointment/visit-1" in kinds and "Appointment/visit-2" not in kinds
    assert {"Patient/example", "Practitioner/practitioner-1", "Medication/eliquis"} <= set(kinds)
    assert "MedicationRequest/someone-else" not in kinds
    library = Library(None)
    feed = Feed(
        CodeMap.build(library, DATA / "fhir" / "codes.yaml"),
        ZoneInfo("America/New_York"),
        now=datetime(2026, 1, 1, tzinfo=timezone.utc),
        medicines=library.medicine_table(),
        unknown_medicines="error",
    )
    (row,) = appointment_rows([(bundle, "schedule")], feed)
    assert isinstance(row, Row)
    assert row.values["medications"] == ["warfarin", "apixaban", "semaglutide", "metformin"]
    assert row.values["date"] == "2030-03-08"
    nothing = client(fhir_server).schedule(date(2030, 3, 9))
    assert nothing["entry"] == []


def test_a_search_follows_its_pages(fhir_server):
    for number in range(5):
        fhir_server.put({"resourceType": "Patient", "id": f"p{number}", "gender": "female"})
    pages = list(client(fhir_server).search_pages("Patient", {"gender": "female", "_count": 2}))
    assert len(pages) == 3
    found = client(fhir_server).search("Patient", {"gender": "female", "_count": 2})
    assert sorted(p["id"] for p in found) == [f"p{n}" for n in range(5)]

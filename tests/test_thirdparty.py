"""Every file of the third-party set (../shared/thirdparty/, see its SOURCES.md: the HL7 FHIR
spec's examples, US Core, Argonaut, Epic's and Oracle Health's documentation, Microsoft's
FHIR-Converter samples, public HL7 v2 messages) either makes the right handout, its JSON
rendition compared with the source, or is refused or skipped with a message naming the real
reason. A file added to the set and not listed here fails the test."""

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import DATA

from pars_docs.cli import cli

THIRDPARTY = Path(__file__).resolve().parents[2] / "shared" / "thirdparty"
NEW_YORK = ZoneInfo("America/New_York")
INJECTION, DECOMPRESSION = "pars-defect-injection", "pars-defect-decompression"
PETER = ("Peter James Chalmers", "Dr Adam Careful")
ADAM_V2 = "Dr. Adam A Everyman III"  # PID-5's display name; its legal name expired in 1924
ADAM_FHIR = "Dr. Adam A Addsm Everyman III MD PF"  # as Microsoft's converter wrote PID-5
MS_1 = ("Robert C Ge", "2021-09-24T03:15")  # TQ1-7 20210924093000+0215
MS_2 = ("Tim G Pb", "2021-08-18T05:15")  # TQ1-7 202108181130+0215


def made(procedure, patient, clinician, start):
    return (
        "ok",
        {"procedure": procedure, "patient": patient, "clinician": clinician, "start": start},
    )


def said(status, reason):
    return (status, reason)


STU3 = "is a FHIR STU3 element: this looks like FHIR STU3; pars-docs reads FHIR R4"
CANCELLED = said("cancelled", "appointment status is cancelled")
EXPECTED = {
    "adapted/SIU-S12-02-tq1-only.hl7": [made(INJECTION, ADAM_V2, *MS_2)],
    "adapted/cerner-4817572-booked.json": [
        made(INJECTION, "Nancy Smart", "Christina Applegate MD", "2020-07-10T09:00")
    ],
    "adapted/cerner-4822366-booked.json": [
        said("failed", "clinician: the appointment has no Practitioner or PractitionerRole")
    ],
    "adapted/cerner-bundle-appt-patient-practitioner.json": [
        made(
            DECOMPRESSION,
            "Joe Smart",
            "Physician - Hospitalist Cerner Cerner Test",
            "2020-01-23T17:10",
        )
    ],  # fmt: skip
    "adapted/epic-searchset-with-patient-include.json": [
        made(
            DECOMPRESSION,
            "Camila Maria Lopez",
            "Anesthesiologist Anesthesia, MD",
            "2023-05-09T01:10",
        ),
        said("skipped", "appointment status is fulfilled"),
    ],  # fmt: skip
    "adapted/r5-shaped-Appointment-example.json": [made(INJECTION, *PETER, "2013-12-10T04:00")],
    "fhir/argonaut/Appointment-proposed-appt1.json": [
        said("skipped", "appointment status is proposed")
    ],
    "fhir/argonaut/Appointment-proposed-appt2b-1.xml": [
        said("skipped", "appointment status is proposed")
    ],
    "fhir/argonaut/Bundle-hal-dr-y-appts.json": [said("skipped", "appointment status is proposed")]
    * 3,
    "fhir/argonaut/Bundle-prefetch-derm-appts.json": [
        said("skipped", "appointment status is proposed")
    ]
    * 3,
    "fhir/argonaut/Patient-argo-sch-patient-1.json": "holds no Appointment (only Patient",
    "fhir/cerner/cerner-appointment-4817572-video-noshow.json": [
        said("cancelled", "appointment status is noshow")
    ],
    "fhir/cerner/cerner-appointment-4822366-cancelled.json": [CANCELLED],
    # A create request's body: no start yet, and the patient only by reference.
    "fhir/cerner/cerner-appointment-create.json": [
        said("failed", "date: the appointment has no start; patient: Patient/12724066 is not")
    ],
    "fhir/cerner/cerner-patient-12724067.json": "holds no Appointment (only Patient",
    "fhir/cerner/cerner-practitioner-4122622.json": "holds no Appointment (only Practitioner",
    "fhir/epic/epic-sandbox-appointment-searchset.json": [
        made(
            DECOMPRESSION,
            "Camila Maria Lopez",
            "Anesthesiologist Anesthesia, MD",
            "2023-05-09T01:10",
        ),
        said("skipped", "appointment status is fulfilled"),
    ],  # fmt: skip
    "fhir/epic/epic-sandbox-patient-camila.json": "holds no Appointment (only Patient",
    "fhir/hl7spec/appointment-example-request.json": [
        said("failed", f"fhir: Appointment.reason {STU3}")
    ],
    "fhir/hl7spec/appointment-example.json": [made(INJECTION, *PETER, "2013-12-10T04:00")],
    "fhir/hl7spec/appointment-example.xml": [
        said("failed", f"fhir: Appointment.indication {STU3}")
    ],
    "fhir/hl7spec/appointment-example2doctors.json": [
        made(DECOMPRESSION, *PETER, "2013-12-09T04:00")
    ],
    "fhir/hl7spec/appointment-example2doctors.xml": [
        made(DECOMPRESSION, *PETER, "2013-12-09T04:00")
    ],
    "fhir/hl7spec/r4-Appointment-example.json": [made(INJECTION, *PETER, "2013-12-10T04:00")],
    "fhir/ms-siu2fhir/SIU-S12-01-expected.json": [made(INJECTION, ADAM_FHIR, *MS_1)],
    "fhir/ms-siu2fhir/SIU-S12-02-expected.json": [made(INJECTION, ADAM_FHIR, *MS_2)],
    "fhir/ms-siu2fhir/SIU-S13-01-expected.json": [made(INJECTION, ADAM_FHIR, *MS_1)],
    "fhir/ms-siu2fhir/SIU-S13-02-expected.json": [
        made(INJECTION, ADAM_FHIR, "Tim G Pb", "2021-08-20T05:15")
    ],
    "fhir/ms-siu2fhir/SIU-S14-01-expected.json": [made(INJECTION, ADAM_FHIR, *MS_1)],
    "fhir/ms-siu2fhir/SIU-S14-02-expected.json": [made(INJECTION, ADAM_FHIR, *MS_2)],
    "fhir/ms-siu2fhir/SIU-S15-01-expected.json": [CANCELLED],
    "fhir/ms-siu2fhir/SIU-S15-02-expected.json": [CANCELLED],
    "fhir/ms-siu2fhir/SIU-S16-01-expected.json": [CANCELLED],
    "fhir/ms-siu2fhir/SIU-S16-02-expected.json": [CANCELLED],
    "fhir/ms-siu2fhir/SIU-S17-01-expected.json": [
        said("cancelled", "appointment status is entered-in-error")
    ],
    "fhir/ms-siu2fhir/SIU-S17-02-expected.json": [
        said("cancelled", "appointment status is entered-in-error")
    ],
    "fhir/ms-siu2fhir/SIU-S26-01-expected.json": [
        said("cancelled", "appointment status is noshow")
    ],
    "fhir/ms-siu2fhir/SIU-S26-02-expected.json": [
        said("cancelled", "appointment status is noshow")
    ],
    "fhir/ms-stu3-Appointment.json": [said("failed", f"fhir: Appointment.indication {STU3}")],
    "fhir/ms-stu3toR4-Appointment.json": [made(INJECTION, *PETER, "2013-12-10T04:00")],
    "hl7/corepoint/siu-s14.hl7": [said("skipped", "SCH-25 filler status is arrived")],
    "hl7/mieweb/siu-s12.hl7": [
        made(INJECTION, "Zaphod Beeblebrox", "Douglas A Adams MD", "2011-06-17T08:45")
    ],
    "hl7/mieweb/siu-s14.hl7": [
        made(INJECTION, "Zaphod Beeblebrox", "Douglas A Adams MD", "2011-06-17T08:45")
    ],
    "hl7/mieweb/siu-s15.hl7": [said("cancelled", "SIU^S15: the appointment was cancelled")],
    "hl7/ms/SIU-S12-01.hl7": [made(INJECTION, ADAM_V2, *MS_1)],
    "hl7/ms/SIU-S12-02.hl7": [made(INJECTION, ADAM_V2, *MS_2)],
    # no TQ1-7 or AIS-4: SCH-11.4 202010011126+0215, no MSH-7
    "hl7/ms/SIU-S12_1.hl7": [made(INJECTION, ADAM_V2, "G Tim", "2020-10-04T05:11")],
    "hl7/ms/SIU-S13-01.hl7": [made(INJECTION, ADAM_V2, *MS_1)],
    "hl7/ms/SIU-S13-02.hl7": [made(INJECTION, ADAM_V2, "Tim G Pb", "2021-08-20T05:15")],
    "hl7/ms/SIU-S14-01.hl7": [made(INJECTION, ADAM_V2, *MS_1)],
    "hl7/ms/SIU-S14-02.hl7": [made(INJECTION, ADAM_V2, *MS_2)],
    "hl7/ms/SIU-S15-01.hl7": [said("cancelled", "SIU^S15: the appointment was cancelled")],
    "hl7/ms/SIU-S15-02.hl7": [said("cancelled", "SIU^S15: the appointment was cancelled")],
    "hl7/ms/SIU-S16-01.hl7": [said("cancelled", "SCH-25 filler status is Dc (discontinued)")],
    "hl7/ms/SIU-S16-02.hl7": [said("cancelled", "SCH-25 filler status is Dc (discontinued)")],
    "hl7/ms/SIU-S17-01.hl7": [said("cancelled", "SIU^S17: the appointment was cancelled")],
    "hl7/ms/SIU-S17-02.hl7": [said("cancelled", "SIU^S17: the appointment was cancelled")],
    "hl7/ms/SIU-S26-01.hl7": [said("cancelled", "SIU^S26: the appointment was noshow")],
    "hl7/ms/SIU-S26-02.hl7": [said("cancelled", "SIU^S26: the appointment was noshow")],
    "hl7/ms/SIU_12.hl7": [said("skipped", "MSH-9 ADT^A60 is not an SIU scheduling message")],
}


def every_file() -> list[str]:
    assert THIRDPARTY.is_dir(), f"the third-party set is missing: {THIRDPARTY}"
    return sorted(
        str(p.relative_to(THIRDPARTY))
        for p in THIRDPARTY.rglob("*")
        if p.is_file() and p.name not in ("SOURCES.md", "codes.yaml")
    )


def test_every_file_is_listed():
    assert every_file() == sorted(EXPECTED)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("thirdparty")
    site = folder / "site.yaml"
    # The Microsoft samples' patient speaks Arabic (PID-15 ara), which pars-docs lacks.
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8") + "fallback_language: en\n", "utf-8"
    )
    codes = folder / "codes.yaml"
    codes.write_text(
        (THIRDPARTY / "codes.yaml").read_text(encoding="utf-8")
        + (DATA / "thirdparty" / "codes.yaml").read_text(encoding="utf-8"),
        "utf-8",
    )
    return site, codes


def local(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(NEW_YORK).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_file(runner, setup, tmp_path, name):
    site, codes = setup
    expected = EXPECTED[name]
    manifest = tmp_path / "m.jsonl"
    result = runner.invoke(cli, [
        "batch", str(THIRDPARTY / name), "--site", str(site), "--codes", str(codes),
        "--out-dir", str(tmp_path / "o"), "--output-format", "json", "--manifest",
        str(manifest), "--as-of", "2000-01-01", "-j", "1",
    ])  # fmt: skip
    assert "Traceback" not in result.output
    if isinstance(expected, str):  # refused as a whole: one line naming why
        assert result.exit_code == 1
        (line,) = [x for x in result.stderr.splitlines() if x.startswith("pars-docs: error:")]
        assert expected in line
        return
    records = [json.loads(x) for x in manifest.read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in records] == [status for status, _ in expected]
    for record, (status, want) in zip(records, expected, strict=True):
        if status != "ok":
            assert record["reason"].startswith(want), record["reason"]
            continue
        handout = json.loads(Path(record["output"]).read_text(encoding="utf-8"))
        got = {key: handout[key] for key in ("procedure", "patient", "clinician")}
        got["start"] = local(handout["moments"]["start"])
        assert got == want
    assert result.exit_code == (1 if any(s == "failed" for s, _ in expected) else 0)


FHIR_MADE = [n for n, e in EXPECTED.items() if n.endswith(".json") and isinstance(e, list)]


@pytest.mark.parametrize("name", [n for n in FHIR_MADE if any(s == "ok" for s, _ in EXPECTED[n])])
def test_fhir_start_is_the_sources_own(name):
    """The start in the table above is the source's own Appointment.start, on New York's
    clock (checked here from the file, so the table cannot drift from the source)."""
    data = json.loads((THIRDPARTY / name).read_text(encoding="utf-8"))
    resources = [e["resource"] for e in data.get("entry", [])] if "entry" in data else [data]
    booked = [
        r for r in resources if r.get("resourceType") == "Appointment" and r["status"] == "booked"
    ]
    made_ones = [want["start"] for status, want in EXPECTED[name] if status == "ok"]
    assert [local(r["start"]) for r in booked] == made_ones

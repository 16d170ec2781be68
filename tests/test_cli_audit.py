"""`pars-docs make` and `batch` write to the site's audit trail when the profile names one:
a real SQLite file, read back and verified through `pars-docs audit`."""

import hashlib

from helpers import DATA, write

from pars_docs.audit import AuditTrail, command_user
from pars_docs.cli import cli


def audited_site(tmp_path, rule="mrn"):
    site = tmp_path / "site.yaml"
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8")
        + f"\naudit: trail.sqlite\naudit_patient: {rule}\n",
        encoding="utf-8",
    )
    return site, tmp_path / "trail.sqlite"


MAKE = [
    "make",
    "pars-defect-injection",
    "--patient",
    "Ana Díaz",
    "--date",
    "2026-12-03",
    "--time",
    "08:00",
    "--clinician",
    "Dr. Sam Lee",
    "--mrn",
    "A-77",
]


def test_make_records_the_handout_with_its_pdf_hash(runner, tmp_path):
    site, trail = audited_site(tmp_path)
    out = tmp_path / "ana.pdf"
    result = runner.invoke(cli, [*MAKE, "--site", str(site), "-o", str(out)])
    assert result.exit_code == 0, result.output
    (entry,) = AuditTrail(trail).entries()
    assert entry.event == "handout-made"
    assert entry.channel == "make"
    assert entry.user == command_user()
    assert entry.set_id == "pars-defect-injection" and entry.set_version
    assert entry.patient == "MRN A-77"
    assert entry.language == "en"
    assert entry.pdf_sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    verified = runner.invoke(cli, ["audit", "--site", str(site), "verify"])
    assert verified.exit_code == 0, verified.output


def test_make_without_an_audit_in_the_site_writes_none(runner, tmp_path):
    result = runner.invoke(
        cli, [*MAKE, "--site", str(DATA / "site-ny.yaml"), "-o", str(tmp_path / "a.pdf")]
    )
    assert result.exit_code == 0, result.output
    assert not list(tmp_path.glob("*.sqlite"))


def test_make_writes_nothing_when_the_trail_cannot_be_written(runner, tmp_path):
    site, trail = audited_site(tmp_path)
    trail.mkdir()  # a folder where the file should be: SQLite cannot open it
    out = tmp_path / "ana.pdf"
    result = runner.invoke(cli, [*MAKE, "--site", str(site), "-o", str(out)])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"pars-docs: error: {trail}: the audit trail cannot be written")
    assert not out.exists()


def test_batch_records_each_handout_made_and_the_packet(batch, tmp_path):
    site, trail = audited_site(tmp_path, rule="name_dob")
    listing = write(
        tmp_path / "list.csv",
        "procedure,patient,date,time,clinician,mrn,dob\n"
        "pars-defect-injection,Ana Díaz,2026-12-03,08:00,Dr. Sam Lee,A-77,1961-04-02\n"
        "pars-defect-injection,Bad Row,2026-13-03,08:00,Dr. Sam Lee,B-1,\n"
        "pars-defect-decompression,Zoë Brown,2026-12-04,09:00,Dr. Sam Lee,C-3,\n",
    )
    out = tmp_path / "out"
    result = batch(listing, "--site", site, "--out-dir", out, "--merge", tmp_path / "packet.pdf")
    assert result.exit_code == 1  # the bad row
    entries = AuditTrail(trail).entries()
    made = [e for e in entries if e.event == "handout-made"]
    assert [(e.detail, e.patient, e.channel) for e in made] == [
        ("row 2", "Ana Díaz (born 1961-04-02)", "batch"),
        ("row 4", "Zoë Brown", "batch"),
    ]
    files = {p.name: p for p in out.glob("*.pdf")}
    assert {e.pdf_sha256 for e in made} == {
        hashlib.sha256(p.read_bytes()).hexdigest() for p in files.values()
    }
    assert [e.event for e in entries][-1] == "packet-made"
    assert entries[-1].detail == "2 handouts, 1 rows failed"
    assert AuditTrail(trail).verify() == []


def test_batch_stops_before_any_work_when_the_trail_cannot_be_opened(batch, tmp_path):
    site, trail = audited_site(tmp_path)
    trail.mkdir()
    listing = write(
        tmp_path / "list.csv",
        "procedure,patient,date,time,clinician\n"
        "pars-defect-injection,Ana Díaz,2026-12-03,08:00,Dr. Sam Lee\n",
    )
    out = tmp_path / "out"
    result = batch(listing, "--site", site, "--out-dir", out)
    assert result.exit_code == 1
    assert "cannot open the audit trail" in result.stderr
    assert not out.exists() or not list(out.glob("*.pdf"))

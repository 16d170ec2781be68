"""Named desk users (`pars-docs accounts`) and the audit trail (`pars-docs audit`), each on a
real SQLite file."""

import hashlib
import json
import sqlite3
import subprocess
import sys

import pytest
from helpers import DATA, stderr_lines

from pars_docs import make_visit
from pars_docs.audit import AuditTrail, patient_id
from pars_docs.cli import cli
from pars_docs.errors import AccountError, AuditError
from pars_docs.web.accounts import Accounts

PASSWORD = "correct horse battery"


def test_add_list_disable_reset(runner, tmp_path):
    store = tmp_path / "accounts.sqlite"

    def run(*args, input=None):  # scripts give the password on standard input
        return runner.invoke(cli, ["accounts", *args, "--accounts", str(store)], input=input)

    result = run("add", "rosa", "--role", "nurse", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert run("add", "ali", "--role", "admin", input=PASSWORD + "\n").exit_code == 0
    assert store.stat().st_mode & 0o777 == 0o600
    listed = run("list")
    assert listed.exit_code == 0
    assert [line.split("\t")[:3] for line in listed.stdout.splitlines()] == [
        ["ali", "admin", "active"],
        ["rosa", "nurse", "active"],
    ]
    # The password is never in the file: only its Argon2id hash.
    raw = store.read_bytes()
    assert PASSWORD.encode() not in raw and b"$argon2id$" in raw

    accounts = Accounts(store)
    assert accounts.check("rosa", PASSWORD).role == "nurse"
    assert accounts.check("ROSA", PASSWORD).name == "rosa"  # names ignore case
    assert accounts.check("rosa", "wrong password!") is None
    assert accounts.check("nobody", PASSWORD) is None

    assert run("disable", "rosa").exit_code == 0
    assert accounts.check("rosa", PASSWORD) is None
    assert "rosa\tnurse\tdisabled" in run("list").stdout
    assert run("reset", "rosa", input="a new password here\n").exit_code == 0
    assert accounts.check("rosa", PASSWORD) is None
    assert accounts.check("rosa", "a new password here").name == "rosa"


@pytest.mark.parametrize(
    ("args", "given", "message"),
    [
        (["add", "rosa", "--role", "nurse"], "short\n", "at least 10 characters"),
        (["add", "-x", "--role", "nurse"], PASSWORD + "\n", "No such option '-x'"),
        (["add", "ro sa", "--role", "nurse"], PASSWORD + "\n", "account name 'ro sa': use"),
        (["add", "rosa", "--role", "boss"], PASSWORD + "\n", "'boss' is not one of"),
        (["add", "rosa", "--role", "nurse"], "", "no password on standard input"),
        (["disable", "nobody"], None, "no account named 'nobody'"),
    ],
)
def test_bad_account_commands_are_one_line(runner, tmp_path, args, given, message):
    store = tmp_path / "accounts.sqlite"
    Accounts(store).add("ali", "admin", PASSWORD)
    result = subprocess.run(
        [sys.executable, "-m", "pars_docs", "accounts", *args, "--accounts", str(store)],
        input=given,
        capture_output=True,
        text=True,
    )
    assert result.returncode in (1, 2)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_second_account_of_the_same_name_is_refused(tmp_path):
    store = Accounts(tmp_path / "a.sqlite")
    store.add("rosa", "nurse", PASSWORD)
    with pytest.raises(AccountError, match="already exists"):
        store.add("Rosa", "admin", PASSWORD)


def test_no_accounts_file_says_how_to_make_one(tmp_path):
    with pytest.raises(AccountError, match="pars-docs accounts add NAME --role admin"):
        Accounts(tmp_path / "none.sqlite").list()


# --- The audit trail -----------------------------------------------------------------------


def visit(**given):
    values = {
        "procedure": "pars-defect-injection",
        "patient": "Ana Díaz",
        "date": "2026-12-03",
        "time": "8:00",
        "clinician": "Dr. Lee",
        **given,
    }
    order = ("procedure", "patient", "date", "time", "clinician")
    return make_visit(*[values.pop(name) for name in order], **values)


def test_patient_identifier_as_the_clinic_chooses():
    assert patient_id(visit(mrn="A-77")) == "MRN A-77"
    assert patient_id(visit(mrn="A-77", dob="1961-04-02"), "name_dob") == (
        "Ana Díaz (born 1961-04-02)"
    )
    assert patient_id(visit(dob="1961")) == "Ana Díaz (born 1961)"


def filled(path):
    trail = AuditTrail(path)
    trail.record("signed-in", "rosa")
    trail.record(
        "handout-made",
        "rosa",
        set_id="pars-defect-injection",
        set_version="3",
        language="en",
        patient="MRN A-77",
        pdf=b"%PDF-1.7 one",
    )
    trail.record("downloaded", "rosa", patient="MRN A-77", pdf=b"%PDF-1.7 one")
    trail.record("handout-made", "ali", channel="cli", patient="Zoë (born 1990)", pdf=b"two")
    return trail


def test_records_chain_and_export(runner, tmp_path):
    path = tmp_path / "audit.sqlite"
    trail = filled(path)
    entries = trail.entries()
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[1].pdf_sha256 == hashlib.sha256(b"%PDF-1.7 one").hexdigest()
    assert all(
        later.prev == earlier.hash for earlier, later in zip(entries, entries[1:], strict=False)
    )
    assert path.stat().st_mode & 0o777 == 0o600

    ok = runner.invoke(cli, ["audit", "--audit", str(path), "verify"])
    assert ok.exit_code == 0, ok.output
    assert f"4 records, chain whole; head {entries[-1].hash}" in ok.stdout

    found = runner.invoke(
        cli,
        ["audit", "--audit", str(path), "--user", "rosa", "--patient", "a-77", "--format", "json"],
    )
    assert found.exit_code == 0
    rows = json.loads(found.stdout)
    assert [(r["seq"], r["event"]) for r in rows] == [(2, "handout-made"), (3, "downloaded")]
    assert rows[0]["set_id"] == "pars-defect-injection" and rows[0]["language"] == "en"

    table = runner.invoke(cli, ["audit", "--audit", str(path), "--since", "2000-01-01"])
    assert table.stdout.splitlines()[0].startswith("seq,at,event,user,channel,set_id")
    assert len(table.stdout.splitlines()) == 5
    later = runner.invoke(cli, ["audit", "--audit", str(path), "--since", "2999-01-01"])
    assert len(later.stdout.splitlines()) == 1
    bad = runner.invoke(cli, ["audit", "--audit", str(path), "--since", "yesterday"])
    assert bad.exit_code == 2 and "--since: 'yesterday' is not a date" in bad.stderr


def test_sqlite_itself_refuses_changes(tmp_path):
    path = tmp_path / "audit.sqlite"
    filled(path)
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE records SET user = 'mallory' WHERE seq = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM records WHERE seq = 2")


def tamper(path, *statements):
    """Change the file as someone with write access would: triggers dropped first."""
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER records_no_update")
    db.execute("DROP TRIGGER records_no_delete")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("statements", "problem"),
    [
        (["UPDATE records SET patient = 'MRN B-1' WHERE seq = 2"], "record 2: changed after"),
        (["DELETE FROM records WHERE seq = 2"], "record 2 removed"),
        (
            ["DELETE FROM records WHERE seq = 4"],
            "the trail ends at record 3, but its head says 4",
        ),
        (
            # Removed, and the rest renumbered: the hashes no longer match.
            ["DELETE FROM records WHERE seq = 2", "UPDATE records SET seq = seq - 1 WHERE seq > 2"],
            "record 2: does not follow the record before it",
        ),
    ],
)
def test_verify_finds_a_changed_or_removed_record(runner, tmp_path, statements, problem):
    path = tmp_path / "audit.sqlite"
    filled(path)
    tamper(path, *statements)
    result = runner.invoke(cli, ["audit", "--audit", str(path), "verify"])
    assert result.exit_code == 1
    assert problem in result.stderr
    assert "chain whole" not in result.stdout


def test_verify_with_an_earlier_head_finds_the_end_cut_off(runner, tmp_path):
    path = tmp_path / "audit.sqlite"
    trail = filled(path)
    head = trail.head()[1]
    trail.record("signed-out", "rosa")
    # Both the last records and the head rewritten, as one careful forger would.
    tamper(
        path,
        "DELETE FROM records WHERE seq >= 4",
        "UPDATE head SET seq = 3, hash = (SELECT hash FROM records WHERE seq = 3)",
    )
    assert runner.invoke(cli, ["audit", "--audit", str(path), "verify"]).exit_code == 0
    result = runner.invoke(cli, ["audit", "--audit", str(path), "verify", "--head", head])
    assert result.exit_code == 1 and "written down before is not in the trail" in result.stderr


def test_a_locked_trail_refuses_the_action(tmp_path):
    path = tmp_path / "audit.sqlite"
    trail = filled(path)
    trail.TIMEOUT = 0.2
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the file
    try:
        with pytest.raises(AuditError, match="cannot be written .*locked.*; the action was not"):
            trail.record("handout-made", "rosa", pdf=b"x")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert len(trail.entries()) == 4 and trail.verify() == []


FULL_DISK = """
import resource, sys
from pathlib import Path
from pars_docs.audit import AuditTrail
from pars_docs.errors import AuditError
path = Path(sys.argv[1])
trail = AuditTrail(path)
size = path.stat().st_size
# Files may grow no further: each write past this size fails as on a full disk (EFBIG).
resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
try:
    for _ in range(200):
        trail.record("handout-made", "rosa", detail="x" * 4000)
except AuditError as e:
    print(e)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_refuses_the_action(tmp_path):
    path = tmp_path / "audit.sqlite"
    filled(path)
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(path)], capture_output=True, text=True
    )
    assert "the audit trail cannot be written" in result.stdout, result.stderr
    assert "the action was not done" in result.stdout
    trail = AuditTrail(path)
    assert trail.verify() == []  # what was written before is whole
    assert [e.seq for e in trail.entries()][:4] == [1, 2, 3, 4]


def test_the_site_names_the_trail(runner, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8")
        + "\naudit: trail.sqlite\naudit_patient: name_dob\n",
        encoding="utf-8",
    )
    filled(tmp_path / "trail.sqlite")
    result = runner.invoke(cli, ["audit", "--site", str(site), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 4
    none = runner.invoke(cli, ["audit", "--site", str(DATA / "site-ny.yaml")])
    assert none.exit_code == 2
    assert stderr_lines(none) == [
        "pars-docs: error: no audit trail: give --audit FILE, or name one in the site "
        "profile (audit: FILE) and give --site"
    ]

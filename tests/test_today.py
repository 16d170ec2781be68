"""Today's list: the desk's kept handouts in a real SQLite file, encrypted with the site's
key, listed by day and owner, searched, and purged (audited) after the retention."""

import os
import sqlite3
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from pars_docs.audit import AuditTrail
from pars_docs.errors import SiteError
from pars_docs.web.today import KeptError, TodayList, load_key

NY = ZoneInfo("America/New_York")
VALUES = {"patient": "Ana Díaz", "mrn": "A-77", "procedure": "pars-defect-injection"}
PDF = b"%PDF-1.4 the handout as printed"


def shown(name="Ana Díaz", mrn="A-77"):
    return {"patient": name, "mrn": mrn, "title": "Pars defect injection", "version": "1.1.0"}


@pytest.fixture
def today(tmp_path):
    key = load_key(tmp_path / "today.key")
    return TodayList(tmp_path / "today.sqlite", key, NY, audit=AuditTrail(tmp_path / "a.sqlite"))


def test_the_key_is_made_private_and_kept(tmp_path):
    path = tmp_path / "today.key"
    key = load_key(path)
    assert len(key) == 32
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert load_key(path) == key  # the same key the next time


def test_a_key_others_may_read_or_of_the_wrong_size_is_refused(tmp_path):
    path = tmp_path / "today.key"
    load_key(path)
    path.chmod(0o644)
    with pytest.raises(SiteError, match=r"may be read by other users \(mode 644\)"):
        load_key(path)
    short = tmp_path / "short.key"
    short.write_bytes(b"x" * 16)
    short.chmod(0o600)
    with pytest.raises(SiteError, match="holds 16 bytes"):
        load_key(short)


def test_nothing_about_the_patient_is_in_the_file_in_the_clear(today, tmp_path):
    today.add("rosa", VALUES, PDF, shown())
    raw = (tmp_path / "today.sqlite").read_bytes()
    for value in (b"A-77", "Ana Díaz".encode(), b"the handout as printed", b"pars-defect"):
        assert value not in raw
    (kept,) = today.listed("rosa")
    assert kept.values == VALUES and kept.pdf == PDF and kept.shown["mrn"] == "A-77"


def test_another_key_or_a_moved_record_does_not_open(today, tmp_path):
    first = today.add("rosa", VALUES, PDF, shown())
    second = today.add("rosa", VALUES, PDF, shown("Li Wei", "B-2"))
    db = sqlite3.connect(tmp_path / "today.sqlite")
    # The first record's sealed data put in the second's row: the row id is checked too.
    sealed, nonce = db.execute("SELECT sealed, nonce FROM kept WHERE id = ?", (first,)).fetchone()
    db.execute("UPDATE kept SET sealed = ?, nonce = ? WHERE id = ?", (sealed, nonce, second))
    db.commit()
    db.close()
    with pytest.raises(KeptError, match="does not open with the site's key"):
        today.get(second)
    other = TodayList(tmp_path / "today.sqlite", b"k" * 32, NY)
    with pytest.raises(KeptError):
        other.get(first)


def test_the_list_is_the_owners_or_the_clinics_and_searchable(today):
    today.add("rosa", VALUES, PDF, shown())
    today.add("rosa", VALUES, PDF, shown("Li Wei", "B-2"))
    today.add("sam", VALUES, PDF, shown("Zoë Brown", "C-3"))
    assert [k.shown["patient"] for k in today.listed("rosa")] == ["Li Wei", "Ana Díaz"]
    assert len(today.listed(None)) == 3  # a scheduler sees the clinic's
    assert [k.shown["patient"] for k in today.listed(None, "zoë")] == ["Zoë Brown"]
    assert [k.shown["patient"] for k in today.listed(None, "b-2")] == ["Li Wei"]
    yesterday = datetime.now(NY).date() - timedelta(days=1)
    assert today.listed(None, day=yesterday) == []


def test_kept_until_the_end_of_the_day_on_the_clinics_clock(today):
    made = datetime(2026, 12, 3, 22, 30, tzinfo=timezone.utc)  # 5:30 PM in New York
    assert today.purge_time(made) == datetime(2026, 12, 4, 5, 0, tzinfo=timezone.utc)
    today.keep_hours = 4
    assert today.purge_time(made) == made + timedelta(hours=4)


def test_a_purge_removes_what_is_past_its_retention_and_is_audited(today, tmp_path):
    key = today.add("rosa", VALUES, PDF, shown())
    assert today.purge() == 0
    assert today.get(key) is not None
    later = datetime.now(timezone.utc) + timedelta(days=1, hours=1)
    assert today.purge(later) == 1
    assert today.get(key) is None
    db = sqlite3.connect(tmp_path / "today.sqlite")
    assert db.execute("SELECT count(*) FROM kept").fetchone() == (0,)
    db.close()
    (entry,) = AuditTrail(tmp_path / "a.sqlite").entries()
    assert entry.event == "purged"
    assert entry.detail == "1 kept handouts past their retention (the end of the day)"


def test_a_purge_that_cannot_be_audited_removes_nothing(today, tmp_path):
    key = today.add("rosa", VALUES, PDF, shown())
    (tmp_path / "a.sqlite").unlink(missing_ok=True)
    (tmp_path / "a.sqlite").mkdir()  # the audit trail cannot be written
    later = datetime.now(timezone.utc) + timedelta(days=2)
    with pytest.raises(Exception, match="audit trail cannot be written"):
        today.purge(later)
    assert today.get(key) is not None

"""The start-up cache is data only, and only the user's own (pars_docs/startup_cache.py).

Each test plays someone who can write the cache folder (a shared ``PARS_DOCS_CACHE``, or a
home cache under umask 002) and checks that what they plant is never believed or run.
"""

import marshal
import os
import subprocess
import sys

import pytest

from pars_docs import startup_cache
from pars_docs.compose import dates
from pars_docs.load import library
from pars_docs.load.library import Library

MAKE = [
    sys.executable, "-m", "pars_docs", "make", "pars-defect-injection", "--patient",
    "Ana Díaz", "--date", "2026-12-03", "--time", "8:00 AM", "--clinician", "Dr. Lee",
    "--medication", "Eliquis", "--as-of", "2026-11-20",
]  # fmt: skip


def make(cache, tmp_path, *more):
    env = {**os.environ, "PARS_DOCS_CACHE": str(cache), "SOURCE_DATE_EPOCH": "1790000000"}
    out = tmp_path / "h.pdf"
    result = subprocess.run(
        [*MAKE, *more, "-o", str(out)], env=env, capture_output=True, text=True, timeout=120
    )
    return result, out.read_bytes() if out.exists() else b""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("PARS_DOCS_CACHE", str(folder))
    return folder


def test_the_folder_and_key_are_the_users_alone(cache):
    startup_cache.keep("test", "a", {"x": 1})
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    assert oct((cache / "key").stat().st_mode & 0o777) == "0o600"
    assert startup_cache.load("test", "a") == {"x": 1}
    for record in cache.iterdir():
        assert record.stat().st_mode & 0o077 == 0, record.name


def test_no_record_holds_code(cache, tmp_path):
    result, _ = make(cache, tmp_path)
    assert result.returncode == 0, result.stderr
    for record in cache.iterdir():
        if record.name == "key":
            continue
        payload = record.read_bytes()[len(startup_cache._MAGIC) + startup_cache._MAC_SIZE :]
        if payload:
            value = marshal.loads(payload)
            assert startup_cache._only_data(value), record.name
        assert b"\xe3" not in payload[:1]  # marshal's type byte for a code object


def test_code_is_never_kept(cache):
    code = compile("print('planted')", "x", "exec")
    startup_cache.keep("test", "code", {"run": code})
    startup_cache.keep("test", "nested", [1, [2, (code,)]])
    assert not list(cache.glob("test-*"))


def test_a_planted_record_is_not_believed(cache, tmp_path):
    """A record written without the user's key (or edited after) is a miss: the wording comes
    from the set itself."""
    result, honest = make(cache, tmp_path)
    assert result.returncode == 0
    for record in cache.glob("yaml-*"):
        payload = record.read_bytes()[len(startup_cache._MAGIC) + startup_cache._MAC_SIZE :]
        value = marshal.loads(payload)
        planted = marshal.dumps(eval(repr(value).replace(" the ", " 555-0100 ")))
        head = record.read_bytes()[: len(startup_cache._MAGIC) + startup_cache._MAC_SIZE]
        record.write_bytes(head + planted)  # the old MAC: it no longer matches
    result, again = make(cache, tmp_path)
    assert result.returncode == 0, result.stderr
    assert again == honest
    assert honest


def test_a_planted_pass_does_not_skip_the_check(cache, tmp_path, monkeypatch):
    clinic = tmp_path / "clinic"
    clinic.mkdir()
    from pars_docs.resources import instructions_dir

    text = (instructions_dir() / "pars-defect-injection.yaml").read_text(encoding="utf-8")
    (clinic / "pars-defect-injection.yaml").write_text(
        text.replace("version:", "versoin:", 1), encoding="utf-8"
    )
    table = (instructions_dir() / "medicines.yaml").read_text(encoding="utf-8")
    check = startup_cache.key(
        "instruction set", "pars-defect-injection.yaml",
        (clinic / "pars-defect-injection.yaml").read_text(encoding="utf-8"), table,
    )  # fmt: skip
    startup_cache.keep("test", "x", 1)  # the folder and its key exist
    (cache / f"pass-{check}").write_bytes(startup_cache._MAGIC + b"\0" * startup_cache._MAC_SIZE)
    library._load_set_at.cache_clear()
    library._table.cache_clear()
    from pars_docs.errors import InstructionError

    with pytest.raises(InstructionError, match="versoin"):
        Library(clinic).get("pars-defect-injection")
    library._load_set_at.cache_clear()
    library._table.cache_clear()


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"pars-docs cache 2\0",
        b"\x00" * 10,
        b"pars-docs cache 2\0" + b"x" * 32 + b"\xe3garbage",
        b"not marshal at all" * 100,
    ],
)
def test_damaged_records_are_misses(cache, tmp_path, content):
    result, honest = make(cache, tmp_path)
    assert result.returncode == 0
    for record in cache.iterdir():
        if record.name != "key":
            record.write_bytes(content)
    result, again = make(cache, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert again == honest


@pytest.mark.slow
def test_records_of_the_wrong_shape_are_misses(cache, tmp_path):
    """Validly signed records (as a different pars-docs, or a bug, might write) that hold the
    wrong shape of data: each is read as a miss."""
    result, honest = make(cache, tmp_path)
    assert result.returncode == 0
    shapes = [None, 1, "text", [], [1, 2], {}, {"face": 1}, {"face": {}, "names": [], "font": {}},
              [[1, 2, 3]], {"E4": "x"}, {"stamp": 1, "version": 2}, b"\0"]  # fmt: skip
    names = sorted(p.name for p in cache.iterdir() if p.name != "key")
    for shape in shapes:
        for name in names:
            startup_cache._write(name, marshal.dumps(shape))
        result, again = make(cache, tmp_path)
        assert result.returncode == 0, (shape, result.stderr)
        assert "Traceback" not in result.stderr
        assert again == honest


def test_a_folder_others_may_write_is_refused_with_one_line(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    result, text = make(folder, tmp_path)
    assert result.returncode == 0
    warnings = [line for line in result.stderr.splitlines() if "start-up cache" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("pars-docs: warning: not using the start-up cache")
    assert str(folder) in warnings[0]
    assert list(folder.iterdir()) == []  # nothing written there
    assert text.startswith(b"%PDF")  # the handout was made without the cache


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a folder to another user")
def test_a_folder_owned_by_another_user_is_refused(tmp_path):
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)
    result, _ = make(folder, tmp_path)
    assert result.returncode == 0
    assert "not using the start-up cache" in result.stderr
    assert list(folder.iterdir()) == []


def test_a_key_that_others_may_read_is_refused(cache, tmp_path):
    startup_cache.keep("test", "x", 1)
    (cache / "key").chmod(0o644)
    result, _ = make(cache, tmp_path)
    assert result.returncode == 0
    assert "not using the start-up cache" in result.stderr


def test_a_linked_key_is_refused(cache, tmp_path):
    cache.mkdir(mode=0o700)
    secret = tmp_path / "secret"
    secret.write_bytes(b"k" * 32)
    secret.chmod(0o600)
    (cache / "key").symlink_to(secret)
    result, _ = make(cache, tmp_path)
    assert result.returncode == 0
    assert "not using the start-up cache" in result.stderr


def test_a_planted_link_in_the_folder_is_not_written_through(cache, tmp_path):
    startup_cache.keep("test", "x", 1)
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    (cache / "test-y").symlink_to(victim)
    for pid in range(os.getpid(), os.getpid() + 1):
        (cache / f".test-y.{pid}.part").symlink_to(victim)
    startup_cache.keep("test", "y", 2)
    assert victim.read_text() == "keep me"
    assert startup_cache.load("test", "y") is None  # the part could not be made, nothing kept


def test_the_cache_keeps_to_its_limit(cache, monkeypatch):
    monkeypatch.setattr(startup_cache, "LIMIT", 50_000)
    for n in range(40):
        startup_cache.keep("test", f"r{n}", b"x" * 4000)
        os.utime(cache / f"test-r{n}", ns=(n * 10**9, n * 10**9))
    total = sum(p.stat().st_size for p in cache.iterdir() if p.name != "key")
    assert total <= 50_000
    assert startup_cache.load("test", "r39") == b"x" * 4000  # the newest stay
    assert startup_cache.load("test", "r0") is None  # the oldest went first


def test_a_record_over_the_bound_is_not_written(cache, monkeypatch):
    monkeypatch.setattr(startup_cache, "RECORD_LIMIT", 1000)
    startup_cache.keep("test", "big", b"x" * 2000)
    assert startup_cache.load("test", "big") is None


def test_dates_read_back_only_what_this_user_wrote(cache):
    dates._names.cache_clear()
    from datetime import date

    assert dates.format_date(date(2026, 12, 3), "EEEE d", "en") == "Thursday 3"
    (record,) = cache.glob("dates-*")
    header = len(startup_cache._MAGIC) + startup_cache._MAC_SIZE
    names = marshal.loads(record.read_bytes()[header:])
    names["E4"] = ["Lundi"] * 7
    record.write_bytes(b"pars-docs cache 2\0" + b"\0" * 32 + marshal.dumps(names))
    dates._names.cache_clear()
    assert dates.format_date(date(2026, 12, 3), "EEEE d", "en") == "Thursday 3"
    dates._names.cache_clear()

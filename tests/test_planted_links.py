"""No write through anything planted (issue 25, item 2): probes, temporary and state files are
made new (O_TMPFILE, or O_CREAT|O_EXCL|O_NOFOLLOW) in a folder opened once; names too long
for the folder are refused with a clear error, the temporary name always fits; errors name
the file or folder."""

import errno
import os

import pytest
from helpers import appointment, lines, write

from pars_docs.errors import UsageError
from pars_docs.write import output
from pars_docs.write.names import check_writable
from pars_docs.write.output import NewFile, part_name, write_atomic


@pytest.fixture(params=["unnamed", "named"])
def kind(request, monkeypatch):
    """Each test runs with unnamed files (Linux's O_TMPFILE) and with named .part files, as
    on systems without them."""
    if request.param == "named":
        monkeypatch.setattr(NewFile, "_unnamed", lambda self: None)
    return request.param


def test_the_probe_never_writes_through_a_planted_link(tmp_path, kind, monkeypatch):
    folder, victim = tmp_path / "out", tmp_path / "victim"
    folder.mkdir()
    victim.write_text("fifteen bytes!!")
    # Links at every name the old probe and a guessed temporary name could take.
    (folder / f".pars-docs-probe-{os.getpid()}").symlink_to(victim)
    (folder / ".pars-docs-probe").symlink_to(victim)
    draws = iter([b"\0" * 6] + [bytes([n]) * 6 for n in range(1, 50)])
    monkeypatch.setattr(output.os, "urandom", lambda n: next(draws))
    (folder / part_name(".pars-docs-probe", "00" * 6)).symlink_to(victim)
    check_writable(folder, "--out-dir")
    assert victim.read_text() == "fifteen bytes!!"
    assert sorted(p.name for p in folder.iterdir() if not p.is_symlink()) == []


def test_a_planted_hard_link_at_the_temporary_name_is_not_opened(tmp_path, kind, monkeypatch):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    draws = iter([b"\0" * 6] + [bytes([n]) * 6 for n in range(1, 50)])
    monkeypatch.setattr(output.os, "urandom", lambda n: next(draws))
    os.link(victim, tmp_path / part_name("h.pdf", "00" * 6))
    write_atomic(tmp_path / "h.pdf", b"%PDF new")
    assert victim.read_text() == "keep"
    assert (tmp_path / "h.pdf").read_bytes() == b"%PDF new"


def test_a_folder_swapped_for_a_link_midway_is_not_followed(tmp_path, kind):
    folder, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    new = NewFile(folder / "h.pdf")
    new.write(b"%PDF")
    folder.rename(tmp_path / "moved")
    folder.symlink_to(elsewhere)
    new.place()
    new.close()
    assert list(elsewhere.iterdir()) == []
    assert (tmp_path / "moved" / "h.pdf").read_bytes() == b"%PDF"


def test_names_near_the_limit_get_a_temporary_name_that_fits(tmp_path, kind):
    name = "a" * 250 + ".pdf"  # 254 bytes: fine as a name, too long with ".NAME.xxxx.part"
    write_atomic(tmp_path / name, b"%PDF")
    assert (tmp_path / name).read_bytes() == b"%PDF"
    assert len(part_name(name, "ab" * 6).encode()) <= 255


def test_a_name_too_long_for_the_folder_is_a_clear_error(tmp_path, kind):
    name = "é" * 130 + ".pdf"  # 264 bytes
    with pytest.raises(OSError) as caught:
        write_atomic(tmp_path / name, b"%PDF")
    assert caught.value.errno == errno.ENAMETOOLONG
    assert "264 bytes, the folder allows 255" in caught.value.strerror
    assert caught.value.filename == str(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_make_names_the_file_whose_name_is_too_long(runner, tmp_path):
    out = tmp_path / ("n" * 260 + ".pdf")
    result = runner.invoke(
        __import__("pars_docs.cli", fromlist=["cli"]).cli,
        ["make", "pars-defect-injection", "--patient", "Ana Díaz", "--date", "2026-12-03",
         "--time", "8:00 AM", "--clinician", "Dr. Lee", "--as-of", "2026-11-20", "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code in (1, 2)
    assert "file name too long" in result.output
    assert "standard output" not in result.output
    assert "Traceback" not in result.output


def test_errors_writing_a_file_name_it(tmp_path, kind, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    new = NewFile(tmp_path / "h.pdf")
    monkeypatch.setattr(output.os, "fsync", full)
    with pytest.raises(OSError) as caught:
        new.place()
    new.discard()
    assert caught.value.filename == str(tmp_path / "h.pdf")
    assert list(tmp_path.iterdir()) == []


def test_a_vanished_out_dir_is_named_in_each_rows_error(batch, tmp_path, monkeypatch):
    import shutil

    from pars_docs.batch import worker

    real = worker.write_atomic

    def gone(path, data):
        shutil.rmtree(path.parent, ignore_errors=True)
        return real(path, data)

    monkeypatch.setattr(worker, "write_atomic", gone)
    source = write(tmp_path / "l.csv", lines(appointment("Ana Díaz", "2026-12-03 8:00", "A1")))
    out = tmp_path / "out"
    result = batch(source, "--out-dir", out)
    assert result.exit_code == 1
    assert f"cannot write the row's file in {out} (No such file or directory)" in result.output
    assert "standard output" not in result.output


def test_an_unwritable_folder_is_named(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    with pytest.raises(UsageError, match=f"--out-dir: cannot write to {folder}"):
        check_writable(folder, "--out-dir")


def test_the_folder_record_is_not_a_planted_hard_link(batch, tmp_path):
    from pars_docs.batch.folder import STATE_NAME

    out, victim = tmp_path / "out", tmp_path / "victim"
    out.mkdir()
    victim.write_text("someone else's file")
    os.link(victim, out / STATE_NAME)
    source = write(tmp_path / "l.csv", lines(appointment("Ana Díaz", "2026-12-03 8:00", "A1")))
    result = batch(source, "--out-dir", out)
    assert result.exit_code == 2
    assert STATE_NAME in result.output and "link" in result.output
    assert victim.read_text() == "someone else's file"

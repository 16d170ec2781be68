"""Hostile and broken output: no wrong or stale handout kept, no name claimed twice, nothing
written through a link, onto a device or over an input, one run per folder, a full disk that
fails clearly with a manifest that tells the truth, no copy of standard input left behind,
private file modes, and the packet's index listing every row."""

import base64
import csv
import errno
import hashlib
import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import (
    LISTS,
    MEDICINES,
    SCRIPT,
    SITE,
    STATE,
    appointment,
    assert_no_crash,
    assert_summary,
    by_row,
    folder_names,
    lines,
    mixed_list,
    pdf_names,
    pdf_text,
    read_manifest,
    squash,
    text_of,
    write,
)

from pars_docs.batch.ledger import Manifest, Record, Status, neutralised
from pars_docs.resources import templates_dir
from pars_docs.write import output

TEMPLATES = templates_dir()

NEW_YORK = "2026-12-03 8:00"


def text_of_pdf(data: bytes) -> str:
    return squash(pdf_text(data))


def outputs(manifest: Path) -> dict[int, tuple[str, str | None]]:
    """Each row's (status, output file name)."""
    return {
        r["row"]: (r["status"], Path(r["output"]).name if r["output"] else None)
        for r in read_manifest(manifest)
    }


# 1. No wrong or stale handout ---------------------------------------------------------------


def test_a_kept_handout_is_made_again_when_the_row_changed(batch, tmp_path):
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    before = lines(
        "pars-defect-injection,Ana Díaz,2026-12-03,8:00,Dr. Lee,A1,",
        "pars-defect-injection,Bo Berg,2026-12-03,9:00,Dr. Lee,B2,",
        header=MEDICINES,
    )
    assert batch(write(tmp_path / "list.csv", before), "--out-dir", out).exit_code == 0
    ana, bo = (out / n for n in pdf_names(out))
    assert "Eliquis" not in text_of(ana)
    os.utime(bo, (1_000_000_000, 1_000_000_000))  # a rewrite would change this
    kept = (bo.read_bytes(), bo.stat().st_mtime_ns)
    # The list gains Eliquis for Ana: her kept handout lacks its stop line, so it is remade.
    after = before.replace("A1,", "A1,Eliquis")
    result = batch(
        write(tmp_path / "list.csv", after), "--out-dir", out, "--skip-existing",
        "--manifest", manifest,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Take your last Eliquis" in squash(text_of(ana))
    assert (bo.read_bytes(), bo.stat().st_mtime_ns) == kept
    records = by_row(read_manifest(manifest))
    assert [records[2]["status"], records[3]["status"]] == ["ok", "skipped"]
    assert records[3]["reason"] == "already made from the same row, instruction set and site"
    assert_summary(result, rows=2, written=1, failed=0, extra="1 skipped")


def test_swapped_patients_without_mrn_each_get_their_own_handout(batch, tmp_path):
    out, bundle = tmp_path / "out", tmp_path / "bundle.json"
    # File names without the MRN (as without one); --emit fhir needs the MRN (issue 22).
    name = ("--name", "{date}_{time}_{procedure}_row{row}")
    first = lines(
        appointment("Ana Díaz", NEW_YORK, "M-A"), appointment("Bo Berg", "2026-12-03 9:00", "M-B")
    )
    assert batch(write(tmp_path / "list.csv", first), "--out-dir", out, *name).exit_code == 0
    # The same times, the patients the other way round: row2.pdf and row3.pdf now belong to
    # the other patient, and each is made again.
    swapped = lines(
        appointment("Bo Berg", NEW_YORK, "M-B"), appointment("Ana Díaz", "2026-12-03 9:00", "M-A")
    )
    result = batch(
        write(tmp_path / "list.csv", swapped), "--out-dir", out, "--skip-existing",
        "--emit", "fhir", "--fhir-output", bundle, *name,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert_summary(result, rows=2, written=2, failed=0)
    row2, row3 = (out / n for n in pdf_names(out))
    assert row2.name.endswith("_row2.pdf") and "Patient Bo Berg" in text_of(row2)
    assert row3.name.endswith("_row3.pdf") and "Patient Ana Díaz" in text_of(row3)
    entries = json.loads(bundle.read_text(encoding="utf-8"))["entry"]
    assert sorted(e["resource"]["subject"]["display"] for e in entries) == ["Ana Díaz", "Bo Berg"]
    for entry in entries:
        resource = entry["resource"]
        pdf = base64.b64decode(resource["content"][0]["attachment"]["data"])
        other = ({"Ana Díaz", "Bo Berg"} - {resource["subject"]["display"]}).pop()
        assert f"Patient {resource['subject']['display']}" in text_of_pdf(pdf)
        assert other not in pdf_text(pdf)


@pytest.mark.parametrize("change", ["edited", "replaced"])
def test_a_kept_file_changed_by_hand_is_made_again(batch, tmp_path, change):
    source = write(tmp_path / "list.csv", lines(appointment("Ana Díaz", NEW_YORK, "A1")))
    out = tmp_path / "out"
    assert batch(source, "--out-dir", out).exit_code == 0
    made = out / pdf_names(out)[0]
    original = made.read_bytes()
    if change == "edited":
        made.write_bytes(original + b"% changed by hand\n")
    else:
        made.unlink()
        write(made, b"%PDF-1.4 someone else's\n%%EOF\n")
    result = batch(source, "--out-dir", out, "--skip-existing")
    assert result.exit_code == 0
    assert_summary(result, rows=1, written=1, failed=0)
    assert made.read_bytes() == original


def test_the_folder_record_holds_no_patient_value(batch, tmp_path):
    source = write(tmp_path / "list.csv", lines(appointment("Zelda Quixote", NEW_YORK, "MRN-991")))
    out = tmp_path / "out"
    assert batch(source, "--out-dir", out).exit_code == 0
    record = (out / STATE).read_bytes()
    # It names the files, as the folder does (the default name holds the date and the MRN),
    # and holds nothing else of the row.
    for value in (b"Zelda", b"Quixote", b"Lee", b"08:00", b"8:00"):
        assert value not in record
    name = pdf_names(out)[0]
    entry = json.loads(record.splitlines()[-1])
    assert entry["file"] == name
    assert entry["sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    assert stat.S_IMODE((out / STATE).stat().st_mode) == 0o600


# 2. Nothing lost, nothing overwritten -------------------------------------------------------


def test_every_claimed_name_is_checked(batch, tmp_path):
    rows = [
        appointment("Ana Díaz", NEW_YORK, "A"),
        appointment("Bo Berg", NEW_YORK, "A-row4"),
        appointment("Cy Cole", NEW_YORK, "A"),
        appointment("Di Dunn", NEW_YORK, "a"),  # the same name where case does not count
    ]
    out, manifest = tmp_path / "out", tmp_path / "m.jsonl"
    result = batch(write(tmp_path / "list.csv", lines(*rows)), "--out-dir", out,
                   "--manifest", manifest)  # fmt: skip
    assert result.exit_code == 0, result.output
    stem = "2026-12-03_0800_pars-defect-injection_"
    assert outputs(manifest) == {
        2: ("ok", f"{stem}A.pdf"),
        3: ("ok", f"{stem}A-row4.pdf"),
        4: ("ok", f"{stem}A-row4-2.pdf"),
        5: ("ok", f"{stem}a-row5.pdf"),
    }
    assert len(pdf_names(out)) == 4
    for patient, (_, name) in zip(
        ("Ana", "Bo", "Cy", "Di"), outputs(manifest).values(), strict=True
    ):
        assert f"Patient {patient}" in text_of(out / name)


def test_a_packet_in_the_folder_keeps_its_name(batch, tmp_path):
    out = tmp_path / "out"
    packet = out / "2026-12-03_0800_pars-defect-injection_A1.pdf"
    source = write(tmp_path / "list.csv", lines(appointment("Ana Díaz", NEW_YORK, "A1")))
    result = batch(source, "--out-dir", out, "--merge", packet, "--index")
    assert result.exit_code == 0, result.output
    assert pdf_names(out) == ["2026-12-03_0800_pars-defect-injection_A1-row2.pdf", packet.name]
    assert "Handouts in this packet" in pdf_text(packet)


def link_to(tmp_path: Path, name: str) -> tuple[Path, Path, bytes]:
    """A symbolic link planted at ``name``, to a private file that must not change."""
    victim = write(tmp_path / "victim.txt", b"not yours\n")
    victim.chmod(0o600)
    link = tmp_path / name
    link.symlink_to(victim)
    return link, victim, victim.read_bytes()


@pytest.mark.parametrize(
    "option,name",
    [("--merge", "packet.pdf"), ("--manifest", "m.jsonl"), ("--fhir-output", "bundle.json")],
)
def test_a_batch_output_that_is_a_link_is_refused(batch, tmp_path, option, name):
    link, victim, before = link_to(tmp_path, name)
    extra = ["--emit", "fhir"] if option == "--fhir-output" else ["--out-dir", tmp_path / "out"]
    result = batch(LISTS / "appointments.csv", option, link, *extra)
    assert_no_crash(result)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"pars-docs: error: {option}: {link} is a symbolic link")
    assert link.is_symlink() and victim.read_bytes() == before
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600
    assert pdf_names(tmp_path / "out") == []


def test_make_output_that_is_a_link_is_refused(make, tmp_path):
    link, victim, before = link_to(tmp_path, "handout.pdf")
    result, _ = make(out=link)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"pars-docs: error: output: {link} is a symbolic link")
    assert link.is_symlink() and victim.read_bytes() == before


def test_a_link_planted_in_the_folder_costs_only_its_row(batch, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    link, victim, before = link_to(tmp_path, "out/2026-12-03_0800_pars-defect-injection_A1.pdf")
    rows = [appointment("Ana Díaz", NEW_YORK, "A1"), appointment("Bo Berg", NEW_YORK, "B2")]
    manifest = tmp_path / "m.jsonl"
    result = batch(write(tmp_path / "list.csv", lines(*rows)), "--out-dir", out,
                   "--manifest", manifest)  # fmt: skip
    assert result.exit_code == 1
    assert "pars-docs: row 2: output: the row's file in --out-dir is a symbolic link" in (
        result.stderr
    )
    assert "A1" not in result.stderr  # the file's name holds the MRN
    assert link.is_symlink() and victim.read_bytes() == before
    assert [r["status"] for r in read_manifest(manifest)] == ["failed", "ok"]


@pytest.mark.parametrize("device", ["/dev/null", "fifo"])
def test_a_device_or_pipe_is_never_replaced(batch, make, tmp_path, device):
    if device == "fifo":
        device = tmp_path / "pipe"
        os.mkfifo(device)
    kind = stat.S_IFMT(os.stat(device).st_mode)
    result = batch(LISTS / "appointments.csv", "--merge", device)
    assert result.exit_code == 2
    assert f"--merge: {device} is a device, pipe or socket" in result.stderr
    result = batch(LISTS / "appointments.csv", "--out-dir", tmp_path / "out", "--manifest", device)
    assert result.exit_code == 2
    result, _ = make(out=device)
    assert result.exit_code == 2
    assert "give another file name, or - for standard output" in result.stderr
    assert stat.S_IFMT(os.stat(device).st_mode) == kind


def test_an_output_that_is_an_input_is_refused(batch, make, tmp_path, site_file):
    source = write(tmp_path / "list.csv", lines(appointment("Ana Díaz", NEW_YORK, "A1")))
    before = source.read_bytes()
    also = tmp_path / "hard-link.csv"
    os.link(source, also)
    for option, target in [("--manifest", source), ("--merge", also), ("--manifest", SITE)]:
        result = batch(source, "--out-dir", tmp_path / "out", option, target)
        assert_no_crash(result)
        assert result.exit_code == 2, (option, target)
        assert result.stderr == (
            f"pars-docs: error: {option}: {target} is an input of this run; give another "
            f"file name{', or - for standard output' if option != '--merge' else ''}\n"
        )
    assert source.read_bytes() == before
    site_before = Path(site_file).read_bytes()
    result, _ = make(out=Path(site_file))
    assert result.exit_code == 2 and "is an input of this run" in result.stderr
    assert Path(site_file).read_bytes() == site_before


def test_an_output_over_a_clinic_template_is_refused(batch, tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    labels = write(templates / "labels.yaml", (TEMPLATES / "labels.yaml").read_bytes())
    site = write(
        tmp_path / "site.yaml", SITE.read_text(encoding="utf-8") + "templates_dir: templates\n"
    )
    result = batch(LISTS / "appointments.csv", "--site", site, "--merge", labels)
    assert result.exit_code == 2
    assert "--merge: " in result.stderr and "is an input of this run" in result.stderr
    assert labels.read_bytes() == (TEMPLATES / "labels.yaml").read_bytes()


def test_a_handout_never_replaces_an_input_in_the_folder(batch, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    # A list kept in the output folder, under the name a row's rendition would take.
    source = write(
        out / "2026-12-03_0800_pars-defect-injection_A1.json",
        json.dumps([{"procedure": "pars-defect-injection", "patient": "Ana Díaz",
                     "date": "2026-12-03", "time": "8:00", "clinician": "Dr. Lee",
                     "mrn": "A1"}]),
    )  # fmt: skip
    before = source.read_bytes()
    result = batch(source, "--out-dir", out, "--output-format", "json")
    assert result.exit_code == 1
    assert "the row's file in --out-dir is an input of this run; not replaced" in result.stderr
    assert source.read_bytes() == before


def test_two_outputs_on_one_file_are_refused(batch, tmp_path):
    target = tmp_path / "same.pdf"
    result = batch(LISTS / "appointments.csv", "--merge", target, "--manifest", target)
    assert result.exit_code == 2
    assert result.stderr == (
        f"pars-docs: error: --manifest: {target} is also the file of --merge; give each "
        "output its own file\n"
    )
    assert not target.exists()


HOLD_THE_LOCK = """
import sys
from pathlib import Path
from pars_docs.batch.folder import FolderState
state = FolderState(Path(sys.argv[1]))
print("locked", flush=True)
sys.stdin.read()
state.close()
"""


def test_a_second_run_into_the_same_folder_is_locked_out(batch, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    # Another batch writing here, as a process of its own holds the lock.
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline() == b"locked\n"
        result = batch(LISTS / "appointments.csv", "--out-dir", out)
    finally:
        holder.communicate(b"", timeout=30)
    assert_no_crash(result)
    assert result.exit_code == 2
    assert result.stderr == (
        f"pars-docs: error: --out-dir: another pars-docs batch is writing to {out} (it holds "
        f"{STATE} there); wait for it to finish, or choose another folder\n"
    )
    assert pdf_names(out) == []
    assert batch(LISTS / "appointments.csv", "--out-dir", out).exit_code == 0
    assert len(pdf_names(out)) == 3


@pytest.mark.slow
@pytest.mark.skipif(not SCRIPT.exists(), reason="pars-docs is not installed in this Python")
def test_the_lock_goes_with_the_run_not_with_its_workers(tmp_path):
    source = write(tmp_path / "list.csv", lines(*(
        appointment(f"Pat {i}", f"2026-12-03 {7 + i // 60}:{i % 60:02d}", f"M{i}")
        for i in range(60)
    )))  # fmt: skip
    out = tmp_path / "out"
    args = [str(SCRIPT), "batch", str(source), "--site", str(SITE), "--out-dir", str(out)]
    run = subprocess.Popen(
        [*args, "--jobs", "2"], stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while len(pdf_names(out)) < 2:
            assert run.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(run.pid, signal.SIGKILL)  # the run only: its workers may live on a while
        run.wait()
        again = subprocess.run([*args, "--jobs", "1", "--skip-existing"], capture_output=True)
        assert again.returncode == 0, again.stderr.decode()
    finally:
        try:
            os.killpg(run.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert len(pdf_names(out)) == 60


@pytest.mark.slow
@pytest.mark.skipif(not SCRIPT.exists(), reason="pars-docs is not installed in this Python")
def test_concurrent_runs_never_both_write_one_folder(tmp_path):
    source = write(tmp_path / "list.csv", lines(*(
        appointment(f"Pat {i}", f"2026-12-03 {7 + i // 60}:{i % 60:02d}", f"M{i}")
        for i in range(12)
    )))  # fmt: skip
    out = tmp_path / "out"
    args = [str(SCRIPT), "batch", str(source), "--site", str(SITE), "--out-dir", str(out)]
    runs = [
        subprocess.Popen(
            [*args, "--jobs", "1", "--manifest", str(tmp_path / f"m{n}.jsonl")],
            stderr=subprocess.PIPE,
        )
        for n in (1, 2)
    ]
    errors = [run.communicate(timeout=120)[1].decode() for run in runs]
    codes = sorted(run.returncode for run in runs)
    assert codes in ([0, 0], [0, 2]), errors
    if codes == [0, 2]:
        assert any("another pars-docs batch is writing to" in e for e in errors)
    for run, manifest in zip(runs, (tmp_path / "m1.jsonl", tmp_path / "m2.jsonl"), strict=True):
        assert manifest.exists() == (run.returncode == 0)  # a run locked out does nothing
        for record in read_manifest(manifest) if manifest.exists() else []:
            data = Path(record["output"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == record["sha256"]


def test_a_file_being_written_has_no_name_until_it_is_whole(tmp_path, monkeypatch):
    probe = output.NewFile(tmp_path / "probe.pdf")
    unnamed = probe.temp is None
    probe.discard()
    if not unnamed:
        pytest.skip("this system cannot make a file without a name")
    seen = []
    fsync = os.fsync

    def look_then_sync(fd):
        seen.append(os.listdir(tmp_path))
        fsync(fd)

    monkeypatch.setattr(output.os, "fsync", look_then_sync)
    output.write_atomic(tmp_path / "a.pdf", b"%PDF-1.4")
    assert seen == [[]]
    assert os.listdir(tmp_path) == ["a.pdf"]
    assert (tmp_path / "a.pdf").read_bytes() == b"%PDF-1.4"


def test_a_stale_part_of_a_packet_is_removed(batch, tmp_path):
    packet = tmp_path / "packet.pdf"
    stale = write(tmp_path / ".packet.pdf.abc123.part", b"%PDF-1.4 half a packet")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    assert batch(LISTS / "appointments.csv", "--merge", packet).exit_code == 0
    assert folder_names(tmp_path) == ["packet.pdf"]


# A full disk --------------------------------------------------------------------------------


def full_disk_after(monkeypatch, name: str, room: int) -> None:
    """Writes to the new file made for ``name`` fail with ENOSPC once ``room`` bytes are in,
    after a short write, as a disk that fills up gives."""
    write_real = output.NewFile.write
    written = {"bytes": 0}

    def write_until_full(self, data):
        if self.path.name != name:
            return write_real(self, data)
        keep = min(max(room - written["bytes"], 0), len(data))
        write_real(self, bytes(data[:keep]))
        written["bytes"] += keep
        if keep < len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output.NewFile, "write", write_until_full)


@pytest.mark.parametrize("name", ["m.jsonl", "m.csv"])
def test_a_full_disk_under_the_manifest_leaves_only_true_whole_records(
    batch, tmp_path, monkeypatch, name
):
    full_disk_after(monkeypatch, name, 700)
    source = write(tmp_path / "list.csv", mixed_list())
    out, manifest = tmp_path / "out", tmp_path / name
    result = batch(source, "--out-dir", out, "--manifest", manifest)
    assert_no_crash(result)
    assert result.exit_code == 1
    error = f"pars-docs: error: --manifest: cannot write {manifest} (No space left on device)"
    assert error in result.stderr.splitlines()
    text = manifest.read_text(encoding="utf-8")
    assert text.endswith("\n") and len(text.encode()) <= 700
    records = read_manifest(manifest)
    assert records and records[-1]["row"] < 11  # it stopped; what it holds is whole
    for record in records:
        if record["status"] == "ok":
            data = Path(record["output"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == record["sha256"]
    assert folder_names(tmp_path) == sorted(["list.csv", name, "out"])


def test_a_full_disk_under_the_fhir_output_leaves_the_old_one_and_fails_its_rows(
    batch, tmp_path, monkeypatch
):
    bundle = write(tmp_path / "bundle.json", b'{"resourceType": "Bundle"}\n')
    full_disk_after(monkeypatch, "bundle.json", 50_000)
    manifest = tmp_path / "m.jsonl"
    result = batch(LISTS / "appointments.csv", "--emit", "fhir", "--fhir-output", bundle,
                   "--manifest", manifest)  # fmt: skip
    assert result.exit_code == 1
    assert (
        f"pars-docs: error: --fhir-output: cannot write {bundle} (No space left on device)"
        in result.stderr
    )
    assert bundle.read_bytes() == b'{"resourceType": "Bundle"}\n'
    assert folder_names(tmp_path) == ["bundle.json", "m.jsonl"]  # no part file left
    records = read_manifest(manifest)
    assert {r["status"] for r in records} == {"failed"}
    assert records[0]["reason"].startswith("not in the FHIR output: --fhir-output: cannot")
    assert_summary(result, rows=len(records), written=0, failed=len(records))


def test_a_full_disk_under_the_packet_fails_the_rows_only_in_it(batch, tmp_path, monkeypatch):
    def no_room(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    # The packet is written part by part as it is joined (see pars_docs/batch/pdfjoin.py).
    monkeypatch.setattr("pars_docs.batch.pdfjoin.PdfJoiner._write", no_room)
    packet, manifest = tmp_path / "packet.pdf", tmp_path / "m.jsonl"
    result = batch(LISTS / "appointments.csv", "--merge", packet, "--manifest", manifest)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"pars-docs: error: --merge: cannot write {packet} (No space left on device)"
    )
    assert_summary(result, rows=3, written=0, failed=3)
    assert not packet.exists()
    reasons = {r["reason"] for r in read_manifest(manifest)}
    assert reasons == {
        f"not in the packet: --merge: cannot write {packet} (No space left on device)"
    }


def test_a_full_disk_under_make_output_is_one_error_and_no_file(make, tmp_path, monkeypatch):
    full_disk_after(monkeypatch, "handout.pdf", 10_000)
    result, out = make()
    assert_no_crash(result)
    assert result.exit_code == 1
    assert result.stderr == (
        f"pars-docs: error: output: cannot write {out} (No space left on device)\n"
    )
    assert os.listdir(tmp_path) == []


def test_a_full_disk_under_a_handout_fails_that_row(batch, tmp_path, monkeypatch):
    def no_room(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("pars_docs.batch.worker.write_atomic", no_room)
    manifest = tmp_path / "m.csv"
    result = batch(LISTS / "appointments.csv", "--out-dir", tmp_path / "out",
                   "--manifest", manifest)  # fmt: skip
    assert result.exit_code == 1
    assert_summary(result, rows=3, written=0, failed=3)
    for record in read_manifest(manifest):
        assert record["status"] == "failed" and record["output"] is None
        assert record["reason"].endswith("(No space left on device)")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.skipif(not SCRIPT.exists(), reason="pars-docs is not installed in this Python")
@pytest.mark.parametrize(
    "args,option",
    [
        (["list"], "output"),
        (["make", "pars-defect-injection", "--patient", "Ana Díaz", "--date", "2026-12-03",
          "--time", "8:00", "--clinician", "Dr. Lee", "--format", "text", "-o", "-"], "output"),
        (["batch", str(LISTS / "appointments.csv"), "--merge", "{tmp}/p.pdf", "--manifest",
          "-"], "--manifest"),
        (["batch", str(LISTS / "appointments.csv"), "--emit", "fhir"], "--fhir-output"),
    ],
    ids=["list", "make", "manifest", "fhir"],
)  # fmt: skip
def test_standard_output_on_a_full_disk_is_one_error_line(tmp_path, args, option):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if args[0] != "list":
        args += ["--site", str(SITE)]
    with open("/dev/full", "w") as full:
        run = subprocess.run([str(SCRIPT), *args], stdout=full, stderr=subprocess.PIPE)
    stderr = run.stderr.decode()
    assert run.returncode == 1, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert (
        f"pars-docs: error: {option}: cannot write standard output (No space left on device)"
        in stderr.splitlines()
    )


# 3. Nothing leaked --------------------------------------------------------------------------


def test_standard_input_leaves_no_named_copy(batch, tmp_path, monkeypatch):
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool))
    monkeypatch.setattr("tempfile.tempdir", None)
    seen: list[list[str]] = []
    write_record = Manifest.write

    def look_then_write(self, record):
        seen.append(os.listdir(spool))  # while the run reads the list
        write_record(self, record)

    monkeypatch.setattr(Manifest, "write", look_then_write)
    text = (LISTS / "appointments.csv").read_text(encoding="utf-8")
    result = batch("-", "--out-dir", tmp_path / "out", "--manifest", tmp_path / "m.jsonl",
                   input=text)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen == [[], [], []]
    assert os.listdir(spool) == []


def test_no_room_for_the_copy_of_standard_input_is_one_error(batch, tmp_path, monkeypatch):
    def no_room(source, target):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("pars_docs.read.rows.shutil.copyfileobj", no_room)
    result = batch("-", "--out-dir", tmp_path / "out", input="procedure,patient\n")
    assert_no_crash(result)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "pars-docs: error: standard input: cannot keep a copy to read it (No space left on "
        "device); free some space in "
    )
    assert result.stderr.count("\n") == 1


@pytest.mark.slow
@pytest.mark.skipif(not SCRIPT.exists(), reason="pars-docs is not installed in this Python")
def test_kill_9_while_reading_standard_input_leaves_no_copy(tmp_path):
    spool = tmp_path / "tmp"
    spool.mkdir()
    env = {**os.environ, "TMPDIR": str(spool)}
    args = [str(SCRIPT), "batch", "-", "--site", str(SITE), "--out-dir", str(tmp_path / "out")]
    run = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        run.stdin.write((LISTS / "appointments.csv").read_bytes())  # and more to come
        run.stdin.flush()
        time.sleep(1.5)  # it is spooling, waiting for the rest of the list
        assert run.poll() is None
        assert os.listdir(spool) == []
    finally:
        run.kill()
        run.communicate()
    assert os.listdir(spool) == []


def test_manifest_cells_that_would_start_a_formula_are_neutralised(tmp_path):
    manifest = tmp_path / "m.csv"
    writer = Manifest(str(manifest))
    hostile = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tTAB", "\rCR"]
    record = Record(2, Status.FAILED, output=hostile[0], field=hostile[3],
                    reason=hostile[1], warnings=hostile[2], instruction_set=hostile[4],
                    version=hostile[5])  # fmt: skip
    writer.write(record)
    writer.close()
    with open(manifest, encoding="utf-8", newline="") as text:
        row = list(csv.DictReader(text))[0]
    cells = [row[k] for k in ("output", "reason", "warnings", "field", "instruction_set")]
    assert cells == ["'" + v for v in (hostile[0], hostile[1], hostile[2], hostile[3], hostile[4])]
    assert row["version"] == "'\rCR" and row["row"] == "2"
    assert neutralised("Ana") == "Ana" and neutralised(None) is None and neutralised(3) == 3


def test_an_output_folder_named_like_a_formula_is_neutralised_in_the_manifest(
    batch, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    result = batch(LISTS / "appointments.csv", "--out-dir", "=cmd", "--manifest", "m.csv")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "m.csv").read_text(encoding="utf-8")
    outputs_ = [r["output"] for r in csv.DictReader(io.StringIO(text))]
    assert all(o.startswith("'=cmd/") for o in outputs_)


def test_outputs_are_private_whatever_the_umask(batch, make, tmp_path):
    previous = os.umask(0o022)
    try:
        out, packet = tmp_path / "new" / "out", tmp_path / "packet.pdf"
        manifest, bundle = tmp_path / "m.csv", tmp_path / "bundle.json"
        result = batch(
            LISTS / "appointments.csv", "--out-dir", out, "--merge", packet,
            "--manifest", manifest, "--emit", "fhir", "--fhir-output", bundle,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        made, _ = make(out=tmp_path / "one.pdf")
        assert made.exit_code == 0
    finally:
        os.umask(previous)
    files = [packet, manifest, bundle, tmp_path / "one.pdf", *out.iterdir()]
    assert len(files) == 8
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(out.stat().st_mode) == 0o700


# 4. Failed rows on paper --------------------------------------------------------------------


def test_the_packet_index_lists_every_row_with_its_status(batch, tmp_path):
    source = write(tmp_path / "list.csv", mixed_list() + "pars-defect-injection,Good First,"
                   "2026-12-03,8:00,Dr. Lee,G2,Eliquis\n")  # fmt: skip
    packet = tmp_path / "packet.pdf"
    result = batch(source, "--merge", packet, "--index")
    assert result.exit_code == 1
    index = squash(pdf_text(packet).split("Patient Good First")[0])
    assert "Handouts in this packet" in index
    assert "Rows with no handout of their own" in index
    made, missing = index.split("Rows with no handout of their own")
    for name in ("Good Last", "Good First", "Good Middle"):
        assert name in made
    for row, name, status in [
        (3, "Bad Date", "Not made"),
        (4, "Bad Time", "Not made"),
        (5, "(name not shown)", "Not made"),  # no name
        (7, "Bad Procedure", "Not made"),
        (8, "Bad Medicine", "Not made"),
        (9, "(name not shown)", "Not made"),  # a name the fonts cannot print
        (10, "Spring Forward", "Not made"),
        (12, "Good First", "Repeat"),
    ]:
        assert f" {row} {name} {status} " in missing, row
    assert "same patient, procedure and time as row 2" in missing
    assert "patient: the handout fonts cannot draw '…'" in missing  # no patient value
    assert "ส" not in index


def test_the_packet_index_lists_skipped_and_cancelled_appointments(batch, tmp_path):
    packet = tmp_path / "packet.pdf"
    bundle = Path(__file__).parent / "data" / "fhir" / "bundle-mixed.json"
    codes = Path(__file__).parent / "data" / "fhir" / "codes.yaml"
    result = batch(bundle, "--merge", packet, "--index", "--codes", codes, "--include-past")
    assert_no_crash(result)
    assert result.exit_code == 1  # one appointment has a code no set is mapped to
    missing = squash(pdf_text(packet)).split("Rows with no handout of their own")[1]
    assert " 2 (name not shown) Cancelled appointment status is cancelled " in missing
    assert " 4 (name not shown) Not made procedure: no instruction set for the codes" in missing

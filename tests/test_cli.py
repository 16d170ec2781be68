"""The command line as a nurse and a script use it: exit codes, messages, files written."""

import json
import shutil
from pathlib import Path

import click
import pytest
import yaml
from helpers import DATA, KNOWN_SETS, built_in_sets, pdf_text, squash

from pars_docs import __version__
from pars_docs.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def all_commands(group=cli, prefix=()):
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


@pytest.mark.parametrize("path", [p for p, _ in all_commands()] + [()], ids=str)
def test_every_command_has_help(runner, path):
    result = runner.invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_every_command_has_help_text():
    for path, command in all_commands():
        assert command.help, f"{' '.join(path)} has no help text"


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"pars-docs, version {__version__}"


def test_list_plain_and_json(runner):
    plain = runner.invoke(cli, ["list"])
    assert plain.exit_code == 0
    assert "pars-defect-injection" in plain.output
    assert "pars-defect-decompression" in plain.output
    rows = json.loads(runner.invoke(cli, ["list", "--json"]).output)
    assert {"pars-defect-injection", "pars-defect-decompression"} <= {r["id"] for r in rows}
    assert sorted(r["id"] for r in rows) == sorted(built_in_sets())
    assert all(set(r) >= {"id", "title", "version"} for r in rows)
    assert all({"en", "es", "vi"} <= set(r["languages"]) for r in rows)


def test_list_groups_the_sets_as_their_yaml_declares(runner):
    """The groups come from each set's `group:`; every built-in set names one, the four of a
    spine and pain practice; each set's declared options are shown under it."""
    rows = json.loads(runner.invoke(cli, ["list", "--json"]).output)
    groups = {r["id"]: r["group"] for r in rows}
    assert set(groups.values()) == {"Injections", "Nerve treatments", "Surgery", "Devices"}
    assert groups["medial-branch-block"] == "Nerve treatments"
    assert groups["scs-trial"] == "Devices" and groups["kyphoplasty"] == "Surgery"
    for row in rows:
        text = (ROOT / "instructions" / f"{row['id']}.yaml").read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        assert row["group"] == data["group"]
        assert [o["name"] for o in row["options"]] == list(data.get("options") or {})
    lumbar_fusion = next(r for r in rows if r["id"] == "lumbar-fusion")
    assert lumbar_fusion["options"] == [
        {"name": "sedation", "label": "sedation", "default": True, "fixed": True}
    ]
    plain = runner.invoke(cli, ["list"]).output
    headings = [line for line in plain.splitlines() if line and not line.startswith(" ")]
    assert headings == ["Devices", "Injections", "Nerve treatments", "Surgery"]
    under = {}
    for line in plain.splitlines():
        if line and not line.startswith(" "):
            heading = line
        elif line.strip() and not line.strip().startswith("options:"):
            under[line.split()[0]] = heading
    assert under == groups
    assert "options: sedation (always on)" in plain  # surgery is always under anesthesia
    assert "options: sedation (default off)" in plain


def test_list_shows_a_sets_own_option_and_ungrouped_sets_last(runner, tmp_path, site_file):
    sets = tmp_path / "sets"
    sets.mkdir()
    shutil.copy(DATA / "format2" / "trial-sample.yaml", sets)
    site = tmp_path / "site.yaml"
    site.write_text(
        Path(site_file).read_text(encoding="utf-8") + f"\ninstructions_dir: {sets}\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["list", "--site", str(site)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-3] == "Other sets" and lines[-2].split()[0] == "trial-sample"
    assert lines[-1].split("options: ")[1] == (
        'sedation (default off); diabetic "Has diabetes" (default off)'
    )


def test_make_writes_a_pdf(make):
    result, out = make()
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    assert f"pars-docs: wrote {out}" in result.output


def test_default_file_name_has_no_patient_name(runner, site_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        cli,
        [
            "make",
            "pars-defect-injection",
            "--patient",
            "Ana Díaz",
            "--date",
            "2026-12-03",
            "--time",
            "14:30",
            "--clinician",
            "Dr. Lee",
            "--site",
            str(site_file),
        ],
    )
    assert result.exit_code == 0, result.output
    files = [p.name for p in tmp_path.iterdir()]
    assert files == ["pars-defect-injection-2026-12-03-1430.pdf"]


def test_output_to_stdout(runner, site_file):
    result = runner.invoke(
        cli,
        [
            "make",
            "pars-defect-injection",
            "--patient",
            "Ana Díaz",
            "--date",
            "2026-12-03",
            "--time",
            "8:00",
            "--clinician",
            "Dr. Lee",
            "--site",
            str(site_file),
            "-o",
            "-",
        ],
    )
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"%PDF-")
    assert "Ana Díaz" in pdf_text(result.stdout_bytes)


@pytest.mark.parametrize(
    "time_text,shown",
    [
        ("14:30", "2:30 PM"),
        ("2:30 PM", "2:30 PM"),
        ("2:30pm", "2:30 PM"),
        ("09:05", "9:05 AM"),
        ("12:00 AM", "Wednesday, December 2 at midnight"),
        ("12 PM", "noon"),
    ],
)
def test_time_formats(make, time_text, shown):
    result, out = make(time=time_text)
    assert result.exit_code == 0, result.output
    assert f"Start time {shown}" in squash(pdf_text(out))


BAD = [
    (
        dict(procedure="pars-defect-injektion"),
        f"procedure: unknown procedure 'pars-defect-injektion'; known: {KNOWN_SETS}",
        2,
    ),
    (
        dict(date="2026-02-30"),
        "date: '2026-02-30' is not a real date (February 2026 has 28 days)",
        2,
    ),
    (dict(date="12/03/2026"), "date: '12/03/2026' is not a date; write it as YYYY-MM-DD", 2),
    (dict(time="25:00"), "time: '25:00' is not a time of day; write 14:30 or 2:30 PM", 2),
    (dict(time="13:00 PM"), "time: '13:00 PM' is not a time of day; write 14:30 or 2:30 PM", 2),
    (dict(patient="   "), "patient: must not be empty", 2),
    (dict(clinician=""), "clinician: must not be empty", 2),
    (
        dict(date="2026-03-08", time="2:30 AM"),
        "time: 02:30 on 2026-03-08 does not exist in America/New_York: the clocks skip that "
        "hour; choose another time",
        1,
    ),
    (
        dict(patient="สมชาย"),
        "patient: the handout fonts cannot draw 'ส' (U+0E2A THAI CHARACTER SO SUA), "
        "'ม' (U+0E21 THAI CHARACTER MO MA), 'ช' (U+0E0A THAI CHARACTER CHO CHANG) and 2 more; "
        "they cover Latin, Greek, Cyrillic, Chinese, Korean and Arabic scripts",
        1,
    ),
]


@pytest.mark.parametrize("change,message,code", BAD, ids=[m for _, m, _ in BAD])
def test_bad_input_is_one_line_and_writes_nothing(make, change, message, code):
    result, out = make("--verbose", **change)
    assert result.exit_code == code
    assert result.output == f"pars-docs: error: {message}\n"
    assert not out.exists()
    assert not list(out.parent.glob("*.part"))


def test_unknown_medicine_names_the_closest_known_ones(make):
    # The typed name is left out without --verbose; its closest known names are shown.
    result, out = make("--medication", "Eliqis")
    assert result.exit_code == 2
    assert result.output == (
        "pars-docs: error: medication: unknown medicine '…'. Closest known names: "
        "Eliquis. A clinic can add it to medicines.yaml, or set unknown_medicines: ask in the "
        "site profile.\n"
    )
    assert not out.exists()


def test_fixed_sedation_cannot_be_turned_off(make):
    result, out = make("--no-sedation", procedure="pars-defect-decompression")
    assert result.exit_code == 2
    assert result.output == (
        "pars-docs: error: sedation: pars-defect-decompression is always done with sedation; "
        "sedation cannot be turned off\n"
    )
    assert not out.exists()


def test_dob_after_procedure(make):
    result, _ = make("--dob", "2027-01-01", "--verbose")
    assert result.output == (
        "pars-docs: error: dob: 2027-01-01 is after the procedure date 2026-12-03\n"
    )
    assert result.exit_code == 2


def test_missing_site_file_is_a_usage_error(make, tmp_path):
    result, _ = make(site=tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert result.output == (
        f"pars-docs: error: site: {tmp_path / 'nope.yaml'}: no such file (named by --site)\n"
    )


def test_output_folder_missing(make, tmp_path):
    result, out = make(out=tmp_path / "no" / "such" / "x.pdf")
    assert result.exit_code == 2
    assert result.output.startswith("pars-docs: error: output: folder ")


def test_site_from_environment(runner, site_file, tmp_path):
    out = tmp_path / "h.pdf"
    result = runner.invoke(
        cli,
        [
            "make",
            "pars-defect-injection",
            "--patient",
            "A B",
            "--date",
            "2026-12-03",
            "--time",
            "8:00",
            "--clinician",
            "C",
            "-o",
            str(out),
        ],
        env={"PARS_DOCS_SITE": str(site_file)},
    )
    assert result.exit_code == 0, result.output
    assert "(555) 010-2000" in pdf_text(out)


def test_check_command(runner):
    result = runner.invoke(cli, ["check"])
    assert result.exit_code == 0, result.output
    assert "ok  pars-defect-injection" in result.output


@pytest.mark.parametrize(
    "name,char", [("דוד כהן", "ד"), ("Ana 😀", "😀"), ("ราม", "ร"), ("ግርማ", "ግ")]
)
def test_scripts_the_handout_cannot_set_are_refused(make, name, char):
    result, out = make("--verbose", patient=name)
    assert result.exit_code == 1
    assert result.output.startswith(
        f"pars-docs: error: patient: the handout fonts cannot draw '{char}'"
    )
    assert not out.exists()


def test_patient_values_stay_out_of_logs_unless_verbose(make):
    result, out = make(patient="สมชาย")
    assert result.exit_code == 1
    assert "ส" not in result.output and "THAI" not in result.output
    assert result.output == (
        "pars-docs: error: patient: the handout fonts cannot draw '…', '…', '…' and 2 more; "
        "they cover Latin, Greek, Cyrillic, Chinese, Korean and Arabic scripts\n"
    )
    result, _ = make("--dob", "2027-01-01")
    assert "2027" not in result.output and "dob:" in result.output


def test_errors_as_json(make):
    result, out = make("--errors", "json", date="2026-02-30")
    assert result.exit_code == 2
    error = json.loads(result.output)
    assert error == {
        "schema_version": "1",
        "row": None,
        "field": "date",
        "message": "date: '…' is not a real date",
        "status": "failed",
        "kind": "UsageError",
        "exit_code": 2,
    }


UNCHOSEN = (
    "pars-docs: error: time zone: no site profile names the clinic's, and this computer's "
    "clock is {zone}, not a place; give the clinic's time zone with {give}a site profile "
    "(--site)\n"
)


@pytest.mark.parametrize("machine", ["Etc/UTC", "UTC", "Etc/GMT+5", "GMT"])
def test_no_clock_time_in_a_zone_the_clinic_did_not_choose(make, monkeypatch, machine):
    monkeypatch.delenv("PARS_DOCS_SITE", raising=False)
    monkeypatch.setenv("TZ", machine)
    result, out = make(site=None)
    assert result.exit_code == 2
    give = "--timezone (e.g. America/Chicago) or "
    assert result.output == UNCHOSEN.format(zone=machine, give=give)
    assert not out.exists()


def test_a_place_zone_of_this_computer_is_used_with_a_note(make, monkeypatch):
    monkeypatch.delenv("PARS_DOCS_SITE", raising=False)
    monkeypatch.setenv("TZ", "America/Chicago")
    result, out = make(site=None)
    assert result.exit_code == 0, result.output
    assert "note: no site profile (--site or $PARS_DOCS_SITE); using time zone America/Chicago" in (
        result.output
    )
    assert out.exists()


def test_a_zone_given_on_the_command_line_is_chosen(make, monkeypatch):
    monkeypatch.delenv("PARS_DOCS_SITE", raising=False)
    monkeypatch.setenv("TZ", "Etc/UTC")
    result, out = make("--timezone", "America/New_York", site=None)
    assert result.exit_code == 0, result.output
    assert out.exists()


def test_a_local_profile_on_a_utc_computer_is_refused_by_batch_and_serve(
    runner, monkeypatch, tmp_path
):
    monkeypatch.setenv("TZ", "Etc/UTC")
    profile = tmp_path / "site.yaml"
    profile.write_text("clinic:\n  name: X\n  phone: '1'\ntimezone: local\n", encoding="utf-8")
    listing = tmp_path / "list.csv"
    listing.write_text(
        "procedure,patient,date,time,clinician\n"
        "pars-defect-injection,Ana Díaz,2026-12-03,8:00 AM,Dr. Sam Lee\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = runner.invoke(
        cli, ["batch", str(listing), "--site", str(profile), "--out-dir", str(out)]
    )
    assert result.exit_code == 2
    give = "--timezone (e.g. America/Chicago) or "
    assert result.output == UNCHOSEN.format(zone="Etc/UTC", give=give)
    result = runner.invoke(cli, ["serve", "--port", "0", "--site", str(profile)])
    assert result.exit_code == 2
    assert result.output == UNCHOSEN.format(zone="Etc/UTC", give="")

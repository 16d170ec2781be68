"""Instruction sets, medicine tables and site profiles: every problem, with file and line."""

import json

import pytest
import yaml
from helpers import pdf_text, squash

from pars_docs.cli import cli
from pars_docs.errors import InstructionError, SiteError
from pars_docs.load.library import Library
from pars_docs.load.loader import load_yaml
from pars_docs.load.site import load_site
from pars_docs.resources import instructions_dir, templates_dir

BUILT_IN = instructions_dir() / "pars-defect-injection.yaml"


def edited(tmp_path, replacements, name="pars-defect-injection.yaml"):
    text = BUILT_IN.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path, needle):
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def check(runner, path):
    return runner.invoke(cli, ["check", str(path)])


def test_built_in_sets_are_valid(runner):
    assert runner.invoke(cli, ["check"]).exit_code == 0


def test_misspelt_key_is_an_error_with_its_line(runner, tmp_path):
    # Format 2: groups are named by the author, so the misspelt key is a group's own.
    path = edited(tmp_path, [("  fasting:\n    heading:", "  fasting:\n    headng:")])
    result = check(runner, path)
    assert result.exit_code == 1
    line = line_of(path, "    headng:")
    assert (
        f"{path}:{line}: before.fasting.headng: unknown key; did you mean 'heading'?"
        in result.output
    )


def test_every_problem_is_reported_at_once(runner, tmp_path):
    path = edited(
        tmp_path,
        [
            ('version: "1.2.0"', "version: one"),
            ("  bring:\n    heading: What to bring", "  bring:\n    headline: What to bring"),
            (
                "    minutes: 30\n    before: start\n",
                "    minutes: 30\n    before: start\n    extra: 1\n",
            ),
        ],
    )
    result = check(runner, path)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if str(path) in line]
    assert len(lines) >= 4, result.output
    assert any(": version: is not written the way this field asks" in line for line in lines)
    assert not any("'one'" in line for line in lines)  # the value itself is never quoted
    assert any(
        "before.bring.headline: unknown key; did you mean 'heading'?" in line for line in lines
    )
    assert any("before.bring: 'heading' is missing" in line for line in lines)
    assert any("timing.arrive.extra: unknown key" in line for line in lines)


def test_unknown_source_reference(runner, tmp_path):
    path = edited(
        tmp_path,
        [("    after: end\n    source: seed-003", "    after: end\n    source: seed-999")],
    )
    result = check(runner, path)
    assert result.exit_code == 1
    assert (
        f"{path}:{line_of(path, 'seed-999')}: timing.activity_end.source: "
        "no source with id 'seed-999'"
    ) in result.output


def test_other_numbers_are_fine_in_wording(runner, tmp_path):
    path = edited(
        tmp_path,
        [
            (
                "- You lie face down on a table.",
                "- Check in at the desk on floor 3. You lie face down on a table.",
            )
        ],
    )
    assert check(runner, path).exit_code == 0


def test_number_typed_into_wording(runner, tmp_path):
    path = edited(
        tmp_path, [("- You lie face down on a table.", "- You lie face down for 2 hours.")]
    )
    result = check(runner, path)
    assert result.exit_code == 1
    assert "day_of.steps.items[0]: '2 hours' is typed into the wording" in result.output


def test_misspelt_variable_fails_the_dry_run(runner, tmp_path):
    path = edited(tmp_path, [("{{ moments.bandage_off | when }}", "{{ moments.arive | when }}")])
    result = check(runner, path)
    assert result.exit_code == 1
    assert f"{path}:{line_of(path, 'moments.arive')}: after.site_care.items[0]:" in result.output
    assert "arive" in result.output


def test_moment_used_outside_its_condition(runner, tmp_path):
    # Without sedation there is no fasting time, so the text must carry the same condition.
    heading = "  fasting:\n    heading: Eating and drinking\n    icon: food\n"
    path = edited(tmp_path, [(heading + "    when: {sedation: true}\n", heading)])
    result = check(runner, path)
    assert result.exit_code == 1
    assert "stop_solids" in result.output and "sedation=False" in result.output


def test_template_syntax_error(runner, tmp_path):
    path = edited(tmp_path, [("{{ moments.arrive | when }}", "{{ moments.arrive | when }")])
    result = check(runner, path)
    assert result.exit_code == 1
    assert "template error" in result.output


def test_duplicate_key(runner, tmp_path):
    path = edited(tmp_path, [("language: en\n", "language: en\nlanguage: es\n")])
    result = check(runner, path)
    assert result.exit_code == 1
    assert f"{path}:{line_of(path, 'language: es')}: language: key written twice" in result.output


def test_not_yaml(runner, tmp_path):
    path = tmp_path / "pars-defect-injection.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    result = check(runner, path)
    assert result.exit_code == 1
    assert f"{path}:2: not valid YAML" in result.output


def test_id_must_match_file_name(runner, tmp_path):
    path = edited(tmp_path, [], name="other-name.yaml")
    result = check(runner, path)
    assert "id: 'pars-defect-injection' must match the file name 'other-name'" in result.output


def test_bad_medicine_table_is_reported(tmp_path):
    table = tmp_path / "medicines.yaml"
    text = (instructions_dir() / "medicines.yaml").read_text(encoding="utf-8")
    table.write_text(
        text.replace("brands: [Eliquis]", "brands: [Eliquis, Xarelto]", 1), encoding="utf-8"
    )
    with pytest.raises(InstructionError, match="'Xarelto' is already listed"):
        Library(tmp_path).medicine_table()


# Site profiles and a clinic's own folders --------------------------------------------------


def write_site(tmp_path, **extra):
    data = {
        "clinic": {"name": "Lakeside Clinic", "phone": "555-0100"},
        "timezone": "America/Chicago",
        **extra,
    }
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_site_with_unknown_zone(tmp_path):
    with pytest.raises(SiteError, match="unknown time zone 'Mars/Olympus'"):
        load_site(write_site(tmp_path, timezone="Mars/Olympus"))


def test_site_unknown_key(tmp_path):
    with pytest.raises(SiteError, match=r"site.yaml:\d+: phone: unknown key"):
        load_site(write_site(tmp_path, phone="1"))


def test_site_bad_zone_via_cli(make, tmp_path):
    result, out = make(site=write_site(tmp_path, timezone="Nowhere/Town"))
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "unknown time zone 'Nowhere/Town'" in result.output


def test_clinic_folder_overrides_sets_templates_and_table(make, tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    edited(own, [("title: Pars defect injection", "title: Pars injection at Lakeside")])
    table = (instructions_dir() / "medicines.yaml").read_text(encoding="utf-8")
    (own / "medicines.yaml").write_text(
        table.replace("brands: [Eliquis]", "brands: [Eliquis, Apix-Local]", 1), encoding="utf-8"
    )
    templates = tmp_path / "templates"
    templates.mkdir()
    labels = (templates_dir() / "labels.yaml").read_text(encoding="utf-8")
    (templates / "labels.yaml").write_text(
        labels.replace("Your instructions, made for you", "Prepared by Lakeside nurses"),
        encoding="utf-8",
    )
    site = write_site(tmp_path, instructions_dir="own", templates_dir="templates")
    result, out = make("--medication", "apix-local", site=site)
    assert result.exit_code == 0, result.output
    text = squash(pdf_text(out))
    assert "Pars injection at Lakeside" in text
    assert "Prepared by Lakeside nurses" in text
    assert "Take your last Apix-Local (apixaban) on" in text
    assert "Clinic phone: 555-0100" in text


def test_logo_is_drawn(make, tmp_path):
    from PIL import Image  # Pillow comes with ReportLab

    Image.new("RGB", (240, 80), (31, 58, 95)).save(tmp_path / "logo.png")
    result, out = make(site=write_site(tmp_path, logo="logo.png"))
    assert result.exit_code == 0, result.output
    from pypdf import PdfReader

    first = PdfReader(out).pages[0]
    assert list(first.images), "the logo is on the first page"


def test_logo_must_be_an_image(tmp_path):
    (tmp_path / "logo.gif").write_bytes(b"GIF89a")
    with pytest.raises(SiteError, match="logo: use a PNG or JPEG image"):
        load_site(write_site(tmp_path, logo="logo.gif"))


def test_missing_logo(tmp_path):
    with pytest.raises(SiteError, match="logo: file not found"):
        load_site(write_site(tmp_path, logo="logo.png"))


@pytest.mark.parametrize(
    "zone,message",
    [
        ("EST", "'EST' is an abbreviation without daylight-saving rules"),
        ("America", "unknown time zone 'America'"),
    ],
)
def test_zones_that_would_mislead_are_refused(tmp_path, zone, message):
    with pytest.raises(SiteError, match=message):
        load_site(write_site(tmp_path, timezone=zone))


def test_logo_that_is_not_an_image(tmp_path):
    (tmp_path / "logo.png").write_text("not a picture")
    with pytest.raises(SiteError, match="logo: use a PNG or JPEG image"):
        load_site(write_site(tmp_path, logo="logo.png"))


def test_site_formats_missing_a_pattern_is_a_clear_error(make, tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "formats.yaml").write_text('en:\n  when: "h:mm a"\n', encoding="utf-8")
    result, out = make(site=write_site(tmp_path, templates_dir="templates"))
    assert result.exit_code == 1
    assert "formats for 'en' lack when_year, day, day_year, time, date_long, date_short" in (
        result.output
    )
    assert "Traceback" not in result.output


def test_restart_day_used_without_its_condition(runner, tmp_path):
    text = BUILT_IN.read_text(encoding="utf-8")
    start = text.index("    stop: >-")
    end = text.index("    late: >-")
    path = tmp_path / "pars-defect-injection.yaml"
    path.write_text(
        text[:start] + "    stop: Take your last {{ med.name }} on "
        "{{ med.last_dose | day }}. Start again on {{ med.restart | day }}.\n" + text[end:],
        encoding="utf-8",
    )
    result = check(runner, path)
    assert result.exit_code == 1
    assert f"{path}:{line_of(path, '    stop: Take')}: before.medicines.stop:" in result.output
    assert "a date this visit does not have was given to the day filter" in result.output


def test_a_number_credited_to_a_source_that_does_not_mention_it_fails(runner, tmp_path):
    # The seed page says 24-48 hours; 72 is in no source's facts.
    path = edited(
        tmp_path,
        [("  activity_end:\n    hours: 48\n", "  activity_end:\n    hours: 72\n")],
    )  # fmt: skip
    result = check(runner, path)
    assert result.exit_code == 1
    assert (
        f"{path}:{line_of(path, 'hours: 72')}: timing.activity_end.hours: "
        "72 is credited to 'seed-003', whose facts do not mention it"
    ) in result.output


def test_a_number_in_a_year_does_not_count_as_mentioned(runner, tmp_path):
    # "2023" in the asa-fasting facts must not vouch for 23 hours.
    path = edited(
        tmp_path,
        [("  stop_liquids:\n    hours: 2\n", "  stop_liquids:\n    hours: 23\n")],
    )  # fmt: skip
    result = check(runner, path)
    assert result.exit_code == 1
    assert "23 is credited to 'asa-fasting', whose facts do not mention it" in result.output


def test_a_medicine_stop_time_its_source_does_not_mention_fails(runner, tmp_path):
    table = (instructions_dir() / "medicines.yaml").read_text(encoding="utf-8")
    old = "high: {stop_days_before: 3, source: fda-sglt2-labels}"
    assert old in table
    path = tmp_path / "medicines.yaml"
    path.write_text(
        table.replace(old, "high: {stop_days_before: 9, source: fda-sglt2-labels}", 1),
        encoding="utf-8",
    )
    result = check(runner, path)
    assert result.exit_code == 1
    assert (
        "pause.high.stop_days_before: 9 is credited to 'fda-sglt2-labels', whose facts do not "
        "mention it"
    ) in result.output


def test_unknown_medicines_setting_is_checked(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(
        "clinic: {name: X}\ntimezone: UTC\nunknown_medicines: maybe\n", encoding="utf-8"
    )
    with pytest.raises(SiteError, match="unknown_medicines"):
        load_site(path)
    path.write_text(
        "clinic: {name: X}\ntimezone: UTC\nunknown_medicines: ask\nwound_check_days: 10\n",
        encoding="utf-8",
    )
    profile = load_site(path)
    assert (profile.unknown_medicines, profile.wound_check_days) == ("ask", 10)


@pytest.mark.parametrize(
    "block,message",
    [
        ("  months: [janvye, fevriye]\n", "months: must list 12 names, January first"),
        ("  weekdays: lendi\n", "weekdays: must list 7 names, Monday first"),
        ('  months: [a, b, c, d, e, f, g, h, i, j, k, l]\n  day_year: "EEE d MMM y"\n',
         "day_year: uses EEE: only the full names (EEEE) are the language's own"),
    ],
)  # fmt: skip
def test_a_languages_own_month_and_weekday_names_are_checked(make, tmp_path, block, message):
    formats = load_yaml(templates_dir() / "formats.yaml").data["en"]
    lines = "".join(f"  {k}: {json.dumps(v)}\n" for k, v in formats.items() if k != "day_year")
    if "day_year" not in block:
        lines += f"  day_year: {json.dumps(formats['day_year'])}\n"
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "formats.yaml").write_text("en:\n" + lines + block, encoding="utf-8")
    result, out = make(site=write_site(tmp_path, templates_dir="templates"))
    assert result.exit_code == 1
    assert message in result.output
    assert "formats.yaml" in result.output and "Traceback" not in result.output
    assert not out.exists()

"""The pieces that keep data from acting as code or as something it is not: the template
sandbox and its check, names that are what they look like, escaped messages, strict JSON and
bounded YAML."""

from __future__ import annotations

import json

import pytest
from helpers import DATA

from pars_docs.compose.composer import PAGE_TEMPLATES, Templates
from pars_docs.errors import ParsDocsError, UsageError, printable, say
from pars_docs.load.library import Library
from pars_docs.load.loader import load_yaml
from pars_docs.read.jsonin import loads
from pars_docs.read.lookalike import mixed_script, script, skeleton, strip_invisible
from pars_docs.read.visit import clean_text, make_visit
from pars_docs.resources import templates_dir
from pars_docs.sandbox import environment, unsafe_constructs

# The template sandbox --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ self._TemplateReference__context }}",
        "{{ lipsum['__globals__'] }}",
        "{{ cycler|attr('__init__') }}",
        "{{ visit|map(attribute='__class__')|list }}",
        "{{ config.os }}",
        "{{ namespace.system('id') }}",
    ],
)
def test_the_check_names_templates_that_reach_for_python(source):
    assert unsafe_constructs(source)


def test_the_built_in_templates_and_wording_pass_the_check():
    for name in PAGE_TEMPLATES:
        assert unsafe_constructs((templates_dir() / name).read_text(encoding="utf-8")) == []
    assert Templates(None).page_problems() == []
    library = Library(None)
    for set_id in library.ids():
        library.get(set_id)  # would raise InstructionError for an unsafe piece of wording


def test_the_sandbox_stops_what_the_check_cannot_see():
    from jinja2.exceptions import SecurityError

    template = environment().from_string("{{ cycler|attr('_' ~ '_init__') }}")
    with pytest.raises(SecurityError):
        template.render()
    mutate = environment().from_string("{% set x = [1] %}{{ x.append(2) }}")
    with pytest.raises(SecurityError):
        mutate.render()


def test_a_site_template_with_a_payload_makes_nothing(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    page = (templates_dir() / "handout.xml.j2").read_text(encoding="utf-8")
    (folder / "handout.xml.j2").write_text(
        page + "{{ cycler.__init__.__globals__.os.popen('touch " + str(tmp_path / "x") + "') }}",
        encoding="utf-8",
    )
    problems = Templates(folder).page_problems()
    assert any(".__globals__: not allowed" in p for p in problems)
    assert not (tmp_path / "x").exists()


# Names -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "invisible", ["\u200b", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u2066", "\u2800", "\u3164"]
)
def test_invisible_characters_are_removed_and_a_name_of_them_is_empty(invisible):
    assert clean_text(f"An{invisible}a", "patient") == "Ana"
    with pytest.raises(UsageError, match="patient: must not be empty"):
        clean_text(invisible * 3, "patient", required=True)


def test_a_joiner_stays_only_where_a_script_spells_with_it():
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # می‌خواهم
    assert strip_invisible(persian) == persian
    assert strip_invisible("Ana\u200cMaria") == "AnaMaria"
    assert strip_invisible("\u200dAna") == "Ana"


def test_a_word_mixing_look_alike_scripts_is_refused_but_names_in_one_script_are_not():
    assert mixed_script("\u0410na Díaz") is not None  # Cyrillic А
    assert "U+0410 CYRILLIC CAPITAL LETTER A" in mixed_script("\u0410na Díaz")
    for name in ("Ana Díaz", "Σοφία Παπαδοπούλου", "Иван Петров", "Zoë Ødegård", "O'Brien-Lee"):
        assert mixed_script(name) is None, name
    with pytest.raises(UsageError) as caught:
        make_visit("pars-defect-injection", "\u0410na", "2026-12-03", "8:00", "Dr. Lee")
    assert "mixes letters of scripts that look alike" in caught.value.public()
    assert "U+0410" not in caught.value.public()  # which letter is a patient value


def test_the_latin_shortcut_agrees_with_the_script_table():
    from confusable_homoglyphs import categories

    for code in range(0x300):
        char = chr(code)
        assert script(char) == categories.alias(char), f"U+{code:04X}"


def test_confusable_names_share_a_skeleton():
    assert skeleton("Ana Díaz") == skeleton("\u0410na D\u00edaz") == skeleton("ANA  D\u200bíaz")
    assert skeleton("Ana Díaz") == skeleton("Ana Di\u0301az")  # composed or not
    assert skeleton("Ana Díaz") != skeleton("Ana Diaz")  # an accent is a real difference
    assert skeleton("Ana") != skeleton("Ada")


# Messages --------------------------------------------------------------------------------------


def test_terminal_and_bidi_controls_are_escaped():
    assert printable("a\x1b[2Jb\x07\x9b\u202ec\nd") == "a\\x1b[2Jb\\x07\\x9b\\u202ec\nd"


def test_every_columns_values_are_left_out_of_messages():
    for field in ("procedure", "date", "time", "sedation", "visit_id", "medications"):
        # A message typed without its values apart is left out whole, naming the field.
        error = ParsDocsError(f"{field}: 'Secret Person' is not right", field=field)
        assert "Secret" not in error.public()
        assert error.public().startswith(f"{field}: ")
        assert "Secret" in error.public(verbose=True)
    quoted = ParsDocsError(
        say("patient: '{name}' is too long", name="O'Brien, Ann"), field="patient"
    )
    assert quoted.public() == "patient: '…' is too long"
    assert quoted.public(verbose=True) == "patient: 'O'Brien, Ann' is too long"


def test_report_writes_one_escaped_line_per_error(runner, tmp_path):
    from pars_docs.cli import cli

    source = tmp_path / "list.csv"
    source.write_text(
        "procedure,patient,date,time,clinician\n"
        "pars-defect\x1b[31m\x9b2J,Ana,2026-12-03,8:00,Dr. Lee\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        cli, ["batch", str(source), "--out-dir", str(tmp_path / "o"), "--verbose"]
    )
    lines = result.output.splitlines()
    assert any("unknown procedure 'pars-defect\\x1b[31m\\x9b2J'" in line for line in lines)
    assert "\x1b" not in result.output
    assert all(line.startswith("pars-docs: ") for line in lines)


# JSON and YAML ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,reason",
    [
        ('{"a": 1, "a": 2}', "the key 'a' is written twice"),
        ("[" * 100 + "]" * 100, "nested more than 64 levels deep"),
        ("9" * 5000, "a number has too many digits"),
        ("[1] [2]", "Extra data"),
    ],
)
def test_json_is_read_strictly(text, reason):
    with pytest.raises(ParsDocsError, match=reason):
        loads(text, "in.json")
    assert loads(json.dumps({"a": [1, {"b": 2}]}), "in.json") == {"a": [1, {"b": 2}]}


def test_yaml_aliases_are_counted_not_expanded(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("a: &a [1, 2]\nb: [*a, *a]\n", encoding="utf-8")
    loaded = load_yaml(path)
    assert loaded.data == {"a": [1, 2], "b": [[1, 2], [1, 2]]}
    assert loaded.line(("b",)) == 2
    bomb = (DATA / "hostile" / "alias-bomb.yaml").read_text(encoding="utf-8")
    assert len(bomb) < 400
    path.write_text(bomb, encoding="utf-8")
    with pytest.raises(ParsDocsError, match="more than 100,000 values"):
        load_yaml(path)


def test_every_column_a_row_can_have_is_kept_out_of_logs():
    """A new column must be added to PATIENT_FIELDS too (a language tag is shown only once it
    is a well-formed tag: see languages.check_tag)."""
    from pars_docs.errors import PATIENT_FIELDS
    from pars_docs.read.rows import FIELDS

    assert set(FIELDS) - {"language"} <= PATIENT_FIELDS

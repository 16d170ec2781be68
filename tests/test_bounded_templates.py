"""Clinic templates run within bounds (issue 25, item 6): output size, loop iterations,
integer size, recursion depth and a wall-clock budget. Each bomb is one line naming the
template, never a hang, a traceback or gigabytes of memory."""

import time

import jinja2
import pytest

from pars_docs import sandbox
from pars_docs.compose.composer import Templates
from pars_docs.errors import InstructionError

BOMBS = {
    "a huge text": "{{ 'x' * 10**9 }}",
    "a huge number": "{{ 10 ** 100000 }}",
    "a number times a number": "{{ (2 ** 4000) * (2 ** 4000) }}",
    "nested ranges": "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}"
    "{% endfor %}",
    "a huge range": "{% for i in range(10**12) %}{% endfor %}",
    "a filter bomb": "{% filter upper %}{% for i in range(100000) %}{{ 'y' * 100000 }}"
    "{% endfor %}{% endfilter %}",
    "recursive macro": "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
    "joined growth": "{% set s = namespace(t='x') %}{% for i in range(60) %}"
    "{% set s.t = s.t + s.t %}{% endfor %}{{ s.t }}",
}


@pytest.mark.parametrize("source", BOMBS.values(), ids=BOMBS.keys())
def test_a_template_bomb_is_stopped_with_one_line(source):
    templates = Templates()
    started = time.monotonic()
    with pytest.raises(InstructionError) as caught:
        templates.render_text(source, {})
    assert time.monotonic() - started < sandbox.MAX_SECONDS + 5
    assert "\n" not in str(caught.value)
    assert "not allowed" in str(caught.value) or "cannot" in str(caught.value)


def test_lipsum_is_not_offered():
    with pytest.raises(jinja2.UndefinedError, match="lipsum"):
        Templates().render_text("{{ lipsum(100000, false, 100000, 100000) }}", {})


def test_a_number_literal_too_long_to_read_is_one_line():
    with pytest.raises(InstructionError, match="cannot be compiled"):
        Templates().render_text("{{ " + "9" * 5000 + " }}", {})


@pytest.mark.parametrize(
    "source",
    ["{{ moments|tojson }}", "{{ {'a b': 1}|xmlattr }}"],
    ids=["tojson of moments", "bad xmlattr key"],
)
def test_a_value_jinja_cannot_handle_is_one_line(source):
    from datetime import datetime

    with pytest.raises(InstructionError):
        Templates().render_text(source, {"moments": {"start": datetime(2026, 12, 3)}})


def test_ordinary_wording_is_untouched():
    templates = Templates()
    text = "Stop {{ name }} {{ days }} days before. {% for i in range(3) %}{{ i }}{% endfor %}"
    assert templates.render_text(text, {"name": "Eliquis", "days": 2}) == (
        "Stop Eliquis 2 days before. 012"
    )


def test_the_budget_is_per_render():
    templates = Templates()
    loop = "{% for i in range(150000) %}{% endfor %}ok"
    for _ in range(3):  # each render on its own within MAX_ITERATIONS
        assert templates.render_text(loop, {}) == "ok"


def test_a_page_template_that_includes_itself_is_one_line(tmp_path):
    (tmp_path / "handout.xml.j2").write_text("{% include 'handout.xml.j2' %}")
    templates = Templates(tmp_path)
    templates._pages_checked = True  # the check passes it: it reaches for nothing unsafe
    with pytest.raises(InstructionError, match="handout.xml.j2"):
        templates.page("handout.xml.j2")


def test_bounded_environment_is_the_one_every_template_uses():
    assert isinstance(sandbox.environment(), sandbox.BoundedEnvironment)
    assert isinstance(sandbox.environment(), jinja2.sandbox.ImmutableSandboxedEnvironment)


def test_check_refuses_a_set_whose_wording_exceeds_the_bounds(tmp_path):
    from click.testing import CliRunner

    from pars_docs.cli import cli
    from pars_docs.resources import instructions_dir

    text = (instructions_dir() / "pars-defect-injection.yaml").read_text(encoding="utf-8")
    heading = text.index("heading: ") + len("heading: ")
    end = text.index("\n", heading)
    bomb = text[:heading] + "\"{{ 'x' * 10**9 }}\"" + text[end:]
    path = tmp_path / "pars-defect-injection.yaml"
    path.write_text(bomb, encoding="utf-8")
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert time.monotonic() - started < 60
    assert result.exit_code == 1, result.output
    assert "not allowed (a text or list over 1000000 long)" in result.output
    assert "Traceback" not in result.output

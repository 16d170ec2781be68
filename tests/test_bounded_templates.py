"""Clinic templates run within bounds (issue 25, item 6): output size, loop iterations,
integer size, recursion depth and a wall-clock budget. Each bomb is one line naming the
template, never a hang, a traceback or gigabytes of memory."""

import json
import resource
import subprocess
import sys
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
    "a join of a long list": "{{ (['x' * 999999] * 999999)|join }}",
    "a wide center": "{{ 'x'|center(10**9) }}",
    "a wide format": "{{ '%*d'|format(10**9, 1) }}",
    "a wide str.format": "{{ '{:>999999999}'.format(1) }}",
    "a wide percent": "{{ '%999999999d' % 1 }}",
    "a growing replace": "{{ ('x' * 999999)|replace('x', 'yyyyyyyyyy') }}",
    "a wide indent": "{{ ('x ' * 499999)|indent(999999) }}",
    "a slow wordwrap": "{{ ('x' * 999999)|wordwrap(1) }}",
    "many texts in a loop": "{% for i in range(100000) %}{% set t = 'y' * 100000 %}{% endfor %}",
    "nested loops over a text": "{% set l = 'x' * 999999 %}{% for i in l %}{% for j in l %}"
    "{% endfor %}{% endfor %}",
}

LIMIT = 2 * 2**30
"""The address space each bomb runs in, so that one the bounds miss fails with a
MemoryError in its own process instead of exhausting the computer."""

CHILD = """
import json, sys
from pars_docs.compose.composer import Templates
from pars_docs.errors import InstructionError
try:
    Templates().render_text(sys.argv[1], {})
    print(json.dumps({"rendered": True}))
except InstructionError as e:
    print(json.dumps({"error": str(e)}))
"""


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def render_in_a_bounded_child(source: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, source],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("source", BOMBS.values(), ids=BOMBS.keys())
def test_a_template_bomb_is_stopped_with_one_line(source):
    started = time.monotonic()
    answer = render_in_a_bounded_child(source)
    assert time.monotonic() - started < sandbox.MAX_SECONDS + 30
    assert "error" in answer, answer
    assert "\n" not in answer["error"]
    assert "not allowed" in answer["error"] or "cannot" in answer["error"]
    assert "MemoryError" not in answer["error"]  # stopped by a bound, not by running out


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


@pytest.mark.parametrize("template", ["handout.xml.j2", "packet.xml.j2"])
def test_check_lays_out_a_sites_page_templates_under_the_bounds(tmp_path, template):
    """A page template that parses and reaches for nothing unsafe, but loops past the bounds
    when laid out, is refused by ``check`` in one line naming it, before any handout."""
    from click.testing import CliRunner

    from pars_docs.cli import cli
    from pars_docs.resources import templates_dir

    folder = tmp_path / "templates"
    folder.mkdir()
    page = (templates_dir() / template).read_text(encoding="utf-8")
    bomb = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    (folder / template).write_text(bomb + page, encoding="utf-8")
    site = tmp_path / "site.yaml"
    site.write_text(
        "clinic: {name: Test Clinic, phone: (555) 010-0000}\n"
        "timezone: America/New_York\ntemplates_dir: templates\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["check", "--site", str(site)])
    assert time.monotonic() - started < 120
    assert result.exit_code == 1, result.output
    refused = [line for line in result.output.splitlines() if template in line]
    assert refused and "loops over more than" in refused[0], result.output
    assert "Traceback" not in result.output


def test_check_passes_a_sites_own_copy_of_the_page_templates(tmp_path):
    from click.testing import CliRunner

    from pars_docs.cli import cli
    from pars_docs.resources import templates_dir

    folder = tmp_path / "templates"
    folder.mkdir()
    for template in ("handout.xml.j2", "packet.xml.j2"):
        (folder / template).write_text(
            (templates_dir() / template).read_text(encoding="utf-8"), encoding="utf-8"
        )
    site = tmp_path / "site.yaml"
    site.write_text(
        "clinic: {name: Test Clinic, phone: (555) 010-0000}\n"
        "timezone: America/New_York\ntemplates_dir: templates\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["check", "--site", str(site)])
    assert result.exit_code == 0, result.output

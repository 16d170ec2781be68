"""The installed tool, run as a user runs it: from another folder, by its console command."""

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import pars_docs

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("pars-docs")


def run(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "PARS_DOCS_SITE"}
    return subprocess.run(args, cwd=cwd, capture_output=True, env=env, timeout=120)


@pytest.mark.slow
@pytest.mark.skipif(not SCRIPT.exists(), reason="pars-docs is not installed in this Python")
def test_console_command_works_from_any_folder(tmp_path):
    result = run(
        str(SCRIPT),
        "make",
        "pars-defect-decompression",
        "--patient",
        "Ana Díaz",
        "--date",
        "2026-12-03",
        "--time",
        "7:00",
        "--clinician",
        "Dr. Lee",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "pars-defect-decompression-2026-12-03-0700.pdf").stat().st_size > 10_000


@pytest.mark.slow
def test_module_entry_point(tmp_path):
    result = run(sys.executable, "-m", "pars_docs", "--version", cwd=tmp_path)
    assert result.stdout.decode().strip() == f"pars-docs, version {pars_docs.__version__}"


def test_data_ships_inside_an_installed_package():
    package = Path(pars_docs.__file__).resolve().parent
    if (package.parent / "setup.cfg").exists():
        pytest.skip("running from a source checkout")
    for needed in (
        "instructions/pars-defect-injection.yaml",
        "instructions/medicines.yaml",
        "instructions/instruction-set.schema.json",
        "templates/handout.xml.j2",
        "templates/formats.yaml",
        "fonts/DejaVuSans.ttf",
        "fonts/DejaVuSans-Bold.ttf",
    ):
        assert (package / needed).is_file(), needed


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # The README opens with the two set-up commands: a handout, then the tests, which are CI's
    # own script, so the two can never drift apart.
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", readme, re.S)
    assert "pars-docs make" in blocks[0]
    assert blocks[1].strip() == "bash .ci/run"
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for step in (
        "pip install -c .ci/constraints.txt -e '.[test,dev]'",
        "ruff check",
        "ruff format --check",
        "mypy",
    ):
        assert step in script, step
    assert script.strip().splitlines()[-1].endswith(".venv/bin/pytest")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_dependency_ci_installs_is_pinned():
    """CI installs exact versions (.ci/constraints.txt): a dependency added to setup.cfg
    without a pin would let a new release break a fresh CI run again."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    wanted = config["options"]["install_requires"].split("\n")
    for extra in ("test", "dev", "cjk", "arabic"):
        wanted += config["options.extras_require"][extra].split("\n")
    names = {_canonical(re.split(r"[<>=!~;\[ ]", line.strip(), maxsplit=1)[0]) for line in wanted}
    names.discard("")
    pins = {}
    for line in (ROOT / ".ci" / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version.strip(), f"not an exact pin: {line}"
            pins[_canonical(name)] = version.strip()
    assert sorted(names - set(pins)) == []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel a plain `pip install .` builds, with its build step (setup.py) run."""
    if not (ROOT / "setup.cfg").exists():
        pytest.skip("not a source checkout")
    tmp_path = tmp_path_factory.mktemp("wheel")
    # A copy, so no build folder left in the checkout can add stale files to the wheel.
    tree = tmp_path / "tree"
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "_shipped")
    for name in ("setup.cfg", "setup.py", "pyproject.toml", "README.md", "LICENSE"):
        tree.mkdir(exist_ok=True)
        shutil.copy2(ROOT / name, tree / name)
    for name in ("pars_docs", "instructions", "templates"):
        shutil.copytree(ROOT / name, tree / name, ignore=skip)
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(tree)]
    env = {**os.environ, "PIP_CONSTRAINT": str(ROOT / ".ci" / "constraints.txt")}
    result = subprocess.run(build, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    (found,) = tmp_path.glob("pars_docs-*.whl")
    return found


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_the_data(wheel):
    """What a plain `pip install .` installs, checked from a checkout too (the editable install
    the README uses runs from the source folders)."""
    names = set(zipfile.ZipFile(wheel).namelist())
    source = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "pars_docs").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert source <= names, sorted(source - names)
    for needed in (
        "instructions/pars-defect-injection.yaml",
        "instructions/medicines.yaml",
        "instructions/instruction-set.schema.json",
        "templates/handout.xml.j2",
        "templates/formats.yaml",
        "fonts/DejaVuSans.ttf",
        "fonts/DejaVuSans-Bold.ttf",
    ):
        assert f"pars_docs/{needed}" in names, needed


MAKE = ["make", "pars-defect-injection", "--patient", "Zoë Ødegård", "--date", "2026-12-03",
        "--time", "8:00 AM", "--clinician", "Dr. Lee", "--medication", "Eliquis",
        "--as-of", "2026-11-20", "--language", "es"]  # fmt: skip


@pytest.mark.slow
def test_the_wheel_ships_the_start_up_records(wheel, tmp_path):
    """The build made the records of the built-in sets, medicine table, templates and fonts
    (pars_docs/prebuild.py): installed from the wheel, a run with no cache folder at all
    checks, parses and compiles nothing, and makes the same handout as the checkout."""
    names = zipfile.ZipFile(wheel).namelist()
    shipped = [n for n in names if n.startswith("pars_docs/_shipped/")]
    kinds = {Path(n).name.split("-")[0] for n in shipped}
    assert {"pass", "yaml", "font", "dates", "version"} <= kinds, kinds
    assert sum(Path(n).name.startswith("t") and n.endswith(".py") for n in shipped) > 10
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)
    probe = (
        "import atexit, sys; sys.argv = ['pars-docs', *sys.argv[1:]];"
        "atexit.register(print);"  # so main() exits by SystemExit, through the check below
        "import jinja2.environment as e; e.Environment.compile = None;"  # compiling fails
        "from pars_docs.cli import main\n"
        "try:\n main()\n"
        "finally:\n"
        " assert not {'jsonschema', 'yaml', 'babel'} & set(sys.modules), sorted(sys.modules)"
    )
    made = {}
    for where, path in (("wheel", str(installed)), ("checkout", str(ROOT))):
        env = {**os.environ, "PARS_DOCS_CACHE": "off", "SOURCE_DATE_EPOCH": "1790000000"}
        env["PYTHONPATH"] = path
        out = tmp_path / f"{where}.pdf"
        command = [sys.executable, "-c", probe] if where == "wheel" else [str(SCRIPT)]
        result = subprocess.run(
            [*command, *MAKE, "-o", str(out)], cwd=tmp_path, env=env, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        made[where] = out.read_bytes()
    assert made["wheel"] == made["checkout"]


def test_readme_first_handout_command_works_on_a_utc_machine(tmp_path, monkeypatch):
    """The README's first command, as written, on a computer whose clock is UTC (most servers
    and containers), from the checkout and on any day: it names a site profile and fixes
    "now", so it neither refuses for the zone nor goes stale."""
    from click.testing import CliRunner

    from pars_docs.cli import cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.findall(r"```(?:sh|bash)?\n(.*?)```", readme, re.S)[0]
    command = first.split("&&")[-1].strip()
    words = shlex.split(command)
    assert words[0].endswith("pars-docs") and words[1] == "make"
    monkeypatch.setenv("TZ", "Etc/UTC")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.delenv("PARS_DOCS_SITE", raising=False)
    monkeypatch.chdir(ROOT)
    out = tmp_path / "handout.pdf"
    args = [str(out) if w == "handout.pdf" else w for w in words[1:]]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output and "note: no site profile" not in result.output
    assert out.read_bytes().startswith(b"%PDF")

"""The installed tool, run as a user runs it: from another folder, by its console command."""

import configparser
import os
import re
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
    for extra in ("test", "dev"):
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


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_the_data(tmp_path):
    """What a plain `pip install .` installs, checked from a checkout too (the editable install
    the README uses runs from the source folders)."""
    if not (ROOT / "setup.cfg").exists():
        pytest.skip("not a source checkout")
    # A copy, so no build folder left in the checkout can add stale files to the wheel.
    tree = tmp_path / "tree"
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("setup.cfg", "pyproject.toml", "README.md", "LICENSE"):
        tree.mkdir(exist_ok=True)
        shutil.copy2(ROOT / name, tree / name)
    for name in ("pars_docs", "instructions", "templates"):
        shutil.copytree(ROOT / name, tree / name, ignore=skip)
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(tree)]
    result = subprocess.run(build, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("pars_docs-*.whl")
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

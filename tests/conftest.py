import os
import tempfile

# This computer's clock, for the tests that make handouts without a site profile: a place, as
# a clinic's desk computer has. On UTC (most CI machines) pars-docs refuses to print clock
# times; the tests of that refusal set TZ themselves. Set before pars-docs (and Babel) load.
os.environ["TZ"] = "America/New_York"

import pytest
from click.testing import CliRunner
from helpers import DATA, FIXED_NOW, SITE
from hypothesis import settings

from pars_docs.cli import cli

# In CI the property tests draw the same examples every run, so a submission passes or fails
# on its own code, not on the draw; locally they keep exploring new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Validation passes are remembered in a folder of this run's own (see pars_docs/startup_cache.py),
# never in the home folder of whoever runs the tests.
os.environ["PARS_DOCS_CACHE"] = tempfile.mkdtemp(prefix="pars-docs-test-cache-")
# "Now" for what runs outside a test function (module fixtures) too: the tests' visits are
# in December 2026, which a real clock would put in the past (refused without
# --include-past). Tests of the real clock remove it themselves.
os.environ["SOURCE_DATE_EPOCH"] = FIXED_NOW


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_NOW)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def site_file():
    return DATA / "site-ny.yaml"


@pytest.fixture
def make(runner, site_file, tmp_path):
    """Run `pars-docs make` with sensible defaults; returns (result, pdf path)."""

    def run(
        *extra,
        procedure="pars-defect-injection",
        patient="Ana Díaz",
        date="2026-12-03",
        time="8:00 AM",
        clinician="Dr. Sam Lee",
        site=site_file,
        out=None,
    ):
        out = out or tmp_path / "handout.pdf"
        args = [
            "make",
            procedure,
            "--patient",
            patient,
            "--date",
            date,
            "--time",
            time,
            "--clinician",
            clinician,
            "-o",
            str(out),
        ]
        if site:
            args += ["--site", str(site)]
        result = runner.invoke(cli, args + list(extra))
        return result, out

    return run


@pytest.fixture
def batch(runner):
    """Run `pars-docs batch SOURCE --site <New York> --jobs N EXTRA...`; returns the result."""

    def run(source, *extra, jobs=1, input=None):
        args = ["batch", str(source), "--site", str(SITE), "--jobs", str(jobs)]
        return runner.invoke(cli, args + [str(e) for e in extra], input=input)

    return run


@pytest.fixture(scope="session")
def fhir_server_process(tmp_path_factory):
    """One real FHIR server (Medplum's router, in memory) on loopback for the whole run,
    needing a bearer token; tests take it through ``fhir_server``, which empties it."""
    from helpers import FhirServer

    server = FhirServer(tmp_path_factory.mktemp("fhir-server"))
    yield server
    server.stop()


@pytest.fixture
def fhir_server(fhir_server_process):
    """The run's FHIR server, emptied for this test (``.url``, ``.token``, ``.token_file``,
    ``.faults()``, ``.requests()``, ``.search()``, ``.put()``); see helpers.FhirServer."""
    fhir_server_process.reset()
    return fhir_server_process

"""The integration guide's commands, run verbatim in a copy of docs/examples."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "integration.md"
BIN = Path(sys.executable).parent


def guide_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.skipif(not (BIN / "pars-docs").exists(), reason="pars-docs is not installed")
def test_integration_guide_commands_work_as_written(tmp_path):
    work = tmp_path / "examples"
    shutil.copytree(ROOT / "docs" / "examples", work)
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "SOURCE_DATE_EPOCH": "1790000000",
    }
    env.pop("PARS_DOCS_SITE", None)
    commands = guide_commands()
    assert len(commands) >= 5
    for command in commands:
        result = subprocess.run(
            command, shell=True, cwd=work, env=env, capture_output=True, timeout=300
        )
        expected = 1 if " batch " in command else 0  # the guide's bundle has one bad row
        assert result.returncode == expected, (command, result.stderr.decode())
        assert b"Traceback" not in result.stderr
    bundle = json.loads((work / "documents.json").read_text(encoding="utf-8"))
    assert len(bundle["entry"]) == 2
    manifest = [json.loads(line) for line in (work / "manifest.jsonl").read_text().splitlines()]
    assert [r["status"] for r in manifest] == ["ok", "cancelled", "ok", "failed"]
    assert len(list((work / "handouts").glob("*.pdf"))) == 2
    assert (work / "timeline.json").exists() and (work / "visit.ics").exists()
    # The booking's reschedule, not the booking: the newest message of the two.
    rescheduled = PdfReader(work / "rescheduled.pdf").pages[0].extract_text()
    assert "Wednesday, March 10, 2027" in rescheduled and "March 8" not in rescheduled

"""Make, when the package is built, the records a start would otherwise write for pars-docs'
own files, and ship them inside the package.

The built-in instruction sets, the medicine table, the templates and the fonts never change
inside an installed package, yet a start with no cache folder (``PARS_DOCS_CACHE=off``, a
container, a home folder thrown away) would check, parse and compile them all again. The build
(``setup.py``'s ``build_py``) runs this module against the package it has just laid out: it
checks everything as ``pars-docs check`` does and makes a handout of every set in every
language and format, recording what a start would keep (see startup_cache.py) and Jinja's compiled
form of every template it renders (see compose/composer.py), and writes them to
``pars_docs/_shipped``:

- one file per record, named as in the user's cache, holding the record's plain data;
- one module per compiled template, which the installer byte-compiles like any other.

These are part of the package and trusted like its code; the user's cache is not (startup_cache.py).
Run by hand: ``python -m pars_docs.prebuild PACKAGE_FOLDER VERSION``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from . import startup_cache
from .compose import composer

_HEADER = (
    '"""Jinja\'s compiled form of one built-in template, made by pars_docs/prebuild.py when '
    'the package was built."""\n\n\n'
)


def _module(source: str) -> str:
    body = "".join(f"    {line}\n" if line.strip() else "\n" for line in source.splitlines())
    names = '{"name": name, "blocks": blocks, "debug_info": debug_info, "root": root}'
    return f"{_HEADER}def load(environment):\n{body}    return {names}\n"


def _exercise(work: Path) -> None:
    """Everything a start does with pars-docs' own files: the full check, then a handout of
    every set in every language, in every format."""
    from .cli import cli
    from .environment import Environment
    from .load.library import Library
    from .render.pdf.fonts import installed
    from .render.pdf.scripts import font_for, language_script

    def run(*args: str) -> None:
        try:
            code = cli.main(
                list(args), prog_name="pars-docs", standalone_mode=False, obj=Environment()
            )
        except SystemExit as done:  # a command's own exit
            code = done.code
        if code not in (None, 0):
            raise SystemExit(f"prebuild: pars-docs {' '.join(args)} failed ({code})")

    run("check")
    library = Library()
    visit = ["--patient", "Ana Díaz", "--date", "2026-12-03", "--time", "8:00 AM"]
    visit += ["--clinician", "Dr. Lee", "--as-of", "2026-11-20", "--medication", "Eliquis"]
    # A named zone: a build machine's clock is often UTC, which make rightly refuses.
    visit += ["--timezone", "America/New_York"]
    n = 0
    for set_id in library.ids():
        for language in library.languages(set_id):
            script = language_script(language)
            if script and not installed(font_for(script, language)):
                continue  # its fonts are an extra (pars-docs[cjk], [arabic]) not installed here
            for form in ("pdf", "text", "json", "ics"):
                for extra in ([], ["--sedation"], ["--large-print"]):
                    n += 1
                    out = str(work / f"{n}.{form}")
                    run("make", set_id, *visit, "--language", language, "--format", form,
                        *extra, "-o", out)  # fmt: skip


def build(package: Path, version: str) -> int:
    """Write ``package/_shipped``; the number of records and templates written."""
    target = package / startup_cache.SHIPPED
    shutil.rmtree(target, ignore_errors=True)
    version_record = startup_cache.encode(version)
    assert version_record is not None
    # The version first: the package being built has no installed metadata to read it from.
    records: dict[str, bytes] = {"version-built": version_record}
    compiled: dict[str, str] = {}
    startup_cache.recording, composer.collecting = records, compiled
    os.environ[startup_cache.ENV_VAR] = "off"
    try:
        with tempfile.TemporaryDirectory() as work:
            _exercise(Path(work))
    finally:
        startup_cache.recording = composer.collecting = None
    target.mkdir()
    (target / "__init__.py").write_text(
        '"""Records and compiled templates made when the package was built (prebuild.py)."""\n'
    )
    for name, payload in records.items():
        (target / name).write_bytes(payload)
    for key, source in compiled.items():
        module = _module(source)
        compile(module, key, "exec")  # a module that does not compile fails the build here
        (target / f"t{key}.py").write_text(module, encoding="utf-8")
    return len(records) + len(compiled)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m pars_docs.prebuild PACKAGE_FOLDER VERSION")
    count = build(Path(sys.argv[1]), sys.argv[2])
    print(f"prebuild: {count} records and compiled templates in {sys.argv[1]}/_shipped")

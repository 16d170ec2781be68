"""``pars-docs translate``: a set's wording out to a PO catalog and back (see
docs/translating.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import ExitStatus, InstructionError, ParsDocsError, printable
from ..service.translating import Library, load_site
from ._common import SITE_OPTION, Report, fail, script_options


@click.group()
def translate() -> None:
    """Translate a set in a translator's tool: export a PO catalog, import it back."""


@translate.command("export")
@click.argument("set_id", metavar="SET")
@click.option("--language", "-l", required=True, help="The language to translate into (es, ar…).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The catalog to write (default: standard output).",
)
@SITE_OPTION
@script_options
def export(
    set_id: str, language: str, output: Path | None, site: str | None, errors: str, verbose: bool
) -> None:
    """Write SET's wording and the medicine words as a PO catalog for LANGUAGE: each text with
    a note on where it appears and what each placeholder prints, and the texts whose English
    changed since they were translated marked fuzzy."""
    from ..service.translating import export as export_catalog
    from ..service.translating import write_whole as _write

    report = Report.start(errors, verbose)
    try:
        library = Library(load_site(site).instructions_dir)
        po = export_catalog(library, set_id, language)
        text = str(po) + "\n"
        if output is None:
            click.echo(text, file=report.env.stdout, nl=False)
        else:
            _write(output, text)
    except ParsDocsError as e:
        fail(report, e)
    except OSError as e:
        fail(report, InstructionError(f"{output}: cannot write ({e.strerror})"))
    todo = len(po.untranslated_entries()) + len(po.fuzzy_entries())
    report.note(
        f"{set_id} {language}: {len(po)} texts, {len(po.fuzzy_entries())} changed in English, "
        f"{len(po.untranslated_entries())} untranslated" + ("" if todo else "; all done")
    )


@translate.command("import")
@click.argument("catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--into",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The folder to write the translation to (default: where it is, else beside the "
    "English set).",
)
@SITE_OPTION
@script_options
def import_(catalog: Path, into: Path | None, site: str | None, errors: str, verbose: bool) -> None:
    """Write the translation and medicine words that CATALOG holds, then check them as
    `pars-docs check` does (exit 1 if a problem is left)."""
    from ..service.translating import check_set, import_catalog

    report = Report.start(errors, verbose)
    try:
        library = Library(load_site(site).instructions_dir)
        written = import_catalog(library, catalog, into)
    except ParsDocsError as e:
        fail(report, e)
    failed = False
    for path in written.files:
        checking = Library(load_site(site).instructions_dir)
        try:
            if path.name.startswith("medicines."):
                description = checking.check_medicine_words(path.stem.split(".")[1], path)
            else:
                iset, notes = checking.check_translation(path)
                check_set(checking, iset)
                description = "; ".join([checking.describe(iset), *notes])
        except ParsDocsError as e:
            failed = True
            report.error(e)
            continue
        click.echo(printable(f"ok  {description}  ({path})"), file=report.env.stdout)
    if written.left:
        report.note(f"{len(written.left)} texts still to translate: {', '.join(written.left[:5])}")
    sys.exit(ExitStatus.ERROR if failed else ExitStatus.SUCCESS)


@translate.command("stamp")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@SITE_OPTION
@script_options
def stamp(files: tuple[Path, ...], site: str | None, errors: str, verbose: bool) -> None:
    """Record in each translation FILE (default: every translation the site has) the hash of
    each English text it was made from, for a translation written before pars-docs kept
    them. Only a translation made from the English set's current version is stamped."""
    from ..service.translating import stamp as stamp_file

    report = Report.start(errors, verbose)
    try:
        library = Library(load_site(site).instructions_dir)
        paths = list(files) or [path for _, _, path in library.translation_files()]
    except ParsDocsError as e:
        fail(report, e)
    failed = False
    for path in paths:
        try:
            click.echo(printable(stamp_file(library, Path(path))), file=report.env.stdout)
        except ParsDocsError as e:
            failed = True
            report.error(e)
    sys.exit(ExitStatus.ERROR if failed else ExitStatus.SUCCESS)

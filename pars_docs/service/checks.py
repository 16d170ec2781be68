"""The front door's checks: what ``pars-docs check`` looks at (instruction sets, their
translations, the medicine tables, templates and labels in every language, the site's own page
templates laid out for a sample visit, the site profile and its code map), each as one job
that says what it found or raises what is wrong; and the site's sets for ``pars-docs list``."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from ..errors import InstructionError
from ..load.library import Library, by_group
from ..load.site import Site

Job = tuple[str, Callable[[], str]]  # (what is checked, the check: a line on success)

__all__ = ["Job", "by_group", "check_file_in", "file_jobs", "site_jobs", "site_library"]


def site_library(profile: Site) -> Library:
    """The instruction sets, translations and medicine table ``profile`` uses."""
    return Library(profile.instructions_dir, profile.translation_reviews)


def file_jobs(library: Library, files: tuple[Path, ...]) -> list[Job]:
    """A job per file, each checked as whatever it holds."""
    # The dry run needs the composer (Jinja): imported here, so that `--help` stays light.
    from ..compose.dry_run import check_file

    return [(str(f), partial(check_file, library, f)) for f in files]


def check_file_in(folder: Path, path: Path) -> str:
    """``check`` of the file ``path`` among the other files of ``folder`` (a set, a
    translation or a medicine table, as it holds): what it found, else the error that names
    every problem."""
    from ..compose.dry_run import check_file

    return check_file(Library(folder), path)


def site_jobs(profile: Site, library: Library) -> list[Job]:
    """A job for everything the site uses: its profile, the medicine table, every set and
    translation, templates and labels in every language, and its code map."""
    from ..compose.dry_run import check_file

    jobs: list[Job] = [
        (str(profile.path), lambda: f"site profile, {profile.timezone}"),
        (str(library.table_path), lambda: check_file(library, library.table_path)),
    ]
    jobs += [(set_id, partial(_describe, library, profile, set_id)) for set_id in library.ids()]
    jobs += [(str(link), partial(_outside, link)) for link in library.outside]
    jobs += [
        (path.name, partial(_check_translation, library, path))
        for _, _, path in library.translation_files()
    ]
    for language in library.all_languages():
        jobs.append(
            (f"templates {language}", partial(_check_templates, profile, language, library))
        )
        if language != "en":
            jobs.append((f"medicines {language}", partial(library.check_medicine_words, language)))
    if profile.procedure_codes:
        jobs.append((str(profile.procedure_codes), lambda: _check_codes(profile, library)))
    return jobs


def _check_codes(profile: Site, library: Library) -> str:
    from ..read.codes import CodeMap

    codes = CodeMap.build(library, profile.procedure_codes, strict=True)
    return f"code map, {len(codes.entries)} codes"


def _lay_out_packet(profile: Site) -> None:
    """Lay out a sample packet index with the site's own page templates, under the
    sandbox's bounds (the handout template is composed by ``page_problems``), so a template
    that loops, grows or recurses past them is refused here, before any packet."""
    from types import SimpleNamespace

    from ..compose.composer import compose_packet

    row = SimpleNamespace(
        start="2027-03-08T09:00:00", patient="Sample Patient", procedure_title="Sample", row=1
    )
    compose_packet([row], profile)


def _check_templates(profile: Site, language: str, library: Library | None = None) -> str:
    """The site's templates in ``language``: date formats, labels and calendar wording load,
    and the labels and calendar wording match the English ones. A site with its own page
    templates also has them laid out for a sample visit, within the sandbox's bounds, and a
    handout composed through them holds only elements the renderers know."""
    from ..compose.composer import templates_for
    from ..compose.dry_run import page_problems
    from ..load.languages import load_labels
    from ..render.ics import calendar_wording, translation_problems

    templates = templates_for(profile.templates_dir, language, profile.clock)
    problems = templates.page_problems()
    if problems:
        raise InstructionError("\n".join(problems))
    wording = calendar_wording(templates)
    if language != "en":
        english = calendar_wording(templates_for(profile.templates_dir, "en", profile.clock))
        problems = load_labels(tuple(templates.dirs)).problems(language)
        problems += translation_problems(wording, english)
        if problems:
            raise InstructionError("\n".join(problems))
    if library is not None:
        problems = page_problems(library, profile, language)
        if problems:
            raise InstructionError("\n".join(problems))
    if profile.templates_dir is not None:
        _lay_out_packet(profile)
    return f"templates {language} ({', '.join(str(d) for d in templates.dirs)})"


def _describe(library: Library, profile: Site, set_id: str) -> str:
    """Check a set, and that it can be printed in the site's languages."""
    from ..compose.dry_run import check_set
    from ..load.languages import resolve

    iset = library.get(set_id)
    check_set(library, iset)
    available = library.languages(set_id)
    for key in ("language", "fallback_language", "also_language"):
        if getattr(profile, key):
            resolve(getattr(profile, key), available, f"site {key}", f" for {set_id}")
    return "\n".join([library.describe(iset), *library.changes(iset)])


def _check_translation(library: Library, path: Path) -> str:
    from ..compose.dry_run import check_set

    iset, notes = library.check_translation(path)
    check_set(library, iset)
    return "; ".join([library.describe(iset), *notes])


def _outside(link: Path) -> str:
    raise InstructionError(
        f"{link}: a link to a file outside the instructions folder; it is not read (copy the "
        "file into the folder instead)"
    )

"""The clinic's own instruction sets, edited at the desk: a page listing the files of the
site's folder and whether each passes ``check`` (every problem beside its line), an editor
with a live preview of a handout for a sample visit, and a save that writes only what
passes ``check``, atomically, keeping the previous version.

Open only to a signed-in ``editor`` when the desk has accounts, else only to this computer
(loopback). The desk's procedure list reads the folder again on every page, so a saved set
is offered at once, without a restart.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, abort, current_app, g, jsonify, render_template, request, url_for

from ..errors import ParsDocsError
from ..service.checks import check_file_in
from ..service.offers import built_in_library
from . import security

log = logging.getLogger("pars_docs.web")
blueprint = Blueprint("editor", __name__)
MAX_TEXT = 512 * 1024  # bytes of one file: the largest built-in set is about 30 kB
# A problem line of `check`: FILE:LINE: message.
_PROBLEM = re.compile(r"^(?P<file>[^\n]*?):(?P<line>\d+): (?P<text>.*)$")
KEEP_PREVIEWS = 8  # page images of previews, held in memory for the page to fetch
BACKUPS = ".backups"  # beside the files; `check` and the library read only *.yaml


@dataclasses.dataclass
class FileState:
    """One file of the clinic's folder as ``check`` sees it."""

    name: str
    kind: str  # "set", "changes to a built-in set", "translation", "medicine table"
    ok: bool
    summary: str  # check's description, or how many problems
    problems: list[dict]  # {line, text, source}: each problem beside its line


def _desk():
    return current_app.extensions["pars_docs"]["desk"]


def _folder() -> Path | None:
    return _desk().site.instructions_dir


def allowed() -> bool:
    """Whether this request may see and change the clinic's sets."""
    if current_app.extensions["pars_docs"].get("accounts") is not None:
        account = g.get("account")
        return bool(account and account.may("edit"))
    return security.is_loopback(request.remote_addr or "")


@blueprint.before_request
def guard():
    if not allowed():
        if current_app.extensions["pars_docs"].get("accounts") is not None:
            abort(403, "Only a desk user with the editor role may change the clinic's sets.")
        abort(403, "The clinic's sets can be changed only on the computer the desk runs on.")
    return None


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.yaml") if p.is_file() and not p.is_symlink())


def _kind(text: str, name: str) -> str:
    if name == "medicines.yaml" or re.match(r"^medicines\.[a-z-]+\.yaml$", name, re.I):
        return "medicine table"
    if re.search(r"^translation:", text, re.M):
        return "translation"
    if re.search(r"^extends:", text, re.M):
        return "changes to a built-in set"
    return "set"


def _problems(message: str, shown_as: Path, text: str) -> list[dict]:
    """``check``'s lines, each with its line number and the text of that line."""
    lines = text.splitlines()
    found = []
    for raw in message.splitlines():
        match = _PROBLEM.match(raw)
        if match and Path(match["file"]).name == shown_as.name:
            number = int(match["line"])
            source = lines[number - 1] if 0 < number <= len(lines) else ""
            found.append({"line": number, "text": match["text"], "source": source})
        else:
            found.append(
                {"line": None, "text": raw.replace(str(shown_as.parent) + "/", ""), "source": ""}
            )
    return found


def _check_in(folder: Path, name: str, text: str) -> tuple[bool, str, list[dict]]:
    """``check`` of ``name`` with ``text`` in a private copy of ``folder``: the real folder
    is not touched until the text passes."""
    with tempfile.TemporaryDirectory(prefix="pars-docs-edit-") as scratch:
        copy = Path(scratch)
        for other in _files(folder):
            if other != name:
                shutil.copyfile(folder / other, copy / other)
        (copy / name).write_text(text, encoding="utf-8")
        try:
            summary = check_file_in(copy, copy / name)
        except ParsDocsError as e:
            return False, "", _problems(e.message, copy / name, text)
        return True, summary.splitlines()[0], []


def _state(folder: Path, name: str) -> FileState:
    text = (folder / name).read_text(encoding="utf-8", errors="replace")
    ok, summary, problems = _check_in(folder, name, text)
    count = len(problems)
    return FileState(
        name,
        _kind(text, name),
        ok,
        summary if ok else f"{count} problem{'s' if count != 1 else ''}",
        problems,
    )


def _target(name: str, new: bool = False) -> tuple[Path, Path]:
    """The clinic's folder and its file ``name``; 404 for any other name (no path reaches
    outside the folder: only the names listed in it are accepted, and with ``new`` the file
    of a clinic's changes to a built-in set, named after it, that the form of common
    changes writes)."""
    folder = _folder()
    if folder is None or (name not in _files(folder) and not (new and name in _built_in_files())):
        abort(404, "There is no such file in the clinic's folder.")
    return folder, folder / name


def _built_in_files() -> set[str]:
    return {f"{set_id}.yaml" for set_id in built_in_library().ids()}


@blueprint.get("/clinic")
def folder_page():
    folder = _folder()
    desk = _desk()
    states = [_state(folder, name) for name in _files(folder)] if folder else []
    shown = folder
    if folder is not None and desk.site.path is not None:
        try:  # as the site profile names it, beside the profile
            shown = folder.relative_to(Path(desk.site.path).resolve().parent)
        except ValueError:
            pass
    return render_template(
        "clinic.html",
        folder=shown,
        states=states,
        left_out=desk.left_out(),
    )


@blueprint.get("/clinic/<name>")
def edit(name: str):
    folder, path = _target(name)
    text = path.read_text(encoding="utf-8", errors="replace")
    ok, summary, problems = _check_in(folder, name, text)
    return render_template(
        "clinic_edit.html", name=name, text=text, ok=ok, summary=summary, problems=problems,
        saved=request.args.get("saved") == "1", backups=_backups(folder, name),
        **_hints_at_top(text),
    )  # fmt: skip


def _hints_at_top(text: str) -> dict:
    """The editor's hints as the page opens (the cursor at the top of the file)."""
    from .hints import place

    return {"place": place(()), "extends": _kind(text, "x.yaml") == "changes to a built-in set"}


def _text_from_form() -> str:
    text = request.form.get("text", "")
    if len(text.encode("utf-8")) > MAX_TEXT:
        abort(413, f"The file is larger than {MAX_TEXT // 1024} kB.")
    return text.replace("\r\n", "\n")


@blueprint.post("/clinic/<name>")
def save(name: str):
    """Save the text if it passes ``check``; the previous version goes to ``.backups``."""
    folder, path = _target(name, new=request.form.get("new") == "1")
    text = _text_from_form()
    ok, summary, problems = _check_in(folder, name, text)
    if not ok:
        return (
            render_template(
                "clinic_edit.html",
                name=name,
                text=text,
                ok=False,
                summary="",
                problems=problems,
                saved=False,
                backups=_backups(folder, name),
                refused=True,
                new_file=not path.exists(),
                **_hints_at_top(text),
            ),  # fmt: skip
            422,
        )
    backup = write_with_backup(path, text)
    desk = _desk()
    desk.engine.library.refresh()
    audit = current_app.extensions["pars_docs"].get("audit")
    if audit is not None:
        account = g.get("account")
        how = request.form.get("written_by") == "form"
        audit.record(
            "set-edited",
            account.name if account else "(no sign-in)",
            detail=f"{name}, written by the form of common changes" if how else name,
        )
    log.info(
        "saved %s in the clinic's folder (previous version: %s)",
        name,
        backup.name if backup else "none, a new file",
    )
    return current_app.redirect(url_for("editor.edit", name=name, saved=1), 303)


def write_with_backup(path: Path, text: str) -> Path | None:
    """Write ``text`` to ``path`` whole or not at all (a new file renamed over the old), the
    old one copied first to ``.backups/NAME.TIME.yaml`` beside it; returns the backup (None
    for a new file)."""
    backup = None
    mode = 0o644
    if path.exists():
        backups = path.parent / BACKUPS
        backups.mkdir(mode=0o700, exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
        backup = backups / f"{path.stem}.{stamp}-{secrets.token_hex(2)}{path.suffix}"
        shutil.copy2(path, backup)
        mode = path.stat().st_mode & 0o777
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return backup


def _backups(folder: Path, name: str) -> list[str]:
    stem = Path(name).stem
    return sorted((p.name for p in (folder / BACKUPS).glob(f"{stem}.*.yaml")), reverse=True)[:5]


@blueprint.post("/clinic/<name>/preview")
def preview(name: str):
    """The text's problems, and a handout made from it for a sample visit: the text
    rendition and page 1 as an image (PNG, base64), as JSON for the page's live preview."""
    folder, _ = _target(name, new=request.form.get("new") == "1")
    text = _text_from_form()
    sedation = request.form.get("sedation") == "yes"
    ok, summary, problems = _check_in(folder, name, text)
    answer: dict = {"ok": ok, "summary": summary, "problems": problems}
    if ok:
        try:
            answer.update(_sample(folder, name, text, sedation))
        except ParsDocsError as e:
            answer.update(ok=False, problems=_problems(e.message, folder / name, text))
    return jsonify(answer)


def _sample(folder: Path, name: str, text: str, sedation: bool) -> dict:
    """A handout from ``text`` for a sample visit a week from now, at 9:00 AM."""
    from ..service.outputs import engine as site_engine
    from ..service.visits import sample_visit
    from .desk import _open, _png, _render_page

    desk = _desk()
    site = desk.site
    match = re.match(
        r"^(?P<id>[a-z0-9][a-z0-9-]*)(?:\.(?P<lang>[a-z]{2,3}(?:-[A-Z]{2})?))?\.yaml$", name
    )
    if match is None or name.startswith("medicines"):
        return {"text": "", "image": None, "note": "A medicine table has no handout of its own."}
    with tempfile.TemporaryDirectory(prefix="pars-docs-preview-") as scratch:
        copy = Path(scratch)
        for other in _files(folder):
            shutil.copyfile(folder / other, copy / other)
        (copy / name).write_text(text, encoding="utf-8")
        engine = site_engine(dataclasses.replace(site, instructions_dir=copy), desk.engine.as_of)
        iset = engine.library.get(match["id"])
        # A week after SOURCE_DATE_EPOCH (else now), as for handouts.
        visit = sample_visit(
            match["id"], iset, site, desk.engine.as_of, sedation=sedation, language=match["lang"]
        )
        day = visit.date
        with desk.lock:
            handout = engine.prepare(visit)
            rendition = handout.render("text").decode("utf-8")
            pdf = handout.pdf()
            document = _open(pdf)
            try:
                page = _render_page(document, 1)
            finally:
                document.close()
        image = _png(page)
    key = secrets.token_urlsafe(18)
    kept = current_app.extensions["pars_docs"].setdefault("previews", {})
    kept[key] = image
    while len(kept) > KEEP_PREVIEWS:
        kept.pop(next(iter(kept)))
    return {
        "text": rendition,
        "image": url_for("editor.preview_image", key=key),
        "note": f"A sample visit on {day:%A, %B %-d} at 9:00 AM"
        + (", with sedation" if visit.sedation else ""),
    }


@blueprint.get("/clinic/preview/<key>.png")
def preview_image(key: str):
    image = current_app.extensions["pars_docs"].get("previews", {}).get(key)
    if image is None:
        abort(404)
    return current_app.response_class(image, mimetype="image/png")


@blueprint.get("/clinic/schema-hints")
def hints():
    """The keys the schema allows at a place of a set (``?at=before.fasting.items.[]``),
    each with what it means, as the HTML the editor shows beside the text area."""
    from .hints import parse_path, place

    at = parse_path(request.args.get("at", "")[:400])
    return jsonify({"at": ".".join(at), "html": render_template("_hints.html", place=place(at))})


# The form of common changes to a built-in set (changes.py) -------------------------------


@blueprint.get("/clinic/change")
def change_form():
    from .changes import Change

    return _show_change(Change(kind="number"), {})


def _show_change(change, errors: dict[str, str], status: int = 200):
    from .changes import lists, numbers, slots

    built_in = built_in_library()
    ids = built_in.ids()
    chosen = request.values.get("set", "")
    base = built_in.get(chosen) if chosen in ids else None
    return render_template(
        "clinic_change.html",
        sets=[built_in.get(set_id) for set_id in ids],
        base=base,
        change=change,
        errors=errors,
        numbers=numbers(base) if base else [],
        lists=lists(base) if base else [],
        slots=slots(),
    ), status


@blueprint.post("/clinic/change")
def change_made():
    """The change written into the clinic's file for the set, shown in the editor (checked,
    with its preview) to be saved there: nothing is written until then."""
    import yaml

    from ..service.offers import now_on as current_time
    from .changes import Change, apply, as_yaml, problems

    folder = _folder()
    built_in = built_in_library()
    set_id = request.form.get("set", "")
    if folder is None or set_id not in built_in.ids():
        abort(404, "There is no such built-in set, or this site has no folder of its own.")
    base = built_in.get(set_id)
    change = Change.from_form(request.form)
    errors = problems(change, base)
    name = f"{set_id}.yaml"
    path = folder / name
    old_text = path.read_text(encoding="utf-8") if path.is_file() else ""
    overlay = None
    if old_text and not errors:
        try:
            overlay = yaml.safe_load(old_text)
        except yaml.YAMLError:
            errors = {"set": "unreadable"}
        else:
            wanted = overlay.get("extends") if isinstance(overlay, dict) else None
            if not (isinstance(wanted, dict) and wanted.get("set") == set_id):
                errors = {"set": "own"}
    if errors:
        return _show_change(change, errors, 422)
    desk = _desk()
    today = current_time(desk.site.tz, desk.engine.as_of).date()
    text = as_yaml(apply(change, base, overlay, today), old_text)
    ok, summary, found = _check_in(folder, name, text)
    return render_template(
        "clinic_edit.html", name=name, text=text, ok=ok, summary=summary, problems=found,
        saved=False, backups=_backups(folder, name), drafted=True, new_file=not path.exists(),
        **_hints_at_top(text),
    )  # fmt: skip

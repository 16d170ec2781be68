"""Planning a batch run: each input row becomes a task to render, or a record of why not.

Here a row is checked and made a visit; a repeat of an earlier row is marked; each handout is
given its file name (a clash takes the row number); and with ``skip_existing`` a finished file
from an earlier run is kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import ParsDocsError
from ..handout import Engine
from ..ledger import Record, Status
from ..names import output_name
from ..rows import BadRow, RowResult, Skipped
from ..visit import Visit, visit_from_row
from .options import Options
from .worker import Task, row_reason


@dataclass
class Duplicate:
    """A row that repeats an earlier one; settled after that row, in input order."""

    task: Task
    first: int  # the row it repeats


Item = Task | Duplicate | Record


class Planner:
    """Turns input rows into :class:`Task`, :class:`Duplicate` and :class:`Record` items."""

    def __init__(self, options: Options, engine: Engine):
        self.options = options
        self.engine = engine
        self.claimed: dict[str, int] = {}  # file name → the row that has it
        self.seen: dict[tuple, Task] = {}  # a visit's identity → its first task

    def items(self, rows: Iterable[RowResult]) -> Iterator[Item]:
        """One item per row, in input order; with ``fail_fast`` none after a row that cannot
        be made a visit."""
        for result in rows:
            item = self._item(result)
            yield item
            if isinstance(item, Record) and item.status is Status.FAILED and self.options.fail_fast:
                return

    def _failed(self, number: int, error: ParsDocsError) -> Record:
        return Record(
            number, Status.FAILED, field=error.field, reason=row_reason(error, self.options.verbose)
        )

    def _item(self, result: RowResult) -> Item:
        if isinstance(result, BadRow):
            return self._failed(result.number, result.error)
        if isinstance(result, Skipped):
            status = Status.of(result.status)
            return Record(result.number, status, reason=result.reason, tally=result.tally)
        number = result.number
        try:
            visit = visit_from_row(
                result,
                date_format=self.options.date_format,
                sedation=self.options.sedation,
                also_language=self.options.also_language,
            )
            self.engine.library.get(visit.procedure)
        except ParsDocsError as e:
            return self._failed(number, e)
        fhir = self.options.emit == "fhir"
        refs = result.refs if fhir else None
        key = (visit.patient.casefold(), visit.mrn or "", visit.procedure, visit.date, visit.time)
        if key in self.seen:
            # A repeat takes its first row's file, should that row fail and it be made.
            first = self.seen[key]
            repeat = dataclasses.replace(first, row=number, visit=visit, fhir=fhir, refs=refs)
            return Duplicate(repeat, first.row)
        target = self._target(visit, number)
        keep = bool(target and self.options.skip_existing and complete(target))
        task = Task(
            number,
            visit,
            str(target) if target else None,
            keep=keep,
            document=bool(self.options.merge),
            paper=self.options.paper,
            rendition=self.options.output_format,
            fhir=fhir,
            refs=refs,
        )
        self.seen[key] = task
        if target and keep and not self.options.merge and not fhir:
            # Nothing to make from it: record it here, without rendering.
            iset = self.engine.library.get(visit.procedure)
            return Record(
                number,
                Status.SKIPPED,
                output=str(target),
                reason="already exists",
                sha256=hashlib.sha256(target.read_bytes()).hexdigest(),
                instruction_set=iset.id,
                version=iset.version,
            )
        return task

    def _target(self, visit: Visit, number: int) -> Path | None:
        """Where the row's file goes in ``out_dir``; a name already taken gets ``-row<N>``."""
        if not self.options.out_dir:
            return None
        suffix = self.options.suffix
        name = output_name(self.options.name, visit, number, suffix)
        if name in self.claimed:
            name = name[: -len(suffix)] + f"-row{number}{suffix}"
        self.claimed[name] = number
        return self.options.out_dir / name


def complete(path: Path) -> bool:
    """Whether ``path`` is a finished file worth keeping on a resumed run. pars-docs never
    leaves a partial file, but one copied in by hand or cut short elsewhere is made again: a
    PDF must end with its end-of-file marker."""
    try:
        size = path.stat().st_size
        if path.suffix.lower() != ".pdf":
            return size > 0
        with open(path, "rb") as handle:
            handle.seek(max(0, size - 1024))
            return b"%%EOF" in handle.read()
    except OSError:
        return False

"""Planning a batch run: each input row becomes a task to render, or a record of why not.

Here a row is checked and made a visit; a row that a later revision of the same booking
replaces is marked superseded; a repeat of an earlier row is marked; each handout is given its
file name (a clash takes the row number), never one that is a link, a device or an input; and
with ``skip_existing`` the folder's record of the file already there is handed on, for the
worker to keep it only if it was made from the same row, set and site.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import ParsDocsError, UsageError
from ..handout import Engine
from ..load.library import InstructionSet
from ..plan.timeline import declared_options
from ..read.ehr import booking, superseded, two_patients
from ..read.lookalike import skeleton
from ..read.rows import BadRow, Row, RowResult, Skipped, normalised_header
from ..read.visit import Visit, parse_yes_no, visit_from_row
from ..write.fhir_out import filing_problem
from ..write.names import output_name
from ..write.output import Inputs, refusal
from .folder import FolderState
from .ledger import Record, Status
from .options import Options
from .worker import Task, row_reason, usable_name


@dataclass
class Duplicate:
    """A row that repeats an earlier one; settled after that row, in input order."""

    task: Task
    first: int  # the row it repeats
    same: str = "same patient, procedure and time"  # what makes it a repeat, for its reason


Item = Task | Duplicate | Record


def with_newer(rows: Iterable[RowResult]) -> Iterator[tuple[RowResult, RowResult | None]]:
    """Each row, in input order, with the later revision of its booking that replaces it (or
    None). Rows are passed on as they are read until one says its booking and revision (an
    appointment from a record system, whose input is in memory already); from there the
    rest of the input is read first, to find the newest revision of each booking."""
    iterator = iter(rows)
    for result in iterator:
        if booking(result) is None:
            yield result, None
            continue
        held = [result, *iterator]
        replaced = superseded(held)
        for each in held:
            yield each, replaced.get(each.number)


class Planner:
    """Turns input rows into :class:`Task`, :class:`Duplicate` and :class:`Record` items.

    ``state`` is the output folder's record (what its files were made from); ``inputs`` the
    files the run reads, which no handout may replace."""

    def __init__(
        self,
        options: Options,
        engine: Engine,
        state: FolderState | None = None,
        inputs: Inputs | None = None,
    ):
        self.options = options
        self.engine = engine
        self.state = state
        self.inputs = inputs
        self.claimed: dict[str, int] = {}  # a file name's key → the row that has it (0: the run)
        self.seen: dict[tuple, Task] = {}  # a visit's identity → its first task
        self._option_names: set[str] | None = None  # every set's options, when first needed
        for other in (options.merge, options.manifest, options.bundle_target):
            if (
                other
                and str(other) != "-"
                and options.out_dir
                and _same_folder(Path(other).parent, options.out_dir)
            ):
                self.claimed[_name_key(Path(other).name)] = 0

    def items(self, rows: Iterable[RowResult]) -> Iterator[Item]:
        """One item per row, in input order; with ``fail_fast`` none after a row that cannot
        be made a visit."""
        for result, newer in with_newer(rows):
            if isinstance(newer, BadRow):  # the booking is ambiguous
                item = self._item(newer)
            else:
                item = self._superseded(result, newer) if newer else self._item(result)
            yield item
            if isinstance(item, Record) and item.status is Status.FAILED and self.options.fail_fast:
                return

    def _known_options(self) -> set[str]:
        """Every option some set of the site declares, as column names are compared."""
        if self._option_names is None:
            names: set[str] = set()
            for set_id in self.engine.library.ids():
                try:
                    names.update(declared_options(self.engine.library.get(set_id)))
                except ParsDocsError:
                    continue  # a broken set fails its own rows
            self._option_names = {normalised_header(n) for n in names}
        return self._option_names

    def _with_option_columns(self, visit: Visit, row: Row, iset: InstructionSet) -> Visit:
        """``visit`` with the options the row's columns set: a column named like one of the
        set's declared options (yes/no; empty: the set's default). A column naming another
        set's option, not this one's, is an error naming it; other columns are not read."""
        declared = {normalised_header(n): n for n in declared_options(iset) if n != "sedation"}
        chosen = dict(visit.options)
        for header, value in row.extra.items():
            key = normalised_header(header)
            if key in declared:
                flag = parse_yes_no(value, header)
                if flag is not None:
                    chosen[declared[key]] = flag
            elif key in self._known_options() and key != "sedation":
                names = ", ".join(declared_options(iset)) or "(none)"
                raise UsageError(
                    f"{header}: {iset.id} has no option '{header}'; its options: {names}",
                    field=header,
                )
        if chosen == dict(visit.options):
            return visit
        return dataclasses.replace(visit, options=tuple(sorted(chosen.items())))

    def _failed(self, number: int, error: ParsDocsError, patient: str | None = None) -> Record:
        return Record(
            number,
            Status.FAILED,
            field=error.field,
            reason=row_reason(error, self.options.verbose),
            patient=patient,
        )

    @staticmethod
    def _superseded(result: RowResult, newer: RowResult) -> Record:
        """The record of a row that a later revision of its booking replaces."""
        reason = f"superseded by row {newer.number}, a later revision of the same booking"
        if isinstance(newer, Row):
            reason += "; only that one is made"
        elif isinstance(newer, Skipped):
            reason += f", which gets no handout ({newer.reason})"
        patient = usable_name(result.values.get("patient")) if isinstance(result, Row) else None
        return Record(result.number, Status.SUPERSEDED, reason=reason, patient=patient)

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
        except ParsDocsError as e:
            return self._failed(number, e, usable_name(result.values.get("patient"), e))
        try:
            iset = self.engine.get(visit.procedure)
            visit = self._with_option_columns(visit, result, iset)
        except ParsDocsError as e:
            return self._failed(number, e, usable_name(visit.patient, e))
        fhir = self.options.emit == "fhir"
        refs = result.refs if fhir else None
        unfiled = filing_problem(visit, result.refs) if fhir else None
        if unfiled:
            return self._failed(number, unfiled, usable_name(visit.patient, unfiled))
        # The same booking, or without a visit id the same patient, procedure and time, names
        # compared as a reader sees them: "Аna" with a Cyrillic A is "Ana".
        key: tuple = ("visit", visit.visit_id)
        if not visit.visit_id:
            key = (skeleton(visit.patient), visit.mrn or "", visit.procedure)
            key += (visit.date, visit.time)
        if key in self.seen:
            # A repeat takes its first row's file, should that row fail and it be made.
            first = self.seen[key]
            conflict = two_patients(
                str(visit.visit_id), [_who(first.row, first.visit), _who(number, visit)]
            )
            if visit.visit_id and conflict:
                ambiguous = conflict(number)
                return self._failed(number, ambiguous, usable_name(visit.patient, ambiguous))
            repeat = dataclasses.replace(first, row=number, visit=visit, fhir=fhir, refs=refs)
            same = "same visit id" if visit.visit_id else "same patient, procedure and time"
            return Duplicate(repeat, first.row, same)
        target = self._target(visit, number)
        if target is not None:
            refused = refusal(target, self.inputs)
            if refused:
                # A file name may hold the MRN (or the name): shown only with --verbose.
                error = UsageError(
                    f"output: {target.name} {refused}; not replaced",
                    field="output",
                    redacted=f"output: the row's file in --out-dir {refused}; not replaced",
                )
                return self._failed(number, error, usable_name(visit.patient, error))
        kept = None
        if target is not None and self.options.skip_existing and self.state is not None:
            kept = self.state.made(target.name)
        task = Task(
            number,
            visit,
            str(target) if target else None,
            kept=kept,
            document=bool(self.options.merge),
            paper=self.options.paper,
            rendition=self.options.output_format,
            fhir=fhir,
            refs=refs,
        )
        self.seen[key] = task
        return task

    def _target(self, visit: Visit, number: int) -> Path | None:
        """Where the row's file goes in ``out_dir``. Every name is checked against every name
        this run has claimed (as the file system may compare them: case and Unicode form
        aside): a taken name gets ``-row<N>``, and if that is taken too, a count."""
        if not self.options.out_dir:
            return None
        suffix = self.options.suffix
        name = output_name(self.options.name, visit, number, suffix)
        stem, ending = name[: -len(suffix)], name[-len(suffix) :]
        tail = (f"-row{number}-{n}" for n in itertools.count(2))
        extras = itertools.chain(["", f"-row{number}"], tail)
        candidates = (f"{stem}{extra}{ending}" for extra in extras)
        name = next(c for c in candidates if _name_key(c) not in self.claimed)
        self.claimed[_name_key(name)] = number
        return self.options.out_dir / name


def _name_key(name: str) -> str:
    """A file name as a case-insensitive, normalising file system (macOS, Windows) sees it."""
    return unicodedata.normalize("NFC", name).casefold()


def _same_folder(one: Path, other: Path) -> bool:
    return os.path.realpath(one) == os.path.realpath(other)


def _who(number: int, visit: Visit) -> Row:
    """A row saying only who ``visit`` is for, to compare with another."""
    dob = str(visit.dob) if visit.dob is not None else None
    return Row(number, {"mrn": visit.mrn, "patient": visit.patient, "dob": dob})

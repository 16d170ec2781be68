"""The audit trail: who made, showed, downloaded or printed which handout for whom, and when.

One SQLite file the site names (``audit:``), written through Python's own ``sqlite3``. Each
record holds its number, the time (UTC), the event, the user, where it came from (the desk or
the command line), the instruction set's id and version, the language, the patient's
identifier as the clinic chooses (``audit_patient``), the SHA-256 of the PDF, and the hash
of the record before it: a record changed or removed breaks the chain, which
``pars-docs audit verify`` checks. Triggers refuse UPDATE and DELETE, so the file is
append-only for anything that goes through SQLite's rules.

A record is written, and committed to disk, before the action it records is done: when it
cannot be (a full disk, a locked file), :class:`~pars_docs.errors.AuditError` is raised and
the action is refused.
"""

from .trail import EVENTS, AuditTrail, Entry, command_user, patient_id

__all__ = ["EVENTS", "AuditTrail", "Entry", "command_user", "patient_id"]

"""What every route of the desk shares: the site's engine, the desk's handouts and packets,
who may come in, the audit trail and today's list, held once per application.

Routes find it with :func:`state` (it lives in ``app.extensions``), so each route is a plain
function of its module in ``routes/``, not a closure inside the application factory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import current_app, g, session

from ..audit import patient_id
from .signin import LiveSessions, Throttle

if TYPE_CHECKING:
    from ..audit import AuditTrail
    from ..service.outputs import Engine
    from .accounts import Accounts
    from .desk import Desk, DeskHandout
    from .packets import Packets
    from .schedule import Schedule
    from .today import TodayList

MAX_UPLOAD = 10 * 1024 * 1024  # bytes in one request: a day's list is a few hundred kB


@dataclass
class DeskState:
    """One desk application's parts. ``token`` (if any) must open each session;
    ``allowed_hosts`` (if any) are the only Host headers accepted; with ``accounts`` every
    page needs a signed-in user; with ``audit`` what is made, shown, downloaded and printed is
    recorded there first; with ``today`` each handout made is kept for today's list."""

    engine: Engine
    desk: Desk
    packets: Packets
    token: str | None = None
    allowed_hosts: set[str] | None = None
    accounts: Accounts | None = None
    audit: AuditTrail | None = None
    today: TodayList | None = None
    schedule: Schedule | None = None
    printers: dict[str, Any] = field(default_factory=dict)
    throttle: Throttle = field(default_factory=Throttle)
    live_sessions: LiveSessions = field(default_factory=LiveSessions)

    def user_name(self) -> str:
        account = g.get("account")
        return account.name if account else "(no sign-in)"

    def may_see(self, owner: str) -> bool:
        """Whether this session may fetch what the session ``owner`` made."""
        if owner and owner == session.get("sid"):
            return True
        account = g.get("account")
        return bool(account and account.may("everyone"))

    def sees_clinic(self) -> bool:
        """Whether this user's list is the clinic's (a scheduler's, an admin's, or anyone's
        at a desk without sign-in), not only their own."""
        account = g.get("account")
        return account is None or account.role in ("scheduler", "admin")

    def mine(self, key: str) -> DeskHandout | None:
        """The handout ``key`` if this session may see it, else None."""
        made = self.desk.get(key)
        return made if made is not None and self.may_see(made.owner) else None

    def record(self, event: str, made: DeskHandout | None = None, **given: Any) -> None:
        """Write ``event`` to the audit trail, if the site keeps one, before answering."""
        audit = self.audit
        if audit is None:
            return
        if made is not None and made.visit is not None and made.handout is not None:
            handout = made.handout
            given = {
                "set_id": handout.instruction_set.id,
                "set_version": handout.instruction_set.version,
                "language": handout.language,
                "patient": patient_id(made.visit, audit.patient_rule),
                "pdf": made.pdf,
                **given,
            }
        audit.record(event, self.user_name(), **given)


def state() -> DeskState:
    """The desk of the application answering this request."""
    return current_app.extensions["pars_docs"]["state"]

"""``pars-docs listen``: a long-running HL7 v2 interface on MLLP.

Scheduling systems send SIU^S12–S15 messages in MLLP frames (``<VT> message <FS><CR>``). Each is
read with the same rules as ``batch`` (:mod:`pars_docs.read.hl7v2`), made into a handout by one
warm :class:`~pars_docs.handout.Engine`, and answered with an HL7 ACK:

- ``AA`` when the handout is made, or the message rightly gets none (a cancellation, a past
  appointment), with the reason in MSA-3;
- ``AE`` with an ERR segment naming the field (ERR-2, such as ``PID^1^5``) when the message is
  an SIU that cannot be made into a handout;
- ``AR`` when the message is not one this interface takes (not SIU, or unreadable).

Each new PDF may be sent back as an MDM^T02 (TXA, OBX-5 the PDF as encapsulated data in
base64) to an MLLP destination, and/or written to a folder. A record of every message answered
(by sender and MSH-10 control id) is kept in a SQLite file, so a message sent again, even after
a restart, gets its first answer and no second handout.
"""

from __future__ import annotations

from .server import Listener, ListenerOptions

__all__ = ["Listener", "ListenerOptions"]

"""The clock every stage reads: when an output was made, and "now" on a site's clock.

Both come from one place so that one variable, ``SOURCE_DATE_EPOCH``, makes every rendition
repeatable: the PDF's dates, the calendar's stamps, the FHIR documents and the too-late checks.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from .errors import UsageError

UTC = timezone.utc


def build_time() -> datetime:
    """When this output was made: ``SOURCE_DATE_EPOCH`` if set (reproducible builds), else now.

    Every rendition stamps its date from here, so one variable makes all of them repeatable.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError, OSError) as e:
        raise UsageError(
            f"SOURCE_DATE_EPOCH: '{epoch}' is not a whole number of seconds since 1970",
            field="SOURCE_DATE_EPOCH",
        ) from e


def reproducible() -> bool:
    """Whether outputs must be byte-for-byte repeatable (``SOURCE_DATE_EPOCH`` is set)."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").strip():
        build_time()  # refuse a malformed value before anything is made
        return True
    return False


def current_time(tz: ZoneInfo, as_of: datetime | None = None) -> datetime:
    """ "Now" on the site's clock: ``as_of`` (a naive value is read on the site's clock), else
    ``SOURCE_DATE_EPOCH``, else the real time."""
    if as_of is None:
        return build_time().astimezone(tz)
    if as_of.tzinfo is None:
        return as_of.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
    return as_of.astimezone(tz)

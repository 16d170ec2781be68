"""The site profile: which clinic, which time zone, which paper, which overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import SiteError
from .loader import load_yaml
from .resources import instructions_dir
from .validate import schema_problems

ENV_VAR = "PARS_DOCS_SITE"
LOGO_TYPES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class Site:
    """A clinic's settings, with every path resolved and the time zone loaded."""

    name: str
    phone: str
    after_hours_phone: str
    address: str
    tz: ZoneInfo
    paper: str = "letter"
    language: str = "en"
    logo: Path | None = None
    instructions_dir: Path | None = None
    templates_dir: Path | None = None
    path: Path | None = field(default=None, compare=False)

    @property
    def timezone(self) -> str:
        return self.tz.key


def local_zone_name() -> str:
    """This computer's IANA zone name, from ``TZ`` or ``/etc/localtime``; UTC if unknown."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    try:
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    except OSError:
        pass
    for name in candidates:
        if name:
            try:
                return ZoneInfo(name).key
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return "UTC"


def load_site(path: str | os.PathLike | None = None) -> Site:
    """Load the profile at ``path``, else ``$PARS_DOCS_SITE``, else the built-in default."""
    if path is None:
        path = os.environ.get(ENV_VAR) or None
    chosen = Path(path) if path else instructions_dir() / "default-site.yaml"
    loaded = load_yaml(chosen, SiteError)
    problems = schema_problems(loaded, "site.schema.json")
    if problems:
        raise SiteError("; ".join(problems))
    data = loaded.data
    base = chosen.resolve().parent
    zone_name = data["timezone"]
    if zone_name == "local":
        zone_name = local_zone_name()
    try:
        tz = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise SiteError(
            f"{loaded.where(('timezone',))}: timezone: unknown time zone "
            f"'{zone_name}' (use an IANA name such as America/Chicago)",
            field="timezone",
        ) from e

    def folder(key: str) -> Path | None:
        if key not in data:
            return None
        resolved = base / data[key]
        if not resolved.is_dir():
            raise SiteError(
                f"{loaded.where((key,))}: {key}: folder not found: {resolved}", field=key
            )
        return resolved

    logo = None
    if data.get("logo"):
        logo = base / data["logo"]
        if not logo.is_file():
            raise SiteError(
                f"{loaded.where(('logo',))}: logo: file not found: {logo}", field="logo"
            )
        if logo.suffix.lower() not in LOGO_TYPES:
            raise SiteError(
                f"{loaded.where(('logo',))}: logo: use a PNG or JPEG image", field="logo"
            )
    clinic = data["clinic"]
    return Site(
        name=clinic.get("name", "").strip(),
        phone=clinic.get("phone", "").strip(),
        after_hours_phone=clinic.get("after_hours_phone", "").strip(),
        address=clinic.get("address", "").strip(),
        tz=tz,
        paper=data.get("paper", "letter"),
        language=data.get("language", "en"),
        logo=logo,
        instructions_dir=folder("instructions_dir"),
        templates_dir=folder("templates_dir"),
        path=chosen,
    )

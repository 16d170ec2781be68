"""The site profile: which clinic, which time zone, which paper, which overrides."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .. import startup_cache
from ..errors import SiteError, UsageError
from ..resources import package_dir
from .loader import load_yaml
from .validate import schema_problems

ENV_VAR = "PARS_DOCS_SITE"
KEY_VAR = "PARS_DOCS_CALENDAR_KEY"
MIN_KEY = 16  # characters of a calendar key
DEFAULT_SITE = package_dir() / "default-site.yaml"
SITE_SCHEMA = package_dir() / "site.schema.json"
LOGO_TYPES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class Printer:
    """A CUPS queue the desk may send handouts to."""

    queue: str
    name: str
    duplex: bool = False


@dataclass(frozen=True)
class MrnRule:
    """Which identifier is the medical record number: any that has this system, type code or
    type text (compared without case). The default knows HL7's ``MR`` code and "MRN"."""

    system: str | None = None
    type_code: str | None = "MR"
    type_text: str | None = "MRN"

    def matches(self, system: str | None, codes: set[str], text: str | None) -> bool:
        if self.system and system == self.system:
            return True
        if self.type_code and self.type_code in codes:
            return True
        folded = (text or "").strip().casefold()
        return bool(self.type_text and folded == self.type_text.casefold())


@dataclass(frozen=True)
class Site:
    """A clinic's settings, with every path resolved and the time zone loaded."""

    name: str
    phone: str
    after_hours_phone: str
    address: str
    tz: ZoneInfo
    paper: str = "letter"
    language: str = "en"  # the default language of a handout (a BCP 47 tag)
    # Used instead of a patient's language that has no translation (batch only); "" for none.
    fallback_language: str = ""
    also_language: str = ""  # a second language every handout is also printed in; "" for none
    clock: int = 12  # 12 or 24: how times of day are written
    logo: Path | None = None
    instructions_dir: Path | None = None
    templates_dir: Path | None = None
    procedure_codes: Path | None = None
    pdfa: bool = False  # write PDF/A-2b, for archiving
    large_print: bool = False  # body 18 pt unless a visit says otherwise
    clinicians: tuple[str, ...] = ()  # offered by the web form; any name may still be given
    path: Path | None = field(default=None, compare=False)
    mrn_rule: MrnRule = field(default_factory=MrnRule)
    appointment_notes: bool = False
    reminder_time: time = time(8, 0)
    unknown_medicines: str = "error"  # or "ask"
    names_as_sent: bool = False  # print feed names as sent: no "Last, First" reordering or case
    # HL7 v2 assigning authority -> the identifier system URI written back and matched.
    identifier_systems: tuple[tuple[str, str], ...] = ()
    # Where `pars-docs listen` listens ("HOST:PORT"); "" for loopback, port 2575.
    listen_address: str = ""
    # `pars-docs listen` over TLS: its certificate, key and the client CAs it accepts
    # (resolved against the profile's folder), or None.
    listen_tls: tuple[Path, Path, Path] | None = None
    # The clinic's FHIR server (its base URL; "" for none): the desk's schedule, and the
    # token file and vendor profile --fhir-server uses when given this URL.
    fhir_vendor: str = ""  # a built-in vendor profile, or a profile file (resolved)
    wound_check_days: int | None = None
    # The days of the week the clinic is open (Monday 0) and the dates it is closed anyway.
    clinic_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    closed_dates: frozenset[date] = frozenset()
    # The clinic's secret for calendar UIDs (calendar_key_file or $PARS_DOCS_CALENDAR_KEY).
    calendar_key: bytes | None = field(default=None, repr=False)
    accounts: Path | None = None  # the desk's accounts file: sign-in is on when it is named
    session_idle_minutes: int = 15
    # The clinic's own review of a language's translations: (language, reviewer, date).
    translation_reviews: tuple[tuple[str, str, str], ...] = ()
    audit: Path | None = None  # the audit trail's SQLite file
    audit_patient: str = "mrn"  # or "name_dob"
    today: Path | None = None  # the desk's kept handouts (SQLite), encrypted with today_key
    today_key: Path | None = None
    today_keep_hours: int | None = None  # None: until the end of the day
    printers: tuple[Printer, ...] = ()  # CUPS queues the desk offers
    fhir_server: str = ""  # the FHIR server whose schedule fills the desk's form
    fhir_token_file: Path | None = None  # its bearer token (else $PARS_DOCS_FHIR_TOKEN)
    # True when the zone is this computer's (``timezone: local``), not one the clinic named.
    zone_from_machine: bool = False
    # The clinic's own paragraphs for every handout: (place, ((language, text), ...)).
    slots: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    def slot(self, name: str, language: str) -> str | None:
        """The site's paragraph for the place ``name`` in ``language``; ``None`` when it
        gives none there; a :class:`SiteError` when it gives one, but not in ``language``
        (a handout is never half in another language)."""
        for place, texts in self.slots:
            if place == name:
                found = dict(texts)
                if language not in found:
                    raise SiteError(
                        f"site slots.{name}: no '{language}' wording (it has "
                        f"{', '.join(found)}); add it, so handouts in {language} can print",
                        field="slots",
                    )
                return found[language]
        return None

    @property
    def is_default(self) -> bool:
        return self.path == DEFAULT_SITE

    @property
    def timezone(self) -> str:
        return self.tz.key

    @property
    def unchosen_zone(self) -> bool:
        """True when the clock is this computer's and it names no place (UTC, ``Etc/*``, or
        a zone that could not be found): a clinic's clock times would print wrong."""
        return self.zone_from_machine and not is_place_zone(self.timezone)


def is_place_zone(name: str) -> bool:
    """True for a zone named after a place (America/Chicago), not UTC, ``Etc/*`` or a rule."""
    return "/" in name and not name.startswith("Etc/")


MAX_LOGO_PIXELS = 4_000_000  # 2000 × 2000: over 6 inches wide at 300 dpi
MAX_LOGO_BYTES = 5 << 20


def _logo_problem(path: Path) -> str | None:
    """Why the logo cannot be printed, or None. Its size is read from the header and checked
    before any pixel is decoded (a 144-megapixel image would take over a gigabyte for each
    handout); then it is decoded once, so a truncated file fails here and not mid-batch."""
    from PIL import Image, UnidentifiedImageError

    if path.suffix.lower() not in LOGO_TYPES:
        return "use a PNG or JPEG image"
    try:
        if path.stat().st_size > MAX_LOGO_BYTES:
            return f"the file is over {MAX_LOGO_BYTES >> 20} MB; use a smaller image"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
            with Image.open(path) as image:
                if image.format not in ("PNG", "JPEG"):
                    return "use a PNG or JPEG image"
                width, height = image.size
                if width * height > MAX_LOGO_PIXELS:
                    return (
                        f"the image is {width} × {height} pixels; use one of at most "
                        f"{MAX_LOGO_PIXELS // 1_000_000} million pixels (such as 1200 × 400)"
                    )
                image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError):
        return "use a PNG or JPEG image"
    except (OSError, ValueError, SyntaxError) as e:  # PIL reports a broken file these ways
        return f"the image cannot be read ({e}); save it again as PNG or JPEG"
    return None


def check_zone(name: str) -> ZoneInfo:
    """An IANA zone named for a place. Abbreviations such as EST are fixed offsets without
    daylight-saving rules, which would put every time an hour off for half the year."""
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise SiteError(
            f"timezone: unknown time zone '{name}' (use an IANA name such as America/Chicago)",
            field="timezone",
        ) from e
    if name.startswith(("right/", "posix/", "/")):
        # right/… zones count leap seconds, so every clock time is off by about half a
        # minute; posix/… are copies. Neither is what a clinic means.
        raise SiteError(
            f"timezone: '{name}' is not a plain IANA zone name; use one such as America/Chicago",
            field="timezone",
        )
    if "/" not in name and name not in ("UTC", "GMT"):
        raise SiteError(
            f"timezone: '{name}' is an abbreviation without daylight-saving "
            f"rules; use a place name such as America/New_York",
            field="timezone",
        )
    return zone


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
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    return "UTC"


def _relative(loaded, base: Path, key: str, kind: str) -> Path | None:
    """The ``file`` or ``folder`` named by ``key``, relative to the profile; it must exist."""
    if key not in loaded.data:
        return None
    path = base / loaded.data[key]
    if not (path.is_dir() if kind == "folder" else path.is_file()):
        raise SiteError(f"{loaded.where((key,))}: {key}: {kind} not found: {path}", field=key)
    return path


def load_site(path: str | os.PathLike | None = None) -> Site:
    """Load the profile at ``path``, else ``$PARS_DOCS_SITE``, else the built-in default."""
    origin = "--site"
    if path is None:
        path = os.environ.get(ENV_VAR) or None
        origin = ENV_VAR
    chosen = Path(path) if path else DEFAULT_SITE
    if path and not chosen.is_file():
        raise UsageError(f"site: {chosen}: no such file (named by {origin})", field="site")
    loaded = load_yaml(chosen, SiteError)
    check = startup_cache.key("site profile", loaded.text)
    if not startup_cache.passed(check):  # unchanged since it last passed (see startup_cache.py)
        problems = schema_problems(loaded, SITE_SCHEMA) or _slot_problems(loaded)
        if problems:
            raise SiteError("; ".join(problems))
        startup_cache.remember(check)
    data = loaded.data
    base = chosen.resolve().parent
    zone_name = data["timezone"]
    from_machine = zone_name == "local"
    if from_machine:
        zone_name = local_zone_name()
    try:
        tz = check_zone(zone_name)
    except SiteError as e:
        raise SiteError(f"{loaded.where(('timezone',))}: {e}", field="timezone") from e
    logo = _relative(loaded, base, "logo", "file")
    logo_problem = _logo_problem(logo) if logo else None
    if logo_problem:
        raise SiteError(f"{loaded.where(('logo',))}: logo: {logo_problem}", field="logo")
    clinic = data["clinic"]
    key = _calendar_key(loaded, _relative(loaded, base, "calendar_key_file", "file"))
    return Site(
        name=clinic.get("name", "").strip(),
        phone=clinic.get("phone", "").strip(),
        after_hours_phone=clinic.get("after_hours_phone", "").strip(),
        address=clinic.get("address", "").strip(),
        tz=tz,
        paper=data.get("paper", "letter"),
        language=data.get("language", "en"),
        fallback_language=data.get("fallback_language", ""),
        also_language=data.get("also_language", ""),
        clock=int(data.get("clock", 12)),
        logo=logo,
        instructions_dir=_relative(loaded, base, "instructions_dir", "folder"),
        templates_dir=_relative(loaded, base, "templates_dir", "folder"),
        procedure_codes=_relative(loaded, base, "procedure_codes", "file"),
        pdfa=bool(data.get("pdfa", False)),
        large_print=bool(data.get("large_print", False)),
        clinicians=tuple(name.strip() for name in data.get("clinicians", [])),
        path=chosen,
        mrn_rule=_mrn_rule(data.get("mrn_identifier")),
        appointment_notes=bool(data.get("appointment_notes", False)),
        reminder_time=time.fromisoformat(data.get("reminder_time", "08:00")),
        unknown_medicines=data.get("unknown_medicines", "error"),
        names_as_sent=bool(data.get("names_as_sent", False)),
        identifier_systems=tuple(sorted(data.get("identifier_systems", {}).items())),
        listen_address=data.get("listen_address", ""),
        listen_tls=_listen_tls(data.get("listen_tls"), base),
        fhir_vendor=_vendor(data.get("fhir_vendor", ""), base),
        wound_check_days=data.get("wound_check_days"),
        clinic_days=tuple(sorted(WEEKDAYS.index(d) for d in data["clinic_days"]))
        if "clinic_days" in data
        else (0, 1, 2, 3, 4),
        closed_dates=frozenset(_dates(loaded, data.get("closed_dates", []))),
        calendar_key=key,
        accounts=base / data["accounts"] if "accounts" in data else None,
        session_idle_minutes=int(data.get("session_idle_minutes", 15)),
        translation_reviews=tuple(
            (tag, str(r["reviewer"]), str(r["date"]))
            for tag, r in sorted(data.get("translation_reviews", {}).items())
        ),
        audit=base / data["audit"] if "audit" in data else None,
        audit_patient=data.get("audit_patient", "mrn"),
        today=base / data["today"] if "today" in data else None,
        today_key=base / data["today_key"] if "today_key" in data else None,
        today_keep_hours=data.get("today_keep_hours"),
        fhir_server=data.get("fhir_server", ""),
        fhir_token_file=base / data["fhir_token_file"] if "fhir_token_file" in data else None,
        printers=tuple(
            Printer(p["queue"], p.get("name", p["queue"]), bool(p.get("duplex", False)))
            for p in data.get("printers", [])
        ),
        zone_from_machine=from_machine,
        slots=tuple(
            (name, tuple((lang, " ".join(text.split())) for lang, text in texts.items()))
            for name, texts in (data.get("slots") or {}).items()
        ),
    )


def _slot_problems(loaded) -> list[str]:
    """The site's paragraphs name the page template's places, and type no number that
    belongs in a set's timing, nor a template tag (they are printed as written)."""
    # Only when a changed profile is checked: a start does without these modules.
    from .checks import typed_number
    from .structure import slot_names
    from .validate import problem

    found = []
    names = slot_names()
    for name, texts in (loaded.data.get("slots") or {}).items():
        if name not in names:
            found.append(
                problem(loaded, ("slots", name), f"no such place (places: {', '.join(names)})")
            )
            continue
        for language, text in texts.items():
            field = ("slots", name, language)
            if "{" in text or "}" in text:
                found.append(problem(loaded, field, "is printed as written: no { or }"))
            typed = typed_number(text)
            if typed:
                found.append(problem(loaded, field, typed))
    return found


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _dates(loaded, values: list[str]) -> list[date]:
    """``closed_dates`` as days; a date that does not exist is one line naming it."""
    out = []
    for n, value in enumerate(values):
        try:
            out.append(date.fromisoformat(value))
        except ValueError as e:
            raise SiteError(
                f"{loaded.where(('closed_dates', n))}: closed_dates[{n}]: {value!r} is not a "
                "date (YYYY-MM-DD)",
                field="closed_dates",
            ) from e
    return out


def _listen_tls(setting: dict | None, base: Path) -> tuple[Path, Path, Path] | None:
    """The listener's certificate, key and client CAs, resolved against the profile."""
    if not setting:
        return None
    return base / setting["cert"], base / setting["key"], base / setting["client_ca"]


def _vendor(name: str, base: Path) -> str:
    """A built-in vendor profile's name as it is; a profile file's path resolved against the
    site profile's folder."""
    if not name or "/" not in name and not name.endswith((".yaml", ".yml")):
        return name
    return str(base / name)


def _calendar_key(loaded, path: Path | None) -> bytes | None:
    """The clinic's calendar key: the file the profile names, else ``$PARS_DOCS_CALENDAR_KEY``;
    None if neither is given. A short key is refused: it could be guessed."""
    if path is not None:
        try:
            text = path.read_bytes()[:4096].strip()
        except OSError as e:
            raise SiteError(
                f"{loaded.where(('calendar_key_file',))}: calendar_key_file: cannot read "
                f"({e.strerror})",
                field="calendar_key_file",
            ) from e
        where = f"{loaded.where(('calendar_key_file',))}: calendar_key_file"
    else:
        text = os.environ.get(KEY_VAR, "").strip().encode("utf-8")
        where = f"${KEY_VAR}"
        if not text:
            return None
    if len(text) < MIN_KEY:
        raise SiteError(
            f"{where}: the key is shorter than {MIN_KEY} characters; use a long random one "
            "(such as the output of: openssl rand -hex 32)",
            field="calendar_key_file",
        )
    return text


def _mrn_rule(setting: dict | None) -> MrnRule:
    """The site's rule; naming any one part of it replaces the whole default."""
    if not setting:
        return MrnRule()
    return MrnRule(setting.get("system"), setting.get("type_code"), setting.get("type_text"))

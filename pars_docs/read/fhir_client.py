"""A small FHIR R4 REST client: read and search a server (the schedule, a patient's chart) and
create resources on it (the handouts' DocumentReferences), with a bearer token, safe retries
and every answer kept.

The API, for the CLI's ``--fhir-server`` and the desk's "fill from the schedule"::

    from pars_docs.read.fhir_client import FhirClient, load_token

    client = FhirClient("https://ehr.example/fhir/R4", token=load_token(token_file=None))
    patient = client.read("Patient", "p1")                     # dict; FhirServerError if not
    for appointment in client.search("Appointment", {"date": ["ge2026-12-03", "lt2026-12-05"]}):
        ...                                                   # every page, `next` followed
    bundle = client.schedule(date(2026, 12, 3), date(2026, 12, 4), practitioner="Practitioner/d1")
    client = FhirClient.for_site(site)     # the site's fhir_server and fhir_token_file, or None
    # a collection Bundle: the Appointments, their Patients, Practitioners and the patients'
    # MedicationRequests and MedicationStatements, for pars_docs.read.fhir as any file
    answer = client.create(resource, if_none_exist="identifier=urn:ietf:rfc:3986|urn:uuid:…")
    answer.status, answer.location, answer.id, answer.outcome    # 201 / 200 (already there)

- ``token``: sent as ``Authorization: Bearer …``. :func:`load_token` reads it from a file or
  the environment (``PARS_DOCS_FHIR_TOKEN``), never from the command line. A token is never
  sent over plain ``http`` except to a loopback address, and never to another host: redirects
  are not followed.
- Retries: a request is sent again after a lost connection, a timeout, or a 408, 429, 500,
  502, 503 or 504 answer, only when sending it twice cannot do anything twice: a read or
  search, a conditional create (``If-None-Exist``), or a transaction whose every entry is one
  of those. At most ``retries`` times, waiting ``backoff`` × 2ⁿ seconds (or the server's
  ``Retry-After``, up to ``max_wait``). Any other request is sent once.
- Every answer, success or not, is an :class:`Answer` (status, ``Location``, id, version, the
  OperationOutcome's text, how many attempts). ``create`` and ``transaction`` return it for
  any HTTP status; ``read`` and ``search`` raise :class:`FhirServerError` for a failure.
"""

from __future__ import annotations

import ipaddress
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.client import HTTPException
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataError, UsageError

if TYPE_CHECKING:
    from ..load.site import Site

TOKEN_ENV = "PARS_DOCS_FHIR_TOKEN"
FHIR_JSON = "application/fhir+json"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_TOKEN_BYTES = 8192
MAX_PAGES = 200  # a search is never followed past this many pages
PEOPLE = ("Patient", "Practitioner", "PractitionerRole")  # an appointment's actors read


class FhirServerError(DataError):
    """Raised when a FHIR server cannot be reached, or answers a read or search with an
    error; ``answer`` holds what it said, if anything."""

    def __init__(self, message: str, answer: Answer | None = None, **kwargs: Any):
        super().__init__(message, field=kwargs.pop("field", "fhir_server"), **kwargs)
        self.answer = answer


@dataclass
class Answer:
    """What a server said to one request (after any retries)."""

    status: int | None  # None: no answer at all (connection refused, dropped, timed out)
    location: str | None = None
    resource: dict | None = field(default=None, repr=False)
    outcome: str | None = None  # the OperationOutcome's issues, as text
    attempts: int = 1
    error: str | None = None  # why there was no answer

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def id(self) -> str | None:
        """The resource's ``Type/id`` on the server, from ``Location`` or the body."""
        if self.location:
            return reference_of(self.location)
        if self.resource and self.resource.get("id"):
            return f"{self.resource.get('resourceType')}/{self.resource['id']}"
        return None

    def summary(self) -> str:
        """One line: ``201 DocumentReference/abc``, ``422: <outcome>``, ``no answer: …``."""
        if self.status is None:
            return f"no answer: {self.error}"
        text = str(self.status)
        if self.id:
            text += f" {self.id}"
        if self.outcome and not self.ok:
            text += f": {self.outcome}"
        return text

    def as_dict(self) -> dict:
        """The answer for a manifest line."""
        return {
            "status": self.status,
            "location": self.location,
            "id": self.id,
            "outcome": self.outcome,
            "attempts": self.attempts,
        }


def reference_of(location: str) -> str | None:
    """``Type/id`` from a ``Location`` (``…/DocumentReference/abc/_history/2``)."""
    parts = urllib.parse.urlsplit(location).path.strip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return f"{parts[-2]}/{parts[-1]}"
    return None


def outcome_text(resource: Any) -> str | None:
    """The issues of an OperationOutcome as one line (``error: Missing required property
    (DocumentReference.content)``), or ``None`` for anything else."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "OperationOutcome":
        return None
    lines = []
    for issue in resource.get("issue") or []:
        if not isinstance(issue, dict):
            continue
        details = issue.get("details")
        details = details if isinstance(details, dict) else {}
        text = details.get("text") or issue.get("diagnostics") or issue.get("code") or "?"
        where = issue.get("expression") or issue.get("location")
        if isinstance(where, list) and where:
            text = f"{text} ({', '.join(str(w) for w in where)})"
        lines.append(f"{issue.get('severity', 'error')}: {text}")
    return "; ".join(lines) or None


def load_token(token_file: str | Path | None = None, env: dict | None = None) -> str | None:
    """The bearer token: the text of ``token_file`` (a regular file of at most 8 KB, one
    line), else the ``PARS_DOCS_FHIR_TOKEN`` environment variable, else ``None``."""
    environ = os.environ if env is None else env
    if token_file is not None:
        path = Path(token_file)
        try:
            if not path.is_file():
                raise UsageError(
                    f"--fhir-token-file: {path} is not a regular file", field="fhir_token_file"
                )
            with path.open("rb") as f:
                raw = f.read(MAX_TOKEN_BYTES + 1)
        except OSError as e:
            raise UsageError(
                f"--fhir-token-file: cannot read {path} ({e.strerror or e})",
                field="fhir_token_file",
            ) from e
        if len(raw) > MAX_TOKEN_BYTES:
            raise UsageError(
                f"--fhir-token-file: {path} is over {MAX_TOKEN_BYTES} bytes; it should hold "
                "only the token",
                field="fhir_token_file",
            )
        token = raw.decode("utf-8", "replace").strip()
        source = f"--fhir-token-file: {path}"
    else:
        token = (environ.get(TOKEN_ENV) or "").strip()
        source = TOKEN_ENV
        if not token:
            return None
    if not token or any(c.isspace() or ord(c) < 0x21 or ord(c) > 0x7E for c in token):
        raise UsageError(
            f"{source}: the token must be one line of printable ASCII with no spaces",
            field="fhir_token_file",
        )
    return token


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not followed: a token must not travel to another host, and
    a POST must not turn into a GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class FhirClient:
    """One FHIR server's REST API (JSON, R4). See the module's docstring."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"--fhir-server: '{base_url}' is not an http(s) URL of a FHIR server's base",
                field="fhir_server",
            )
        if parts.query or parts.fragment:
            raise UsageError(
                f"--fhir-server: '{base_url}' has a query or fragment; give the server's base",
                field="fhir_server",
            )
        if token and parts.scheme == "http" and not is_loopback(parts.hostname):
            raise UsageError(
                f"--fhir-server: a token is never sent over plain http to {parts.hostname}; "
                "use https",
                field="fhir_server",
            )
        if retries < 0 or retries > 10:
            raise UsageError("--fhir-retries: give 0 to 10", field="fhir_retries")
        self.base = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self._opener = urllib.request.build_opener(_NoRedirects)

    @classmethod
    def for_site(cls, site: Site, **kwargs: Any) -> FhirClient | None:
        """A client for the site profile's ``fhir_server`` with its ``fhir_token_file`` (else
        ``$PARS_DOCS_FHIR_TOKEN``), or ``None`` when the site names no server."""
        if not site.fhir_server:
            return None
        token_file = site.fhir_token_file
        return cls(site.fhir_server, token=load_token(token_file), **kwargs)

    # --- requests ---------------------------------------------------------------------

    def url(self, path: str, params: dict | list | None = None) -> str:
        """The absolute URL of ``path`` under the base, with ``params`` as a query (a list
        value repeats its name: ``date=ge…&date=lt…``)."""
        url = f"{self.base}/{path.lstrip('/')}" if path else self.base
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True, safe="|:,")
        return url

    def request(
        self,
        method: str,
        url: str,
        body: dict | None = None,
        headers: dict | None = None,
        *,
        retry: bool | None = None,
    ) -> Answer:
        """Send one request (``url`` absolute, or a path under the base) and return the
        server's :class:`Answer`. ``retry``: whether it may be sent again (default: only
        for GET)."""
        if not urllib.parse.urlsplit(url).scheme:
            url = self.url(url)
        self._check_same_server(url)
        retry = method == "GET" if retry is None else retry
        sent = dict(headers or {})
        sent.setdefault("Accept", FHIR_JSON)
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            sent["Content-Type"] = f"{FHIR_JSON}; charset=utf-8"
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        attempts = 0
        while True:
            attempts += 1
            answer, wait = self._send(method, url, data, sent)
            answer.attempts = attempts
            transient = answer.status is None or answer.status in RETRY_STATUSES
            if not (retry and transient and attempts <= self.retries):
                return answer
            self.sleep(
                min(wait if wait is not None else self.backoff * 2 ** (attempts - 1), self.max_wait)
            )

    def _check_same_server(self, url: str) -> None:
        """A URL the server handed back (a ``next`` link) must be on the same server: the
        token goes nowhere else."""
        mine, theirs = urllib.parse.urlsplit(self.base), urllib.parse.urlsplit(url)
        if (theirs.scheme, theirs.netloc) != (mine.scheme, mine.netloc):
            raise FhirServerError(
                f"fhir server: a link to {theirs.scheme}://{theirs.netloc} is not on "
                f"{mine.scheme}://{mine.netloc}; not followed"
            )

    def _send(
        self, method: str, url: str, data: bytes | None, headers: dict
    ) -> tuple[Answer, float | None]:
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return self._answer(response.status, response.headers, response.read()), None
        except urllib.error.HTTPError as e:
            try:
                payload = e.read()
            except (OSError, HTTPException):
                payload = b""
            return self._answer(e.code, e.headers, payload), _retry_after(e.headers)
        except (TimeoutError, urllib.error.URLError, OSError, HTTPException) as e:
            reason = getattr(e, "reason", None) or e
            return Answer(status=None, error=_reason(reason)), None

    @staticmethod
    def _answer(status: int, headers: Any, payload: bytes) -> Answer:
        resource = None
        if payload:
            try:
                resource = json.loads(payload.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                resource = None
        location = headers.get("Location") or headers.get("Content-Location") if headers else None
        outcome = outcome_text(resource)
        if resource is None and payload and not 200 <= status < 300:
            outcome = payload[:200].decode("utf-8", "replace").strip() or None
        return Answer(status=status, location=location, resource=resource, outcome=outcome)

    # --- the interactions ---------------------------------------------------------------

    def read(self, resource_type: str, id: str) -> dict:
        """The resource ``resource_type/id``; :class:`FhirServerError` if the server does
        not give it."""
        answer = self.request("GET", f"{resource_type}/{urllib.parse.quote(id, safe='')}")
        return self._resource(answer, f"read {resource_type}/{id}")

    def search_pages(self, resource_type: str, params: dict | list | None = None) -> Iterator[dict]:
        """Each searchset Bundle of a search, following ``next`` links (at most 200 pages)."""
        url = self.url(resource_type, params)
        for _ in range(MAX_PAGES):
            bundle = self._resource(self.request("GET", url), f"search {resource_type}")
            if bundle.get("resourceType") != "Bundle":
                raise FhirServerError(
                    f"fhir server: search {resource_type} did not answer a Bundle"
                )
            yield bundle
            link_url = next(
                (
                    link.get("url")
                    for link in bundle.get("link") or []
                    if isinstance(link, dict) and link.get("relation") == "next"
                ),
                None,
            )
            if not isinstance(link_url, str) or not link_url:
                return
            url = link_url

    def search(self, resource_type: str, params: dict | list | None = None) -> Iterator[dict]:
        """Every resource a search matches (its ``match`` entries, not its includes)."""
        for bundle in self.search_pages(resource_type, params):
            for entry in bundle.get("entry") or []:
                resource = entry.get("resource") if isinstance(entry, dict) else None
                mode = (entry.get("search") or {}).get("mode", "match")
                if isinstance(resource, dict) and mode == "match":
                    yield resource

    def create(self, resource: dict, if_none_exist: str | None = None) -> Answer:
        """POST ``resource``; with ``if_none_exist`` a conditional create (the server makes
        it only if no resource matches), which is safe to retry. Any status is returned."""
        headers = {"If-None-Exist": if_none_exist} if if_none_exist else {}
        return self.request(
            "POST", resource["resourceType"], resource, headers, retry=bool(if_none_exist)
        )

    def transaction(self, bundle: dict) -> Answer:
        """POST a transaction or batch Bundle to the base. Retried only when every entry is
        a read or a conditional create."""
        safe = all(
            isinstance(e, dict)
            and (
                (e.get("request") or {}).get("method") == "GET"
                or (
                    (e.get("request") or {}).get("method") == "POST"
                    and (e.get("request") or {}).get("ifNoneExist")
                )
            )
            for e in bundle.get("entry") or []
        )
        return self.request("POST", self.base, bundle, retry=safe)

    def _resource(self, answer: Answer, what: str) -> dict:
        if answer.ok and isinstance(answer.resource, dict):
            return answer.resource
        raise FhirServerError(f"fhir server: {what}: {answer.summary()}", answer=answer)

    # --- the schedule ---------------------------------------------------------------------

    def schedule(
        self,
        first: date,
        last: date | None = None,
        *,
        practitioner: str | None = None,
        medicines: bool = True,
    ) -> dict:
        """The appointments from ``first`` to ``last`` (whole days, the server's reading of
        the dates), with what pars-docs needs to make their handouts, as one ``collection``
        Bundle that :mod:`pars_docs.read.fhir` reads like a file: each Appointment, the
        Patients and Practitioners (or PractitionerRoles) it names, and with ``medicines``
        each patient's MedicationRequests and MedicationStatements. ``practitioner``
        (``Practitioner/id``) keeps only that clinician's appointments. Referenced
        resources are read one by one, so a server without ``_include`` works too."""
        last = last or first
        params: list[tuple[str, str]] = [
            ("date", f"ge{first.isoformat()}"),
            ("date", f"lt{(last + timedelta(days=1)).isoformat()}"),
        ]
        if practitioner:
            params.append(("actor", practitioner))
        appointments = list(self.search("Appointment", params))
        resources: dict[str, dict] = {f"Appointment/{a.get('id')}": a for a in appointments}
        self._participants(appointments, resources)
        if medicines:
            self._medicines(resources)
        return {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": self.url(ref), "resource": resource}
                for ref, resource in resources.items()
            ],
        }

    def _participants(self, appointments: list[dict], resources: dict[str, dict]) -> None:
        """Read the Patients, Practitioners and PractitionerRoles (and their Practitioners)
        the appointments name into ``resources``."""
        wanted: list[str] = []
        for appointment in appointments:
            for participant in appointment.get("participant") or []:
                ref = ((participant or {}).get("actor") or {}).get("reference")
                if isinstance(ref, str) and ref.split("/")[0] in PEOPLE:
                    wanted.append(ref)
        for ref in dict.fromkeys(wanted):
            resource_type, _, id = ref.partition("/")
            if ref in resources or not id or "/" in id:
                continue
            resources[ref] = self.read(resource_type, id)
            inner = (resources[ref].get("practitioner") or {}).get("reference")
            if (
                resource_type == "PractitionerRole"
                and isinstance(inner, str)
                and inner.startswith("Practitioner/")
                and inner not in resources
            ):
                resources[inner] = self.read("Practitioner", inner.partition("/")[2])

    def _medicines(self, resources: dict[str, dict]) -> None:
        """Read each patient's MedicationRequests and MedicationStatements, and the
        Medications they refer to, into ``resources``."""
        patients = [ref for ref in resources if ref.startswith("Patient/")]
        for ref in patients:
            for kind in ("MedicationRequest", "MedicationStatement"):
                for resource in self.search(kind, {"subject": ref}):
                    resources[f"{kind}/{resource.get('id')}"] = resource
                    medication = (resource.get("medicationReference") or {}).get("reference")
                    if (
                        isinstance(medication, str)
                        and medication.startswith("Medication/")
                        and medication not in resources
                    ):
                        resources[medication] = self.read(
                            "Medication", medication.partition("/")[2]
                        )


def _retry_after(headers: Any) -> float | None:
    """The seconds a ``Retry-After`` header asks for (its number form only)."""
    value = headers.get("Retry-After") if headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _reason(error: object) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__

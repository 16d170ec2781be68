"""FHIR R4 in: Appointments as record systems send them, turned into rows.

An ``Appointment`` or a ``Bundle`` (collection, searchset in pages, transaction, …) of
Appointments and the resources they refer to becomes the same rows a CSV gives. References are
resolved in the bundle, its other pages and the resource's ``contained`` resources; one that
is not there falls back to the reference's ``display``. The procedure is chosen by code: each
instruction set lists its codes, and a clinic's code map adds local ones. Resources may hold
any JSON at all: a shape that cannot be read fails its row, naming the element.

Out: see :mod:`pars_docs.write.fhir_out`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ..errors import DataError, plain, say
from . import chart, jsonin
from .ehr import (
    Feed,
    RowBuilder,
    Skip,
    birth_date_problem,
    is_not_mrn,
    reading_name,
    reading_parts,
    revision,
    skip_for_status,
)
from .rows import BadRow, Row, RowResult, Skipped

# Elements only older FHIR versions have, in the resources read here.
OLDER_VERSIONS = {
    "Appointment": {
        "type": "DSTU2",
        "reason": "STU3",
        "indication": "STU3",
        "incomingReferral": "STU3",
    },
    "Patient": {"careProvider": "DSTU2", "animal": "STU3"},
}


# Resources a file may hold alone, read with the Appointments given together: the patient's
# chart, and the resources an Appointment refers to.
READ_ALONE = {"Patient", "Practitioner", "PractitionerRole", "Medication", *chart.KINDS}

# Reading --------------------------------------------------------------------------------------


def _dict(value: Any) -> dict:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    """``value`` as a list: senders put one item where FHIR has a list, and the reverse."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value) -> str | None:
    """A string element, or None for anything else (a number or object where text belongs)."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def _strings(value) -> list[str]:
    return [t for t in (_text(v) for v in _list(value)) if t]


def _codings(concept) -> list[dict]:
    if not isinstance(concept, dict):
        return []
    if isinstance(concept.get("concept"), dict):  # R5 CodeableReference
        concept = concept["concept"]
    return [c for c in _list(concept.get("coding")) if isinstance(c, dict) and "code" in c]


def _language(patient: dict) -> str | None:
    """The patient's language from ``Patient.communication``: the one marked preferred, else
    the first; its BCP 47 coding (urn:ietf:bcp:47), else any coding's code."""
    entries = [c for c in _list(patient.get("communication")) if isinstance(c, dict)]
    entries.sort(key=lambda c: c.get("preferred") is not True)
    for entry in entries:
        codings = [c for c in _codings(entry.get("language")) if _text(c.get("code"))]
        codings.sort(key=lambda c: c.get("system") != "urn:ietf:bcp:47")
        if codings:
            return _text(codings[0]["code"])
    return None


# The order FHIR asks for: a name in official or usual use first; old names and nicknames
# only when there is nothing else.
_NAME_USE = {"official": 0, "usual": 1, None: 2, "temp": 3, "nickname": 4, "maiden": 5, "old": 6}


def ended(element: dict, today: str | None) -> bool:
    """Whether an element's ``period`` ended before ``today`` (an ISO date)."""
    end = _dict(element.get("period")).get("end")
    return bool(today and isinstance(end, str) and len(end) >= 4 and end[:10] < today)


def human_name(names, today: str | None = None, as_sent: bool = True) -> str | None:
    """The name to print from ``HumanName`` elements: ``text``, else prefix, given, family
    and suffix. A name whose period ended before ``today`` is never used; unless ``as_sent``,
    "LAST, FIRST" and capitals become reading order and normal case. Tolerant of one name
    where a list belongs, and of strings for lists (and the reverse: DSTU2's list of family
    names)."""
    candidates = [n for n in _list(names) if isinstance(n, dict) and not ended(n, today)]
    candidates.sort(
        key=lambda n: _NAME_USE.get(n.get("use") if isinstance(n.get("use"), str) else None, 2)
    )
    for name in candidates:
        text = _text(name.get("text"))
        if text:
            return reading_name(text, as_sent)
        shown = reading_parts(
            _strings(name.get("prefix")),
            _strings(name.get("given")),
            _strings(name.get("family")),
            _strings(name.get("suffix")),
            as_sent,
        )
        if shown:
            return shown
    return None


def _type_of(identifier: dict) -> tuple[set, str | None]:
    concept = _dict(identifier.get("type"))
    codes = {str(c.get("code")) for c in _list(concept.get("coding")) if isinstance(c, dict)}
    return codes, _text(concept.get("text"))


def mrn(patient: dict, rule, today: str | None = None) -> dict | None:
    """The identifier the site's rule names as the record number; a national or personal
    number (a social security number) is never chosen, whatever it is typed as, nor one
    whose period ended before ``today``."""
    for identifier in _list(patient.get("identifier")):
        if not isinstance(identifier, dict) or _text(str(identifier.get("value") or "")) is None:
            continue
        if ended(identifier, today):
            continue
        codes, text = _type_of(identifier)
        system = identifier.get("system") if isinstance(identifier.get("system"), str) else None
        if is_not_mrn(system, codes, text):
            continue
        if rule.matches(system, codes, text):
            return identifier
    return None


def _reference_kind(reference: dict, target: dict | None) -> str | None:
    """The resource type a Reference points at: declared, resolved, or read from the URL."""
    declared = reference.get("type")
    if isinstance(declared, str) and declared:
        return declared.rstrip("/").rsplit("/", 1)[-1]  # "Patient" or its profile URL
    if target is not None:
        return target.get("resourceType")
    ref = reference.get("reference")
    if isinstance(ref, str):
        parts = ref.split("/_history/")[0].rstrip("/").split("/")
        if len(parts) >= 2:
            return parts[-2]
    return None


class Resources:
    """The resources of one or more bundle pages (or one Appointment), found by reference."""

    def __init__(self) -> None:
        self.by_ref: dict[str, dict] = {}
        self.appointments: list[tuple[dict, str]] = []  # (appointment, its file's label)
        self.encounters: list[dict] = []
        self.medicines: list[dict] = []  # MedicationRequest and MedicationStatement
        # Type/id (or full URL) → how many different resources the input holds under it.
        self.conflicts: dict[str, int] = {}

    def _keep(self, key: str, resource: dict) -> None:
        """File ``resource`` under ``key``; a different one already there is a conflict (the
        same one again, as when a page is given twice, is not)."""
        held = self.by_ref.get(key)
        if held is not None and held != resource and resource.get("resourceType") != "Appointment":
            self.conflicts[key] = self.conflicts.get(key, 1) + 1
        self.by_ref[key] = resource

    def add(self, data, label: str) -> dict:
        """Take in one file's resource or bundle; returns its ``link`` URLs by relation."""
        if not isinstance(data, dict):
            raise DataError(f"{label}: expected a FHIR Appointment or Bundle (a JSON object)")
        kind = data.get("resourceType")
        links: dict = {}
        resources: list[tuple[Any, Any]]
        if kind == "Appointment" or (isinstance(kind, str) and kind in READ_ALONE):
            resources = [(None, data)]
        elif kind == "Bundle":
            entries = data.get("entry")
            if entries is not None and not isinstance(entries, list):
                raise DataError(f"{label}: Bundle.entry is not a list", field="fhir")
            resources = [
                (e.get("fullUrl"), e.get("resource")) for e in entries or [] if isinstance(e, dict)
            ]
            for link in _list(data.get("link")):
                if isinstance(link, dict) and isinstance(link.get("url"), str):
                    links[link.get("relation")] = link["url"]
        elif kind is None and "entry" in data and "resourceType" not in data:
            raise DataError(f"{label}: not a FHIR resource (no resourceType)", field="fhir")
        else:
            raise DataError(
                f"{label}: expected a FHIR Appointment or Bundle, found {kind!r}", field="fhir"
            )
        for full_url, resource in resources:
            if not isinstance(resource, dict):
                continue
            kind, rid = resource.get("resourceType"), resource.get("id")
            if isinstance(full_url, str):
                self._keep(full_url, resource)
            if isinstance(kind, str) and isinstance(rid, str):
                self._keep(f"{kind}/{rid}", resource)
            if kind == "Appointment":
                self.appointments.append((resource, label))
            elif kind == "Encounter":
                self.encounters.append(resource)
            elif kind in chart.KINDS:
                self.medicines.append(resource)
        return links

    def resolve(self, reference, container: dict | None = None) -> dict | None:
        """The resource ``reference`` points at: contained in ``container`` (``#id``), in
        the bundle by full URL or ``Type/id`` (a version suffix or server base ignored)."""
        if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
            return None
        ref = reference["reference"]
        if ref.startswith("#"):
            for resource in _list((container or {}).get("contained")):
                if isinstance(resource, dict) and resource.get("id") == ref[1:]:
                    return resource
            return None
        key = ref
        if key not in self.by_ref and "/" in ref:
            parts = ref.split("/_history/")[0].rstrip("/").split("/")
            key = "/".join(parts[-2:])
        found = self.by_ref.get(key)
        if key in self.conflicts and isinstance(found, dict):
            kind = found.get("resourceType") or "resource"
            raise DataError(
                plain(
                    f"{key}: the input holds {self.conflicts[key]} different {kind} resources "
                    "under this one id; pars-docs will not choose between them"
                ),
                field="patient" if kind == "Patient" else "fhir",
            )
        return found if isinstance(found, dict) else None


def read_pages(pages: list[tuple[object, str]], warn) -> Resources:
    """The resources of every file given together: a searchset's pages, in any order. A page
    whose ``next`` link names no page given is warned about: its later pages are missing."""
    resources = Resources()
    links = [resources.add(data, label) for data, label in pages]
    selves = {page.get("self") for page in links if page.get("self")}
    # A page without a self link may be the one another page's next link names.
    unnamed = [index for index, page in enumerate(links) if not page.get("self")]
    for index, (page, (_, label)) in enumerate(zip(links, pages, strict=True)):
        url = page.get("next")
        if not url or url in selves:
            continue
        claim = next((j for j in unnamed if j != index), None)
        if claim is not None:
            unnamed.remove(claim)
            continue
        warn(
            f"warning: {label} is one page of a search, and its next page ({url}) was not "
            "given: appointments on later pages are not read; give every page's file together"
        )
    if not resources.appointments:
        names = ", ".join(label for _, label in pages)
        kinds = sorted({str(r.get("resourceType")) for r in resources.by_ref.values()})
        held = f" (only {', '.join(kinds)}: give it with the appointments' file)" if kinds else ""
        raise DataError(f"{names}: holds no Appointment{held}")
    return resources


def appointment_rows(pages, feed: Feed) -> Iterator[RowResult]:
    """For each Appointment in ``pages`` (a list of (JSON data, label)): a :class:`Row` like a
    CSV's, a :class:`Skipped` for one that gets no handout, or a :class:`BadRow` naming every
    problem of an appointment that cannot be used. Numbers run on across pages.

    A row's ``refs`` keep the references, for the DocumentReference written back.
    """
    resources = read_pages(pages, feed.warn)
    for number, (appointment, _label) in enumerate(resources.appointments, 1):
        try:
            yield _row(number, appointment, resources, feed)
        except DataError as e:
            e.row = number
            yield BadRow(number, e)
        except (TypeError, AttributeError, ValueError, KeyError) as e:
            # A shape no check above foresaw: it costs this appointment only.
            error = DataError(f"Appointment: an element has a shape FHIR R4 does not allow ({e})")
            error.row = number
            yield BadRow(number, error)


def _r5_reason(resource: dict, name: str) -> bool:
    """R5's ``Appointment.reason``: a list of CodeableReference (``concept`` or
    ``reference``), where STU3's was a list of CodeableConcept (``coding``, ``text``)."""
    items = _list(resource.get(name)) if name == "reason" else []
    return bool(items) and all(
        isinstance(i, dict) and ("concept" in i or "reference" in i) and "coding" not in i
        for i in items
    )


def _version_problem(resource: dict) -> str | None:
    kind = resource.get("resourceType")
    for name, version in OLDER_VERSIONS.get(kind if isinstance(kind, str) else "", {}).items():
        if name in resource and not _r5_reason(resource, name):
            return (
                f"fhir: {resource['resourceType']}.{name} is a FHIR {version} element: this "
                f"looks like FHIR {version}; pars-docs reads FHIR R4 (and R4B, and R5's "
                "Appointment.subject). Ask the server for R4 (on Epic: api/FHIR/R4)"
            )
    return None


def _participants(appointment: dict, resources: Resources):
    """(actor reference, resolved resource or None, resource type) for each participant,
    then R5's ``subject``."""
    actors = [p.get("actor") for p in _list(appointment.get("participant")) if isinstance(p, dict)]
    actors.append(appointment.get("subject"))
    for actor in actors:
        if isinstance(actor, dict):
            target = resources.resolve(actor, appointment)
            yield actor, target, _reference_kind(actor, target)


def _person(actor: dict, target: dict | None, resources: Resources, container: dict, feed: Feed):
    """(name, resource named) for a Patient or Practitioner actor; a PractitionerRole is
    followed to its Practitioner, else its display."""
    today, as_sent = feed.today(), feed.names_as_sent

    def display(reference) -> str | None:
        text = _text(reference.get("display")) if isinstance(reference, dict) else None
        return reading_name(text, as_sent) if text else None

    if target is not None and target.get("resourceType") == "PractitionerRole":
        practitioner_ref = target.get("practitioner")
        practitioner = resources.resolve(practitioner_ref, container) or resources.resolve(
            practitioner_ref, target
        )
        found = human_name(practitioner.get("name"), today, as_sent) if practitioner else None
        name = found or display(practitioner_ref)
        if name:
            return name, practitioner or target
        return display(actor), target
    name = human_name(target.get("name"), today, as_sent) if target else None
    return name or display(actor), target


def _where(actor: dict) -> str:
    ref = actor.get("reference")
    return ref if isinstance(ref, str) else "the reference"


def _row(number: int, appointment: dict, resources: Resources, feed: Feed) -> Row | Skipped:
    problem = _version_problem(appointment)
    if problem:
        raise DataError(problem, field="fhir")
    # The booking and when it last changed: a newer copy of the same Appointment replaces
    # this one.
    visit_id = None
    if isinstance(appointment.get("id"), str):
        visit_id = f"Appointment/{appointment['id']}"
    meta = _dict(appointment.get("meta"))
    updated = _instant(meta.get("lastUpdated"))
    changed_at = revision(updated) if updated else None
    version_id = _text(meta.get("versionId"))
    status = appointment.get("status")
    skip = skip_for_status(status) if isinstance(status, str) else None
    if skip:
        return skip.result(number, visit_id, changed_at, version_id)
    row = RowBuilder(feed)
    if visit_id:
        row.refs["appointment"] = row.fields["visit_id"] = visit_id
    row.revision, row.version = changed_at, version_id
    skip = _start(appointment, row)
    if skip:
        return skip.result(number, visit_id, changed_at, version_id)
    end = _instant(appointment.get("end"))
    if end is not None:
        row.refs["end"] = end.isoformat()
    people = list(_participants(appointment, resources))
    _patient(appointment, people, resources, row)
    _clinician(appointment, people, resources, row)
    _procedure(appointment, resources, row)
    if feed.notes:
        note = _appointment_note(appointment)
        if note:
            row.fields["note"] = note
    row.refs["encounter"] = _encounter(appointment, resources)
    return row.result(number)


def _start(appointment: dict, row: RowBuilder) -> Skip | None:
    start = appointment.get("start")
    moment = _instant(start)
    if moment is not None:
        return row.set_start(moment)
    if not isinstance(start, str) or not start:
        row.problem("date", plain("date: the appointment has no start"))
    else:
        row.problem(
            "date",
            say("date: start '{start}' is not a FHIR instant with a UTC offset", start=start),
        )
    return None


def _the_patient(people: list) -> tuple | None:
    """The one Patient participant (or R5 subject); two different ones are refused."""
    patients = [p for p in people if p[2] == "Patient"]
    if not patients:
        return None
    distinct = {_identity(actor, target) for actor, target, _ in patients}
    if len(distinct) > 1:
        shown = " and ".join(sorted(distinct))
        raise DataError(
            f"patient: the appointment has {len(distinct)} different Patient participants "
            f"({shown}); pars-docs will not choose between them",
            field="patient",
            redacted=f"patient: the appointment has {len(distinct)} different Patient "
            "participants; pars-docs will not choose between them",
        )
    return patients[0]


def _identity(actor: dict, target: dict | None) -> str:
    """What a Patient participant is, to tell two apart: its resource, else its reference,
    else its display."""
    if target is not None and isinstance(target.get("id"), str):
        return f"Patient/{target['id']}"
    ref = actor.get("reference")
    if isinstance(ref, str):
        return ref
    return repr(_text(actor.get("display")) or "")


def _patient(appointment: dict, people: list, resources: Resources, row: RowBuilder) -> None:
    found = _the_patient(people)
    if found is None:
        row.problem(
            "patient", plain("patient: the appointment has no Patient participant or subject")
        )
        return
    actor, target, _ = found
    name, patient = _person(actor, target, resources, appointment, row.feed)
    if patient is not None:
        version = _version_problem(patient)
        if version:
            raise DataError(version, field="fhir")
        _patient_fields(patient, row, row.refs, row.feed)
    _chart(resources, actor, patient, row)
    if name:
        row.fields["patient"] = name
    elif patient is not None:
        row.problem(
            "patient",
            plain(f"patient: {_where(actor)} has no current name and no display"),
        )
    else:
        row.problem(
            "patient",
            plain(f"patient: {_where(actor)} is not in the bundle and has no display name"),
        )
    row.refs["patient"] = _reference(patient, actor)


def _chart(resources: Resources, actor: dict, patient: dict | None, row: RowBuilder) -> None:
    """The patient's current medicines from the chart, as the visit's medicines; one the
    table lacks follows the site's ``unknown_medicines`` rule, naming its code."""
    table = row.feed.medicines
    if table is None or not resources.medicines:
        return
    refs = {ref for ref in (actor.get("reference"), _reference(patient, actor)) if ref}
    found = chart.chart_medicines(resources.medicines, resources, patient, refs, table)
    for medicine in found:
        if medicine.known or row.feed.unknown_medicines == "ask":
            continue
        code = f"RxNorm {medicine.code}" if medicine.code else "no RxNorm code"
        fix = (
            f"; add it to the medicine table ({table.path.name}), or set unknown_medicines: "
            "ask in the site profile"
        )
        shown = medicine.name.removesuffix(f" ({code})")
        row.problems.append(
            DataError(
                f"medication: the chart lists a medicine the table does not know: '{shown}' "
                f"({code}){fix}",
                field="medication",
                redacted=f"medication: the chart lists a medicine the table does not know: "
                f"'…' ({code}){fix}",
            )
        )
    if found:
        row.fields["medications"] = [m.name for m in found]
        row.fields["chart_medicines"] = [m.name for m in found]
        row.refs["medicines"] = chart.sources(found)


def _clinician(appointment: dict, people: list, resources: Resources, row: RowBuilder) -> None:
    clinicians = [p for p in people if p[2] in ("Practitioner", "PractitionerRole")]
    for actor, target, _ in clinicians:
        name, practitioner = _person(actor, target, resources, appointment, row.feed)
        if name:
            row.fields["clinician"] = name
            row.refs["practitioner"] = _reference(practitioner, actor)
            return
    row.problem(
        "clinician",
        plain(
            "clinician: the appointment has no Practitioner or PractitionerRole with a name "
            "(give --clinician)"
        ),
    )


def _procedure(appointment: dict, resources: Resources, row: RowBuilder) -> None:
    carried = []
    for concept in [*_list(appointment.get("serviceType")), appointment.get("appointmentType")]:
        carried += _codings(concept)
    for based_on in _list(appointment.get("basedOn")):
        request = resources.resolve(based_on, appointment)
        if request:
            carried += _codings(request.get("code"))
    texts = [("description", t) for t in _strings(appointment.get("description"))]
    for element in ("serviceCategory", "specialty"):
        for concept in _list(appointment.get(element)):
            if isinstance(concept, dict):
                shown = _strings(concept.get("text"))
                shown += [t for c in _codings(concept) for t in _strings(c.get("display"))]
                texts += [(element, t) for t in shown]
    row.set_procedure(carried, texts=texts)


def _patient_fields(patient: dict, row: RowBuilder, refs: dict, feed: Feed) -> None:
    birth = patient.get("birthDate")
    if birth is not None:
        problem = birth_date_problem(birth)
        if problem:
            row.problem("dob", problem)
        else:
            row.fields["dob"] = birth
    language = _language(patient)
    if language:
        row.fields["language"] = language
    identifier = mrn(patient, feed.mrn, feed.today())
    if identifier:
        row.fields["mrn"] = str(identifier["value"]).strip()
        system = identifier.get("system")
        refs["mrn_system"] = system if isinstance(system, str) else None


def _appointment_note(appointment: dict) -> str | None:
    """R4's ``patientInstruction`` and ``comment``; R5's list of patient instructions and
    ``note`` annotations."""
    parts = []
    for item in _list(appointment.get("patientInstruction")):
        if isinstance(item, dict):  # R5 CodeableReference
            item = _dict(item.get("concept")).get("text")
        parts += _strings(item)
    parts += _strings(appointment.get("comment"))
    for annotation in _list(appointment.get("note")):
        if isinstance(annotation, dict):
            parts += _strings(annotation.get("text"))
    return "\n".join(parts) or None


def _encounter(appointment: dict, resources: Resources) -> str | None:
    """The Encounter in the bundle that records this Appointment, as ``Encounter/id``."""
    if not isinstance(appointment.get("id"), str):
        return None
    wanted = f"Appointment/{appointment['id']}"
    for encounter in resources.encounters:
        for ref in _list(encounter.get("appointment")):
            if isinstance(ref, dict) and ref.get("reference") == wanted:
                if isinstance(encounter.get("id"), str):
                    return f"Encounter/{encounter['id']}"
    return None


def _instant(value) -> datetime | None:
    """A FHIR instant (a dateTime with a time and an offset), or None."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _reference(resource: dict | None, actor: dict | None) -> str | None:
    """A reference the receiving server can resolve: ``Type/id`` when the bundle held the
    resource (a ``urn:uuid:`` or ``#id`` would point into a file that is not sent back)."""
    if (
        resource
        and isinstance(resource.get("resourceType"), str)
        and isinstance(resource.get("id"), str)
    ):
        ref = (actor or {}).get("reference")
        if isinstance(ref, str) and ref.startswith("#"):
            return None  # contained: no server holds it
        return f"{resource['resourceType']}/{resource['id']}"
    ref = (actor or {}).get("reference")
    if isinstance(ref, str) and not ref.startswith(("#", "urn:")):
        return ref
    return None


def read_json(text: str, label: str):
    return jsonin.loads(text, label)


def read_resource(text: str, label: str):
    """A FHIR file's content: JSON, or XML read into the same shape."""
    if text.lstrip("\ufeff \t\r\n").startswith("<"):
        from .fhir_xml import read_xml

        return read_xml(text, label)
    return read_json(text, label)

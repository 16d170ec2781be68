"""The patient's medicines from the chart: FHIR ``MedicationRequest`` and
``MedicationStatement`` resources for the appointment's patient, matched to the medicine table.

Only what the patient takes now counts: an active or on-hold request or statement. A stopped,
completed, cancelled, entered-in-error or not-taken one does not, nor one marked
``doNotPerform``. A medicine is matched by its RxNorm code first (the table's ingredient
codes; a product is mapped to its ingredient through the ``Medication``'s own ingredient list),
then by its text (the table's generic and brand names in the coding's display or the text,
as RxNorm writes products: "warfarin sodium 5 MG Oral Tablet", "Eliquis 5 MG Oral Tablet").
``medicationReference`` is followed to a contained or bundled ``Medication``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import DataError

if TYPE_CHECKING:
    from ..load.medicines import MedicineTable


class ResourceLookup(Protocol):
    """What this module asks of the FHIR reader's resources (:class:`.fhir.Resources`),
    written here so that the two modules do not import each other."""

    def resolve(self, reference, container: dict | None = None) -> dict | None: ...


RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
KINDS = ("MedicationRequest", "MedicationStatement")
# Statuses of what the patient takes now (R4 MedicationRequest and MedicationStatement).
CURRENT = {"active", "on-hold"}
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


@dataclass(frozen=True)
class ChartMedicine:
    """One medicine from the chart: ``name`` as the visit lists it (the table's name, or for a
    medicine the table lacks its text with its code), its RxNorm ``code`` if given, and
    whether the table knows it."""

    name: str
    code: str | None
    known: bool
    source: str | None = None  # "MedicationRequest/id" of the chart entry, when it has one


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _concept_and_reference(resource: dict) -> tuple[dict, Any]:
    """The medication as a concept, and a reference to a Medication: R4's
    ``medicationCodeableConcept`` / ``medicationReference``, R5's ``medication``
    CodeableReference."""
    if "medicationCodeableConcept" in resource or "medicationReference" in resource:
        return _dict(resource.get("medicationCodeableConcept")), resource.get("medicationReference")
    medication = _dict(resource.get("medication"))
    return _dict(medication.get("concept")), medication.get("reference")


def _rxnorm_codes(concept: dict) -> list[str]:
    return [
        str(c["code"]).strip()
        for c in _list(concept.get("coding"))
        if isinstance(c, dict) and c.get("system") == RXNORM and c.get("code")
    ]


def _texts(concept: dict) -> list[str]:
    texts = [_text(concept.get("text"))]
    texts += [_text(c.get("display")) for c in _list(concept.get("coding")) if isinstance(c, dict)]
    return [t for t in texts if t]


def _by_code(codes: Iterable[str], table: MedicineTable) -> str | None:
    for code in codes:
        if code.isdigit():
            found = table.find(f"rxcui:{code}")
            if found:
                return found[0].name
    return None


def _by_text(texts: Iterable[str], table: MedicineTable) -> str | None:
    """The table's name for the first known generic or brand name in ``texts``, the longest
    one first ("insulin glargine" before "insulin")."""
    for text in texts:
        words = _WORD.findall(text)
        for size in (3, 2, 1):
            for start in range(len(words) - size + 1):
                found = table.find(" ".join(words[start : start + size]))
                if found:
                    return found[0].name
    return None


def _medicine(
    resource: dict, resources: ResourceLookup, table: MedicineTable
) -> ChartMedicine | None:
    concept, reference = _concept_and_reference(resource)
    medication = resources.resolve(reference, resource) if reference else None
    ingredients: list[dict] = []
    if medication is not None:
        own = _dict(medication.get("code"))
        concept = {
            "coding": _list(concept.get("coding")) + _list(own.get("coding")),
            "text": concept.get("text") or own.get("text"),
        }
        for ingredient in _list(medication.get("ingredient")):
            item = _dict(ingredient).get("itemCodeableConcept") or _dict(
                _dict(ingredient).get("item")
            ).get("concept")
            ingredients.append(_dict(item))
    codes = _rxnorm_codes(concept)
    name = _by_code(codes, table) or _by_code(
        (c for item in ingredients for c in _rxnorm_codes(item)), table
    )
    texts = _texts(concept) + [t for item in ingredients for t in _texts(item)]
    name = name or _by_text(texts, table)
    code = codes[0] if codes else None
    if name:
        return ChartMedicine(name, code, True)
    shown = texts[0] if texts else (_text(_dict(reference).get("display")) or None)
    if shown is None and code is None:
        return None  # nothing to name it by
    label = (shown or "a medicine").replace(";", ",")
    return ChartMedicine(f"{label} (RxNorm {code})" if code else label, code, False)


def _current(resource: dict) -> bool:
    if resource.get("doNotPerform") is True:
        return False
    status = resource.get("status")
    return isinstance(status, str) and status in CURRENT


def _for_patient(
    resource: dict, resources: ResourceLookup, patient: dict | None, refs: set
) -> bool:
    subject = _dict(resource.get("subject") or resource.get("patient"))
    ref = subject.get("reference")
    if patient is not None:
        try:
            target = resources.resolve(subject, resource)
        except DataError:  # an ambiguous subject is not this patient's
            return False
        if target is patient:
            return True
    return isinstance(ref, str) and ref in refs


def chart_medicines(
    statements: list[dict],
    resources: ResourceLookup,
    patient: dict | None,
    refs: set[str],
    table: MedicineTable,
) -> list[ChartMedicine]:
    """The current medicines of ``patient`` (the resolved Patient, and the references that
    name it) among ``statements``, each once, in the order the chart gives them."""
    found: list[ChartMedicine] = []
    seen: set[str] = set()
    for resource in statements:
        if not _current(resource) or not _for_patient(resource, resources, patient, refs):
            continue
        medicine = _medicine(resource, resources, table)
        if medicine is not None and medicine.name.casefold() not in seen:
            seen.add(medicine.name.casefold())
            rid = resource.get("id")
            source = f"{resource['resourceType']}/{rid}" if isinstance(rid, str) else None
            found.append(dataclasses.replace(medicine, source=source))
    return found


def sources(medicines: Iterable[ChartMedicine]) -> str:
    """The chart entries the medicines came from, for the record written back:
    ``MedicationRequest/1=warfarin;MedicationStatement/2=apixaban``."""
    return ";".join(f"{m.source}={m.name}" for m in medicines if m.source)


def parse_sources(text: str | None) -> Iterator[tuple[str, str]]:
    """(reference, medicine name) pairs of :func:`sources`."""
    for part in (text or "").split(";"):
        reference, sep, name = part.partition("=")
        if sep and reference:
            yield reference, name

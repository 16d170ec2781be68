"""Filing DocumentReferences on a FHIR server (``--fhir-server``): shaped by a vendor
profile, posted one by one or in transactions, each server's answer kept for the manifest.

A vendor profile is data (``pars_docs/write/vendors/NAME.yaml``, or a YAML file of the same
shape): how the server takes writes (``write``: ``transaction`` or ``single``), how many
documents go in one transaction, whether it honours conditional creates (``If-None-Exist``,
which makes a retry safe), whether it takes one content entry only, which elements it needs
(``requires``: a path and what it needs, for the row's message), and which elements it takes
only as references (``references_only``). Nothing about a vendor is in code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import DataError, UsageError
from ..load.site import Site
from ..read.fhir_client import Answer, FhirClient, outcome_text
from .fhir_out import bundle_entry

WRITE_MODES = ("transaction", "single")


@dataclass(frozen=True)
class Requirement:
    path: str  # dotted: "context.period.end"
    needs: str  # what it needs, for the message


@dataclass(frozen=True)
class VendorProfile:
    """How one kind of server takes DocumentReferences (see the module's docstring)."""

    id: str
    title: str
    source: str
    write: str = "transaction"
    transaction_size: int = 20
    conditional_create: bool = True
    one_content_entry: bool = False
    requires: tuple[Requirement, ...] = ()
    references_only: tuple[str, ...] = ()


def vendor_names() -> list[str]:
    """The built-in profiles' names."""
    folder = resources.files("pars_docs.write").joinpath("vendors")
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_vendor(name: str | None) -> VendorProfile:
    """The built-in profile ``name`` (default ``generic``), or the profile in the YAML file
    ``name``; a :class:`UsageError` naming the problem otherwise."""
    name = name or "generic"
    if name in vendor_names():
        text = (
            resources.files("pars_docs.write")
            .joinpath("vendors")
            .joinpath(f"{name}.yaml")
            .read_text(encoding="utf-8")
        )
        label = name
    else:
        path = Path(name)
        if not path.is_file():
            raise UsageError(
                f"--fhir-vendor: '{name}' is neither a built-in profile "
                f"({', '.join(vendor_names())}) nor a file",
                field="fhir_vendor",
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"--fhir-vendor: cannot read {path} ({e})", field="fhir_vendor") from e
        label = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise UsageError(f"--fhir-vendor: {label} is not YAML ({e})", field="fhir_vendor") from e
    return _profile(data, label)


def _profile(data: Any, label: str) -> VendorProfile:
    def bad(why: str) -> UsageError:
        return UsageError(f"--fhir-vendor: {label}: {why}", field="fhir_vendor")

    if not isinstance(data, dict):
        raise bad("not a mapping")
    known = {
        "id",
        "title",
        "source",
        "write",
        "transaction_size",
        "conditional_create",
        "one_content_entry",
        "requires",
        "references_only",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise bad(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    for key in ("id", "title", "source"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise bad(f"{key}: a text is needed")
    if data.get("write", "transaction") not in WRITE_MODES:
        raise bad(f"write: one of {', '.join(WRITE_MODES)}")
    size = data.get("transaction_size", 20)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 100:
        raise bad("transaction_size: a whole number from 1 to 100")
    for key in ("conditional_create", "one_content_entry"):
        if not isinstance(data.get(key, False), bool):
            raise bad(f"{key}: true or false")
    requires = []
    for item in data.get("requires") or []:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("path"), str)
            and isinstance(item.get("needs"), str)
            and set(item) == {"path", "needs"}
        ):
            raise bad("requires: a list of {path, needs}")
        requires.append(Requirement(item["path"], item["needs"]))
    only = data.get("references_only") or []
    if not isinstance(only, list) or not all(isinstance(x, str) for x in only):
        raise bad("references_only: a list of element names")
    return VendorProfile(
        id=data["id"],
        title=data["title"],
        source=data["source"],
        write=data.get("write", "transaction"),
        transaction_size=size,
        conditional_create=data.get("conditional_create", True),
        one_content_entry=data.get("one_content_entry", False),
        requires=tuple(requires),
        references_only=tuple(only),
    )


def _has(resource: Any, path: str) -> bool:
    value = resource
    for part in path.split("."):
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, dict) or value.get(part) in (None, "", [], {}):
            return False
        value = value[part]
    return True


def shaped(resource: dict, profile: VendorProfile) -> dict:
    """``resource`` as ``profile``'s server takes it: elements it takes only as references
    keep only their entries with one, and one content entry where it takes one; raises
    :class:`DataError` (field ``fhir_server``) naming what the server needs and the
    document lacks."""
    resource = json.loads(json.dumps(resource))
    for name in profile.references_only:
        value = resource.get(name)
        if isinstance(value, list):
            kept = [v for v in value if isinstance(v, dict) and v.get("reference")]
            if kept:
                resource[name] = kept
            else:
                resource.pop(name)
        elif isinstance(value, dict) and not value.get("reference"):
            resource.pop(name)
    if profile.one_content_entry and len(resource.get("content") or []) > 1:
        resource["content"] = resource["content"][:1]
    missing = [r for r in profile.requires if not _has(resource, r.path)]
    if missing:
        needs = "; ".join(f"{r.path}: {r.needs}" for r in missing)
        raise DataError(
            f"fhir_server: the {profile.id} profile's server needs what this document lacks "
            f"({needs})",
            field="fhir_server",
        )
    return resource


def conditional(resource: dict) -> str:
    """The search that finds ``resource`` by its identifier (``If-None-Exist``)."""
    identifier = resource["identifier"][0]
    return f"identifier={identifier['system']}|{identifier['value']}"


class ServerWriter:
    """Files DocumentReferences on one server as ``profile`` says, in ``mode`` (default the
    profile's). :meth:`add` and :meth:`close` give ``(key, answer)`` for each document whose
    answer came: at once for single POSTs, when a transaction is full or closed otherwise.
    ``key`` is whatever the caller passed (a batch row)."""

    def __init__(self, client: FhirClient, profile: VendorProfile, mode: str | None = None):
        if mode and mode not in WRITE_MODES:
            raise UsageError(f"--fhir-write: one of {', '.join(WRITE_MODES)}", field="fhir_write")
        self.client = client
        self.profile = profile
        self.mode = mode or profile.write
        self.waiting: list[tuple[Any, dict]] = []

    def add(self, key: Any, resource: dict) -> list[tuple[Any, Answer]]:
        """File ``resource`` (already :func:`shaped`), or hold it for the next transaction."""
        resource = {k: v for k, v in resource.items() if k != "id"}
        if self.mode == "single":
            check = conditional(resource) if self.profile.conditional_create else None
            return [(key, self.client.create(resource, if_none_exist=check))]
        self.waiting.append((key, resource))
        if len(self.waiting) >= self.profile.transaction_size:
            return self.flush()
        return []

    def close(self) -> list[tuple[Any, Answer]]:
        """Post what waits for a transaction."""
        return self.flush()

    def flush(self) -> list[tuple[Any, Answer]]:
        if not self.waiting:
            return []
        waiting, self.waiting = self.waiting, []
        entries = []
        for _, resource in waiting:
            entry = bundle_entry(resource, "transaction")
            if not self.profile.conditional_create:
                entry["request"].pop("ifNoneExist")
            entries.append(entry)
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
        answer = self.client.transaction(bundle)
        keys = [key for key, _ in waiting]
        return list(zip(keys, _entry_answers(answer, len(waiting)), strict=True))


def _entry_answers(answer: Answer, count: int) -> Iterable[Answer]:
    """Each entry's answer from a transaction's: its ``response`` when the server answered
    with a transaction-response, else the whole transaction's answer for every entry (a
    transaction fails whole)."""
    body = answer.resource if isinstance(answer.resource, dict) else {}
    entries = body.get("entry") if body.get("type") == "transaction-response" else None
    if not answer.ok or not isinstance(entries, list) or len(entries) != count:
        return [answer] * count
    answers = []
    for entry in entries:
        response = (entry or {}).get("response") or {}
        status_text = str(response.get("status") or "").split(" ")[0]
        status = int(status_text) if status_text.isdigit() else None

        answers.append(
            Answer(
                status=status,
                location=response.get("location"),
                resource=(entry or {}).get("resource"),
                outcome=outcome_text(response.get("outcome")),
                attempts=answer.attempts,
                error=None if status else "the transaction's answer has no status for it",
            )
        )
    return answers


def server_writer(
    url: str,
    token_file: str | None,
    vendor: str | None,
    mode: str | None,
    site: Site | None = None,
) -> ServerWriter:
    """The writer for ``--fhir-server URL`` and its options, checked before any work: the
    URL, the token (``token_file``, else the site's ``fhir_token_file`` when ``url`` is the
    site's ``fhir_server``, else ``$PARS_DOCS_FHIR_TOKEN``), the vendor profile (likewise
    the site's ``fhir_vendor``) and the write mode."""
    from ..read.fhir_client import load_token

    if site is not None and site.fhir_server and _same_url(url, site.fhir_server):
        token_file = token_file or (str(site.fhir_token_file) if site.fhir_token_file else None)
        vendor = vendor or site.fhir_vendor or None
    profile = load_vendor(vendor)
    return ServerWriter(FhirClient(url, token=load_token(token_file)), profile, mode)


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")

"""Upgrade OCDS 1.0 data to 1.1, following the rules of `ocdskit upgrade 1.0:1.1`.

1.0 embedded whole organisations (buyer, procuring entity, tenderers, suppliers, transaction
parties); 1.1 lists each organisation once in `parties` with its roles and refers to it by id.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

# The fields that identify an organisation in OCDS 1.0, hashed into a party id when it has none.
_IDENTIFYING_FIELDS: tuple[tuple[str | None, tuple[str, ...]], ...] = (
    (None, ("name",)),
    ("identifier", ("scheme", "id", "legalName", "uri")),
    ("address", ("streetAddress", "locality", "region", "postalCode", "countryName")),
    ("contactPoint", ("name", "email", "telephone", "faxNumber", "url")),
)


def minor_version(data: dict[str, Any]) -> str:
    """The OCDS minor version of a package, record or release ("1.0" or "1.1")."""
    if "releases" in data and "ocid" in data:  # a record
        return (
            "1.1"
            if any(isinstance(r, dict) and "parties" in r for r in data["releases"])
            else "1.0"
        )
    if "releases" in data or "records" in data:  # a package
        return str(data.get("version", "1.0"))
    return "1.1" if "parties" in data else "1.0"


def upgrade_release(release: dict[str, Any]) -> dict[str, Any]:
    """Upgrade one 1.0 release in place (and return it)."""
    _move_organisations_to_parties(release)
    _rename_amendment(release)
    _rename_transaction_fields(release)
    return release


def party_id(organisation: dict[str, Any]) -> str:
    """A stable id for an organisation that has none: a hash of its identifying fields."""
    parts: list[bytes] = []
    for parent, fields in _IDENTIFYING_FIELDS:
        source = organisation if parent is None else organisation.get(parent)
        if parent is not None and parent not in organisation:
            continue
        for field in fields:
            value = source.get(field) if isinstance(source, dict) else None
            parts.append(str(value or "").encode("utf-8"))
    return hashlib.md5(b"-".join(parts), usedforsecurity=False).hexdigest()


def _present(obj: dict[str, Any], field: str) -> bool:
    return obj.get(field) is not None


def _existing_parties(release: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    parties: dict[Any, dict[str, Any]] = {}
    for party in release.get("parties") or []:
        if isinstance(party, dict):
            parties[party["id"] if "id" in party else party_id(party)] = party
    return parties


def _reference(parties: dict[Any, dict[str, Any]], organisation: Any, role: str) -> Any:
    """Add the organisation to `parties` with the role; return a reference to it."""
    if not isinstance(organisation, dict):
        return organisation
    party = copy.deepcopy(organisation)
    if "id" not in party:
        party = {"id": party_id(party), **party}
    key = party["id"]
    survivor = parties.setdefault(key, party)
    roles = survivor.get("roles")
    if roles is None:
        roles = []
    elif not isinstance(roles, list):
        roles = [roles]
    if role not in roles:
        roles.append(role)
    survivor["roles"] = roles
    reference = {"id": key}
    if "name" in party:
        reference["name"] = party["name"]
    return reference


def _move_organisations_to_parties(release: dict[str, Any]) -> None:
    parties = _existing_parties(release)
    if _present(release, "buyer"):
        release["buyer"] = _reference(parties, release["buyer"], "buyer")
    tender = release.get("tender")
    if isinstance(tender, dict):
        if _present(tender, "procuringEntity"):
            tender["procuringEntity"] = _reference(
                parties, tender["procuringEntity"], "procuringEntity"
            )
        if _present(tender, "tenderers"):
            tender["tenderers"] = [_reference(parties, t, "tenderer") for t in tender["tenderers"]]
    for award in release.get("awards") or []:
        if isinstance(award, dict) and _present(award, "suppliers"):
            award["suppliers"] = [_reference(parties, s, "supplier") for s in award["suppliers"]]
    _store_parties(release, parties)


def _store_parties(release: dict[str, Any], parties: dict[Any, dict[str, Any]]) -> None:
    if not parties:
        return
    listed = release.setdefault("parties", [])
    for party in parties.values():
        if party not in listed:
            listed.append(party)


def _rename_amendment(release: dict[str, Any]) -> None:
    blocks = [
        release.get("tender"),
        *(release.get("awards") or []),
        *(release.get("contracts") or []),
    ]
    for block in blocks:
        if isinstance(block, dict) and "amendment" in block:
            amendments = block.setdefault("amendments", [])
            if block["amendment"] not in amendments:
                amendments.append(block["amendment"])
            del block["amendment"]


def _rename_transaction_fields(release: dict[str, Any]) -> None:
    parties = _existing_parties(release)
    for contract in release.get("contracts") or []:
        implementation = contract.get("implementation") if isinstance(contract, dict) else None
        if not isinstance(implementation, dict) or not _present(implementation, "transactions"):
            continue
        for transaction in implementation["transactions"]:
            if "value" not in transaction and "amount" in transaction:
                transaction["value"] = transaction.pop("amount")
            for old, new in (("providerOrganization", "payer"), ("receiverOrganization", "payee")):
                if old in transaction and new not in transaction:
                    organisation: dict[str, Any] = {"identifier": transaction[old]}
                    if isinstance(transaction[old], dict) and "legalName" in transaction[old]:
                        organisation["name"] = transaction[old]["legalName"]
                    transaction[new] = _reference(parties, organisation, new)
                    del transaction[old]
    _store_parties(release, parties)

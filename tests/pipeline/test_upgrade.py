"""1.0 → 1.1 upgrade gives what `ocdskit upgrade 1.0:1.1` gives."""

from __future__ import annotations

import copy
from pathlib import Path

import orjson
import pytest
from ocdskit.upgrade import upgrade_10_11

from mutualise.pipeline.upgrade import minor_version, upgrade_release


def canonical(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def old_releases(samples: Path) -> list[dict]:
    found = []
    for path in sorted((samples / "contracts-finder-2014-2016" / "releases").glob("*.json")):
        release = orjson.loads(path.read_bytes())
        if minor_version(release) == "1.0":
            found.append(release)
    return found


def test_sample_1_0_releases_upgrade_like_ocdskit(samples: Path) -> None:
    releases = old_releases(samples)
    assert releases
    for release in releases:
        expected = upgrade_10_11(copy.deepcopy(release), reorder=False)
        ours = upgrade_release(copy.deepcopy(release))
        assert canonical(ours) == canonical(expected)
        assert ours["parties"][0]["roles"] == ["buyer"]


@pytest.mark.parametrize(
    "release",
    [
        {
            "ocid": "o",
            "awards": [{"id": "1", "suppliers": [{"name": "A Ltd"}, {"name": "A Ltd"}]}],
            "buyer": {"name": "Council", "identifier": {"scheme": "GB-COH", "id": "1"}},
        },
        {
            "ocid": "o",
            "tender": {
                "tenderers": [{"id": "t1", "name": "T"}],
                "procuringEntity": {"name": "P"},
                "amendment": {"date": "2015-01-01T00:00:00Z"},
            },
        },
    ],
)
def test_organisations_and_amendments(release: dict) -> None:
    expected = upgrade_10_11(copy.deepcopy(release), reorder=False)
    assert canonical(upgrade_release(copy.deepcopy(release))) == canonical(expected)


def test_transactions_keep_their_payer_party() -> None:
    """ocdskit renames the transaction fields but drops the new payer party when the release has
    no `parties` yet; we keep it (the one deliberate difference, see docs/adr/0003)."""
    release = {
        "ocid": "o",
        "contracts": [
            {
                "id": "c",
                "implementation": {
                    "transactions": [
                        {
                            "id": "t",
                            "amount": {"amount": 1},
                            "providerOrganization": {"legalName": "Payer", "id": "9"},
                        }
                    ]
                },
            }
        ],
    }
    expected = upgrade_10_11(copy.deepcopy(release), reorder=False)
    ours = upgrade_release(copy.deepcopy(release))
    assert [party["roles"] for party in ours.pop("parties")] == [["payer"]]
    assert canonical(ours) == canonical(expected)

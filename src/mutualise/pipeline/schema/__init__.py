"""The OCDS 1.1.5 schema, its codelists and the UK extension, shipped so nothing needs a network."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import orjson

SCHEMA_DIR = Path(__file__).parent
STANDARD_DIR = SCHEMA_DIR / "standard"
UK_EXTENSION_DIR = SCHEMA_DIR / "ocds_uk_extension"


def _read_json(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply a JSON Merge Patch (RFC 7386): how OCDS extensions patch the release schema."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@functools.cache
def _patched_schema_bytes(with_uk_extension: bool) -> bytes:
    schema = _read_json(STANDARD_DIR / "release-schema.json")
    if with_uk_extension:
        schema = merge_patch(schema, _read_json(UK_EXTENSION_DIR / "release-schema.json"))
    return orjson.dumps(schema)


def release_schema(with_uk_extension: bool = True) -> dict[str, Any]:
    """The release schema (a fresh copy), patched with the UK extension unless asked not to."""
    return orjson.loads(_patched_schema_bytes(with_uk_extension))


def write_patched_schema(path: Path, with_uk_extension: bool = True) -> Path:
    """Write the patched release schema to a file (for tools such as `ocdskit compile --schema`)."""
    path.write_bytes(_patched_schema_bytes(with_uk_extension))
    return path

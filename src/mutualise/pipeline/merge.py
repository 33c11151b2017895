"""OCDS merge rules, applied to nested dicts with a merge plan precomputed from the schema.

The result is identical to `ocdsmerge.Merger(schema).create_compiled_release(releases)` (see
tests/pipeline/test_merge.py), but instead of flattening every release into a dict of JSON paths and
unflattening the result, releases are merged straight into a tree. That is several times faster
and is what makes `compile` cheap.

The tree mirrors ocdsmerge's flat model exactly:
- a *leaf* is any value ocdsmerge stores whole (scalars, null, arrays of non-objects, anything under
  `wholeListMerge`); a later leaf replaces an earlier one;
- an `_Object` is an object ocdsmerge recursed into; an `_Array` holds the objects of an array merged
  by `id` (objects without an `id` never match anything, as in ocdsmerge);
- a container that ends up with no leaf under it is dropped, while a null leaf is dropped but still
  keeps its parent (ocdsmerge creates the parent while unflattening the null's path).

Releases flagged *simple* at ingest (no null, no empty object or array, no repeated id) are merged
lazily: a subtree such a release brings where nothing was before is kept as it is (`_Raw`), since
on its own it compiles to itself; it is opened one level at a time (`_explode`) only when a later
release brings something different there. Most releases of a process repeat the parties, the buyer
and the tender unchanged, so most of each release is compared (in C) rather than walked.
"""

from __future__ import annotations

import functools
from typing import Any

OMIT = "omitWhenMerged"
WHOLE = "wholeListMerge"


class Plan:
    """The merge rules below one path: which keys to omit, which to keep whole, and sub-plans."""

    __slots__ = ("children", "omit", "whole")

    def __init__(self) -> None:
        self.omit: set[str] = set()
        self.whole: set[str] = set()
        self.children: dict[str, Plan] = {}

    def child(self, key: str) -> Plan:
        return self.children.get(key, EMPTY_PLAN)


EMPTY_PLAN = Plan()


def _types(prop: dict[str, Any]) -> list[str]:
    kind = prop.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def _resolve(schema: dict[str, Any], prop: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """Follow a local `$ref` (the schema only uses `#/definitions/...`)."""
    while "$ref" in prop and depth < 50:
        target: Any = schema
        for part in prop["$ref"].lstrip("#/").split("/"):
            target = target[part]
        # Sibling keywords beside a $ref are ignored, as a JSON Schema draft-4 dereferencer does.
        prop = target
        depth += 1
    return prop


def _fill_plan(schema: dict[str, Any], properties: dict[str, Any], plan: Plan, depth: int) -> None:
    if depth > 30:  # the OCDS schema is not recursive; this only guards against a broken patch
        return
    for key, raw in properties.items():
        prop = _resolve(schema, raw)
        types = _types(prop)
        if prop.get("omitWhenMerged") or prop.get("mergeStrategy") == "ocdsOmit":
            plan.omit.add(key)
        elif "array" in types and (
            prop.get("wholeListMerge") or prop.get("mergeStrategy") == "ocdsVersion"
        ):
            plan.whole.add(key)
        elif "object" in types and "properties" in prop:
            sub = plan.children[key] = Plan()
            _fill_plan(schema, prop["properties"], sub, depth + 1)
        elif "array" in types and "items" in prop:
            items = _resolve(schema, prop["items"])
            item_types = _types(items)
            if any(kind != "object" for kind in item_types):
                plan.whole.add(key)
            elif "object" in item_types and "properties" in items:
                if "id" not in items["properties"]:
                    plan.whole.add(key)
                else:
                    sub = plan.children[key] = Plan()
                    _fill_plan(schema, items["properties"], sub, depth + 1)


def build_plan(schema: dict[str, Any]) -> Plan:
    """Derive the merge plan from a release schema, by the rules of OCDS merging."""
    plan = Plan()
    _fill_plan(schema, schema.get("properties", {}), plan, 0)
    return plan


@functools.cache
def default_plan() -> Plan:
    """The plan for the shipped OCDS 1.1.5 schema patched with the UK extension."""
    from mutualise.pipeline.schema import release_schema

    return build_plan(release_schema())


class MergeConflict(ValueError):
    """A release has an object or array where an earlier release had a different kind of value."""


class _Object(dict):
    __slots__ = ()


class _Array(dict):
    """Objects of an array keyed by their `id` (objects without one get a key of their own)."""

    __slots__ = ()


class _Raw:
    """A subtree of a simple release, stored as it is: it compiles to itself (see the module)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _History(list):
    """The versions of one field in a versioned release."""

    __slots__ = ()


def _is_leaf(value: Any, key: str, plan: Plan) -> bool:
    kind = type(value)
    if kind is dict:
        return key in plan.whole
    if kind is list:
        return key in plan.whole or not _all_objects(value)
    return True


def _all_objects(items: list) -> bool:
    # A loop, not all(<generator>): this runs for every array of every release merged.
    for item in items:  # noqa: SIM110
        if type(item) is not dict:
            return False
    return True


class Merger:
    """Merge releases of one ocid into a compiled (or versioned) release."""

    def __init__(self, plan: Plan | None = None, versioned: bool = False) -> None:
        self.plan = plan or default_plan()
        self.versioned = versioned
        self._stamp: dict[str, Any] = {}
        self._written: set[int] = set()
        # A subtree kept as it is must compile to itself: no key below the top may be omitted.
        self.lazy = not versioned and not _omits_below_top(self.plan)

    # -- leaves -------------------------------------------------------------------------------
    def _set_leaf(self, node: dict, key: Any, value: Any) -> None:
        existing: Any = node.get(key)
        kind = type(existing)
        if kind is _Raw or ((kind is _Object or kind is _Array) and _has_leaf(existing)):
            # ocdsmerge keeps the container when the leaf's path comes later (e.g. a null object);
            # a container with nothing under it never existed for ocdsmerge, so the leaf wins.
            return
        if not self.versioned:
            node[key] = value
        elif existing is not None and kind is not _History:
            return  # an array item's `id`: ocdsmerge keeps the first one, unversioned
        elif kind is _History:
            # A field written twice in one release (duplicate ids) keeps only the last write, as
            # ocdsmerge flattens each release into one dict before versioning it.
            if id(existing) in self._written:
                existing.pop()
            if not existing or existing[-1]["value"] != value:
                existing.append({**self._stamp, "value": value})
                self._written.add(id(existing))
        else:
            history = node[key] = _History([{**self._stamp, "value": value}])
            self._written.add(id(history))

    # -- containers ---------------------------------------------------------------------------
    def _merge_object(self, node: dict, source: dict, plan: Plan, simple: bool = False) -> None:
        # The hottest loop of compile: `_is_leaf` and `_set_leaf`'s common case are inlined.
        omit = plan.omit
        whole = plan.whole
        versioned = self.versioned
        for key, value in source.items():
            if key in omit:
                continue
            kind = type(value)
            if (kind is dict and key not in whole) or (
                kind is list and key not in whole and _all_objects(value)
            ):
                if value:
                    self._merge_container(node, key, value, plan.child(key), simple)
                # Empty objects and arrays add nothing (ocdsmerge skips them) unless kept whole.
                continue
            existing_kind = type(node.get(key))
            if (
                versioned
                or existing_kind is _Raw
                or existing_kind is _Object
                or existing_kind is _Array
            ):
                self._set_leaf(node, key, value)
            else:
                node[key] = value

    def _merge_container(self, node: dict, key: Any, value: Any, plan: Plan, simple: bool) -> None:
        existing: Any = node.get(key)
        existing_kind = type(existing)
        if existing_kind is _Raw:
            if simple and existing.value == value and _ids_complete(value, plan):
                # Merging a simple subtree into an equal one changes nothing but the leaves'
                # values (the later release wins, e.g. 1.0 over 1).
                existing.value = value
                return
            existing = node[key] = _explode(existing.value, plan)
            existing_kind = type(existing)
        elif simple and existing_kind is not _Object and existing_kind is not _Array:
            node[key] = _Raw(value)  # nothing, or a leaf a container replaces (see _replace)
            return
        kind = _Object if type(value) is dict else _Array
        if existing_kind is kind:
            self._merge_into(existing, value, plan, simple)
        else:
            # Build the container aside: ocdsmerge only sees it if something lands in it.
            fresh = kind()
            self._merge_into(fresh, value, plan, simple)
            if _has_leaf(fresh):
                self._replace(node, key, existing, fresh)

    def _merge_into(self, container: dict, value: Any, plan: Plan, simple: bool) -> None:
        if type(container) is _Object:
            self._merge_object(container, value, plan, simple)
        else:
            self._merge_array(container, value, plan, simple)  # type: ignore[arg-type]

    def _replace(self, node: dict, key: Any, existing: Any, fresh: dict) -> None:
        # A leaf (usually null) may be replaced by an object or array; an object turning into an
        # array (or back) is invalid data on which ocdsmerge raises too.
        if (type(existing) is _Object or type(existing) is _Array) and _has_leaf(existing):
            raise MergeConflict(f"/{key} changes between an object and an array")
        node[key] = fresh

    def _merge_array(self, node: _Array, items: list, plan: Plan, simple: bool = False) -> None:
        for item in items:
            ident = _ident(item)
            child = node.get(ident)
            if child is None:
                if simple:
                    node[ident] = _Raw(item)
                    continue
                child = node[ident] = _Object()
                if self.versioned and item.get("id") is not None:
                    child["id"] = item["id"]
            elif type(child) is _Raw:
                if simple and child.value == item and _ids_complete(item, plan):
                    child.value = item
                    continue
                child = node[ident] = _explode(child.value, plan)
            self._merge_object(child, item, plan, simple)

    # -- public -------------------------------------------------------------------------------
    def compiled(
        self, releases: list[dict[str, Any]], simple: list[bool] | None = None
    ) -> dict[str, Any]:
        """The compiled release: the same as ocdsmerge's `create_compiled_release`.

        `simple[i]` says release i is simple (see the module); only then may it be merged lazily.
        """
        root = _Object()
        root["tag"] = ["compiled"]
        plan = self.plan
        lazy = self.lazy
        flags = simple if simple is not None and lazy else [False] * len(releases)
        for release, flag in _sorted(releases, flags):
            ocid, date = release.get("ocid"), release.get("date")
            root["id"] = f"{ocid}-{date}"
            root["date"] = date
            root["ocid"] = ocid
            self._merge_object(root, _without_tag(release), plan, flag)
        return _output(root) or {}

    def versioned_release(self, releases: list[dict[str, Any]]) -> dict[str, Any]:
        """The versioned release: the same as ocdsmerge's `create_versioned_release`."""
        root = _Object()
        ocid = None
        for release, _ in _sorted(releases, [False] * len(releases)):
            self._stamp = {
                "releaseID": release.get("id"),
                "releaseDate": release.get("date"),
                "releaseTag": release.get("tag"),
            }
            self._written = set()
            ocid = release.get("ocid")
            body = {key: value for key, value in release.items() if key != "tag" and key != "ocid"}
            self._merge_object(root, body, self.plan)
            root["ocid"] = ocid
        return _output(root) or {}


def _without_tag(release: dict[str, Any]) -> dict[str, Any]:
    # ocdsmerge always drops the top-level `tag` (before OCDS 1.1.4 the schema did not omit it).
    if "tag" in release:
        release = dict(release)
        del release["tag"]
    return release


def _date_key(pair: tuple[dict[str, Any], bool]) -> Any:
    return pair[0]["date"]


def _ident(item: dict[str, Any]) -> Any:
    """An array item's key: its `id`, or a key equal to nothing (ocdsmerge gives it a UUID)."""
    if "id" in item:
        ident = item["id"]
        return repr(ident) if isinstance(ident, (dict, list)) else ident
    return object()


def _explode(value: Any, plan: Plan) -> dict:
    """One level of a `_Raw` subtree as tree nodes (what merging it would have built there)."""
    if type(value) is dict:
        node: dict = _Object()
        omit = plan.omit
        for key, child in value.items():
            if key not in omit:
                node[key] = child if _is_leaf(child, key, plan) else _Raw(child)
        return node
    array = _Array()
    for item in value:
        array[_ident(item)] = _Raw(item)
    return array


def _ids_complete(value: Any, plan: Plan) -> bool:
    """Whether every object of every array merged by `id` in this simple subtree has an `id`.

    Merging a subtree into an equal one changes nothing only then: an object without an `id`
    never matches, so it would be added a second time.
    """
    if type(value) is list:
        for item in value:  # noqa: SIM110 - a loop is faster than all(<generator>) here
            if "id" not in item or not _ids_complete(item, plan):
                return False
        return True
    whole = plan.whole
    for key, child in value.items():
        kind = type(child)
        container = kind is dict or (kind is list and _all_objects(child))
        if container and key not in whole and not _ids_complete(child, plan.child(key)):
            return False
    return True


def _omits_below_top(plan: Plan, top: bool = True) -> bool:
    if plan.omit and not top:
        return True
    return any(_omits_below_top(child, False) for child in plan.children.values())


def _has_leaf(node: dict) -> bool:
    """Whether anything (even a null) was stored under a container."""
    for value in node.values():
        kind = type(value)
        if (kind is not _Object and kind is not _Array) or _has_leaf(value):
            return True  # a leaf, or a _Raw subtree (never empty: it holds a leaf)
    return False


def _sorted(releases: list[dict[str, Any]], flags: list[bool]) -> list[tuple[dict[str, Any], bool]]:
    pairs = list(zip(releases, flags, strict=True))
    if len(pairs) == 1:
        return pairs
    return sorted(pairs, key=_date_key)  # stable: same-date releases keep their order


def _output(node: Any) -> Any:
    """Turn the tree back into JSON values; `None` means 'nothing under here'."""
    kind = type(node)
    if kind is _Raw:
        return node.value
    if kind is _Object:
        result: dict[str, Any] = {}
        present = False
        for key, value in node.items():
            vkind = type(value)
            if vkind is _Raw:
                result[key] = value.value
                present = True
            elif vkind is _Object or vkind is _Array:
                converted = _output(value)
                if converted is not None:
                    result[key] = converted
                    present = True
            else:
                present = True  # a null leaf still keeps its parent object
                if value is not None:
                    result[key] = list(value) if vkind is _History else value
        return result if present else None
    items = [converted for child in node.values() if (converted := _output(child)) is not None]
    return items or None

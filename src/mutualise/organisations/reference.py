"""Regions, sectors and public-body types from rules/reference.yaml, as Django choices."""

from __future__ import annotations

from functools import cache

from mutualise.rules import load_yaml


@cache
def _items(key: str) -> tuple[tuple[str, str], ...]:
    return tuple((item["code"], item["name"]) for item in load_yaml("reference.yaml")[key])


def region_choices() -> list[tuple[str, str]]:
    return list(_items("regions"))


def sector_choices() -> list[tuple[str, str]]:
    return list(_items("sectors"))


def public_body_type_choices() -> list[tuple[str, str]]:
    return list(_items("public_body_types"))


def england_regions() -> frozenset[str]:
    return frozenset(load_yaml("reference.yaml")["england_regions"])


def label(key: str, code: str) -> str:
    return dict(_items(key)).get(code, code)

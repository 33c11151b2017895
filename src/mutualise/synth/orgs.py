"""The synthetic world's organisations (suppliers and buyers) and the noise in their names."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mutualise.synth.catalogue import (
    CAUSES,
    POSTCODE_AREAS,
    SIC_BY_SECTOR,
    SIC_GENERAL,
    STREET_WORDS,
)
from mutualise.synth.names import (
    BUSINESS_TAILS,
    SURNAMES,
    TRADE_WORDS,
    IdentifierPool,
)
from mutualise.synth.programme import ENGLAND_REGIONS, SECTOR_SERVICE, SECTORS

PSM = "PUBLIC_SERVICE_MUTUAL"
OTHER_SE = "OTHER_SOCIAL_ENTERPRISE_OR_VCSE"
SME = "SME"
LARGE = "LARGE_PRIVATE"
PUBLIC_BODY = "PUBLIC_BODY"
CLASSES = (PSM, OTHER_SE, SME, LARGE, PUBLIC_BODY)


@dataclass
class Org:
    key: str
    name: str
    cls: str
    legal_form: str
    size: str  # micro | small | medium | large | public
    region: str
    postcode: str
    street: str
    town: str
    sector: str = ""
    company_number: str = ""
    society_number: str = ""
    charity_number: str = ""
    public_scheme: str = ""
    public_code: str = ""
    public_body_type: str = ""
    incorporated: date | None = None
    dissolved: bool = False
    trading_name: str = ""
    sic: tuple[str, ...] = ()
    portal_ids: list[int] = field(default_factory=list)
    programme_key: str = ""

    @property
    def register_identifier(self) -> str:
        if self.company_number:
            return f"GB-COH-{self.company_number}"
        if self.society_number:
            return f"GB-MPR-{self.society_number}"
        if self.charity_number:
            return f"GB-CHC-{self.charity_number}"
        if self.public_code:
            return f"{self.public_scheme}-{self.public_code}"
        return ""

    def identifiers(self) -> list[str]:
        result = []
        if self.company_number:
            result.append(f"GB-COH-{self.company_number}")
        if self.society_number:
            result.append(f"GB-MPR-{self.society_number}")
        if self.charity_number:
            result.append(f"GB-CHC-{self.charity_number}")
        if self.public_code:
            result.append(f"{self.public_scheme}-{self.public_code}")
        return result

    @property
    def is_vcse(self) -> bool:
        return self.cls in (PSM, OTHER_SE)

    @property
    def true_scale(self) -> str:
        return "large" if self.size == "large" else "sme"


def postcode(rng: random.Random, region: str) -> str:
    areas = POSTCODE_AREAS.get(region, POSTCODE_AREAS["london"])
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    r = rng.random
    return (
        f"{areas[int(r() * len(areas))]}{1 + int(r() * 29)} {int(r() * 10)}"
        f"{letters[int(r() * 20)]}{letters[int(r() * 20)]}"
    )


def address(rng: random.Random, region: str, town: str) -> tuple[str, str, str]:
    street = f"{rng.randint(1, 240)} {rng.choice(STREET_WORDS)}"
    return street, town, postcode(rng, region)


def normalise(name: str) -> str:
    """A crude key to keep the world's supplier names apart (not the product's normaliser)."""
    text = re.sub(r"[^a-z0-9 ]", " ", name.lower())
    text = re.sub(
        r"\b(the|limited|ltd|cic|c i c|community interest company|plc|llp|uk|co operative)\b",
        " ",
        text,
    )
    return " ".join(text.split())


LEGAL_SUFFIXES = (
    ("Community Interest Company", ("CIC", "C.I.C.", "Community Interest Company", "C.I.C")),
    ("C.I.C.", ("CIC", "C.I.C.", "Community Interest Company", "CIC.")),
    ("CIC", ("CIC", "C.I.C.", "Community Interest Company", "Cic")),
    ("Co-operative Limited", ("Co-operative Ltd", "Co-op Limited", "Cooperative Limited")),
    ("Limited", ("Ltd", "Ltd.", "LIMITED", "Limited", "")),
    ("Ltd", ("Limited", "Ltd.", "LTD", "")),
    ("plc", ("PLC", "Plc", "Public Limited Company", "p.l.c.")),
    ("LLP", ("L.L.P.", "llp", "LLP")),
)


def name_variant(rng: random.Random, org: Org) -> tuple[str, str]:
    """A published spelling of the organisation's name and the kind of noise applied."""
    name = org.name
    roll = rng.random()
    if org.trading_name and roll < 0.35:
        return (
            org.trading_name if rng.random() < 0.5 else f"{name} t/a {org.trading_name}"
        ), "trading_name"
    kind = rng.choice(
        ("suffix", "suffix", "suffix", "the", "case", "punctuation", "typo", "whitespace")
    )
    if kind == "suffix":
        for suffix, alternatives in LEGAL_SUFFIXES:
            if name.endswith(" " + suffix):
                replacement = rng.choice([a for a in alternatives if a != suffix] or [""])
                stem = name[: -len(suffix) - 1]
                return (f"{stem} {replacement}".strip(), "suffix")
        kind = "case"
    if kind == "the":
        if name.lower().startswith("the "):
            return name[4:], "the"
        return f"The {name}", "the"
    if kind == "case":
        return (name.upper() if rng.random() < 0.6 else name.lower()), "case"
    if kind == "punctuation":
        if "&" in name:
            return name.replace("&", "and"), "punctuation"
        if " and " in name:
            return name.replace(" and ", " & "), "punctuation"
        return name.replace(".", "").replace(",", "") + rng.choice((".", ",", "")), "punctuation"
    if kind == "typo":
        letters = [i for i, c in enumerate(name) if c.isalpha()]
        if len(letters) > 6:
            i = rng.choice(letters[1:-2])
            op = rng.randrange(3)
            if op == 0 and name[i + 1].isalpha():
                return name[:i] + name[i + 1] + name[i] + name[i + 2 :], "typo"
            if op == 1:
                return name[:i] + name[i + 1 :], "typo"
            return name[:i] + name[i] + name[i:], "typo"
        return name.upper(), "case"
    return name.replace(" ", "  ", 1) + " ", "whitespace"


class OrgFactory:
    """Builds the supplier organisations of the world, with unique names and identifiers."""

    def __init__(self, rng: random.Random, pool: IdentifierPool, places: list[str]) -> None:
        self.rng = rng
        self.pool = pool
        self.places = places
        self.used: set[str] = set()
        self.count = 0

    def reserve(self, name: str) -> None:
        self.used.add(normalise(name))

    def _key(self) -> str:
        self.count += 1
        return f"sup-{self.count:06d}"

    def _unique(self, make: Any, suffix: str = "Limited") -> str:
        for _ in range(12):
            name = make()
            key = normalise(name)
            if key not in self.used:
                self.used.add(key)
                return str(name)
        # The simple patterns are used up: a richer pattern (never the filler pattern, which
        # starts with a place name), then a numbered name as the last resort.
        rng = self.rng
        for _ in range(50):
            name = (
                f"{rng.choice(SURNAMES)} {rng.choice(TRADE_WORDS)} "
                f"{rng.choice(BUSINESS_TAILS)} {suffix}"
            )
            key = normalise(name)
            if key not in self.used:
                self.used.add(key)
                return name
        name = f"{make()} {self.count + 1}"
        self.used.add(normalise(name))
        return name

    def _place(self) -> str:
        return self.rng.choice(self.places)

    def _region(self) -> str:
        rng = self.rng
        return (
            rng.choice(ENGLAND_REGIONS)
            if rng.random() < 0.93
            else rng.choice(("scotland", "wales", "northern-ireland"))
        )

    def _base(self, cls: str, legal_form: str, size: str, name: str, sector: str = "") -> Org:
        rng = self.rng
        region = self._region()
        town = self._place()
        street, town, code = address(rng, region, town)
        year = rng.randint(1975, 2019) if size == "large" else rng.randint(1995, 2022)
        org = Org(
            key=self._key(),
            name=name,
            cls=cls,
            legal_form=legal_form,
            size=size,
            region=region,
            postcode=code,
            street=street,
            town=town,
            sector=sector,
            incorporated=date(year, rng.randint(1, 12), rng.randint(1, 28)),
        )
        return org

    def sme(self) -> Org:
        rng = self.rng
        pattern = rng.randrange(4)

        def make() -> str:
            if pattern == 0:
                stem = f"{rng.choice(TRADE_WORDS)} {rng.choice(BUSINESS_TAILS)}"
            elif pattern == 1:
                stem = f"{self._place()} {rng.choice(BUSINESS_TAILS)}"
            elif pattern == 2:
                stem = (
                    f"{rng.choice(SURNAMES)} & {rng.choice(SURNAMES)} {rng.choice(BUSINESS_TAILS)}"
                )
            else:
                stem = f"{rng.choice(SURNAMES)} {rng.choice(BUSINESS_TAILS)}"
            return f"{stem} {rng.choice(('Limited', 'Limited', 'Ltd'))}"

        llp = rng.random() < 0.04
        name = self._unique(make)
        if llp:
            name = name.rsplit(" ", 1)[0] + " LLP"
        size = rng.choices(("micro", "small", "medium"), (45, 35, 20))[0]
        org = self._base(SME, "llp" if llp else "company_shares", size, name)
        org.company_number = self.pool.company_number(
            leading_zero=rng.random() < 0.45, prefix="OC" if llp else ""
        )
        org.sic = (rng.choice(SIC_GENERAL),)
        org.dissolved = rng.random() < 0.04
        if rng.random() < 0.1:
            org.trading_name = f"{rng.choice(TRADE_WORDS)} {rng.choice(BUSINESS_TAILS)}"
        return org

    def large(self) -> Org:
        rng = self.rng
        pattern = rng.randrange(3)

        def make() -> str:
            word = rng.choice(TRADE_WORDS)
            tail = rng.choice(BUSINESS_TAILS)
            if pattern == 0:
                return f"{word} {tail} Group plc"
            if pattern == 1:
                return f"{word} {tail} (UK) Limited"
            return f"{word} {tail} Services Limited"

        name = self._unique(make, "Group plc" if pattern == 0 else "(UK) Limited")
        org = self._base(LARGE, "plc" if name.endswith("plc") else "company_shares", "large", name)
        org.company_number = self.pool.company_number(leading_zero=rng.random() < 0.6)
        org.sic = tuple(rng.sample(SIC_GENERAL[:16], 2))
        if rng.random() < 0.15:
            org.trading_name = f"{name.split()[0]} {rng.choice(('Care', 'Health', 'Services'))}"
        return org

    def social_enterprise(self) -> Org:
        rng = self.rng
        form = rng.choices(
            (
                "cic_guarantee",
                "cic_shares",
                "company_guarantee",
                "cio",
                "charity",
                "community_benefit_society",
                "cooperative_society",
            ),
            (30, 8, 20, 15, 10, 10, 7),
        )[0]

        def make() -> str:
            place = self._place()
            cause = rng.choice(CAUSES)
            if form.startswith("cic"):
                return (
                    f"{place} {cause} {rng.choice(('CIC', 'C.I.C.', 'Community Interest Company'))}"
                )
            if form == "company_guarantee":
                return f"{place} {cause} Limited"
            if form == "cio":
                return f"{place} {cause}"
            if form == "charity":
                return f"The {place} {cause} Trust"
            if form == "cooperative_society":
                return f"{place} {cause} Co-operative Limited"
            return f"{place} Community {cause} Limited"

        name = self._unique(
            make,
            {
                "cic_guarantee": "CIC",
                "cic_shares": "CIC",
                "community_benefit_society": "Community Limited",
                "cooperative_society": "Co-operative Limited",
                "cio": "Foundation",
                "charity": "Trust",
            }.get(form, "Limited"),
        )
        size = rng.choices(("micro", "small", "medium", "large"), (40, 35, 22, 3))[0]
        org = self._base(OTHER_SE, form, size, name)
        if form in ("cic_guarantee", "cic_shares", "company_guarantee"):
            org.company_number = self.pool.company_number(leading_zero=rng.random() < 0.3)
            org.sic = (rng.choice(SIC_GENERAL[15:17] + tuple(SIC_BY_SECTOR.values())),)
            if form == "company_guarantee":
                org.charity_number = self.pool.charity_number()
        elif form in ("cio", "charity"):
            org.charity_number = self.pool.charity_number()
        else:
            org.society_number = self.pool.society_number()
        org.dissolved = rng.random() < 0.03
        return org

    def extra_mutual(self) -> Org:
        """A public service mutual the programme never supported (most mutuals are not in it)."""
        rng = self.rng
        sector = rng.choice(SECTORS)
        brands = SECTOR_SERVICE[sector][1]
        form = rng.choices(
            (
                "cic_guarantee",
                "cic_shares",
                "company_guarantee",
                "company_shares",
                "community_benefit_society",
                "cooperative_society",
            ),
            (45, 10, 15, 8, 14, 8),
        )[0]

        def make() -> str:
            stem = f"{self._place()} {rng.choice(brands)}"
            if form.startswith("cic"):
                return f"{stem} {rng.choice(('CIC', 'C.I.C.', 'Community Interest Company'))}"
            if form == "cooperative_society":
                return f"{stem} Co-operative Limited"
            return f"{stem} Limited"

        name = self._unique(
            make,
            "Co-operative Limited"
            if form == "cooperative_society"
            else "CIC"
            if form.startswith("cic")
            else "Limited",
        )
        org = self._base(
            PSM, form, rng.choice(("small", "medium", "medium", "large")), name, sector
        )
        if form in ("community_benefit_society", "cooperative_society"):
            org.society_number = self.pool.society_number()
        else:
            org.company_number = self.pool.company_number(leading_zero=rng.random() < 0.3)
            org.sic = (SIC_BY_SECTOR[sector],)
        return org


def from_programme(org: dict[str, Any], rng: random.Random, places: list[str]) -> Org:
    """A programme organisation (a mutual, or a staff group that has incorporated)."""
    region = org["region"]
    street, town, code = address(rng, region, rng.choice(places))
    ids = {i["scheme"]: i["id"] for i in org["identifiers"]}
    spun = org["spun_out_on"] or org["journey"].get("parent_body_decision_date")
    incorporated = date.fromisoformat(spun) if spun else None
    staff = org["staff_count"] or 0
    size = "large" if staff >= 250 else ("medium" if staff >= 50 else "small")
    result = Org(
        key=org["key"],
        name=org["name"],
        cls=PSM,
        legal_form=org["legal_form"],
        size=size,
        region=region,
        postcode=code,
        street=street,
        town=town,
        sector=org["sector"],
        company_number=ids.get("GB-COH", ""),
        society_number=ids.get("GB-MPR", ""),
        charity_number=ids.get("GB-CHC", ""),
        incorporated=incorporated,
        sic=(SIC_BY_SECTOR[org["sector"]],),
        programme_key=org["key"],
    )
    if org["journey"].get("retender_outcome") == "WOUND_UP":
        result.dissolved = True
    return result


def from_public_body(body: dict[str, Any], rng: random.Random, places: list[str]) -> Org:
    region = body["region"]
    street, town, code = address(rng, region, rng.choice(places))
    ident = body["identifiers"][0]
    return Org(
        key=body["key"],
        name=body["name"],
        cls=PUBLIC_BODY,
        legal_form="public_body",
        size="public",
        region=region,
        postcode=code,
        street=street,
        town=town,
        public_scheme=ident["scheme"],
        public_code=ident["id"],
        public_body_type=body["public_body_type"],
    )

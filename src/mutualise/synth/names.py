"""Invented names and synthetic register numbers for the synthetic world.

Every name is built from word lists in this file, so the world never depends on a third-party
name generator whose output can change between versions. Register numbers fit the published
formats (DOMAIN.md §5) but are drawn from ranges the registers have not issued, except where a
noise feature needs a leading zero (see docs/adr/0004-synthetic-world.md).
"""

from __future__ import annotations

import random

PLACE_HEADS = (
    "Ash",
    "Bram",
    "Brin",
    "Calder",
    "Cold",
    "Craven",
    "Dun",
    "Elm",
    "Fair",
    "Fen",
    "Gold",
    "Hallow",
    "Hart",
    "Haver",
    "Hol",
    "Ivy",
    "Kel",
    "Kings",
    "Lang",
    "Lark",
    "Lee",
    "Lyn",
    "Marl",
    "Mead",
    "Mill",
    "Moor",
    "Nor",
    "Oak",
    "Orm",
    "Pen",
    "Quarr",
    "Raven",
    "Red",
    "Rook",
    "Rush",
    "Sal",
    "Sand",
    "Shep",
    "Stan",
    "Stow",
    "Sud",
    "Tam",
    "Thorn",
    "Wal",
    "Wes",
    "Whit",
    "Wick",
    "Wil",
    "Wold",
    "Yar",
)
PLACE_TAILS = (
    "bridge",
    "brook",
    "bury",
    "by",
    "caster",
    "combe",
    "croft",
    "dale",
    "den",
    "don",
    "field",
    "ford",
    "gate",
    "ham",
    "hampton",
    "holme",
    "hurst",
    "ington",
    "leigh",
    "ley",
    "mere",
    "minster",
    "mouth",
    "ness",
    "port",
    "stead",
    "stock",
    "stoke",
    "thorpe",
    "ton",
    "wall",
    "well",
    "wich",
    "wick",
    "worth",
)
COUNTY_TAILS = ("shire", "shire", "shire", "land", "sex")

FIRST_NAMES = (
    "Aisha",
    "Alan",
    "Amara",
    "Amir",
    "Anna",
    "Ben",
    "Bethan",
    "Callum",
    "Carys",
    "Chloe",
    "Daniel",
    "Deepa",
    "Eleanor",
    "Emeka",
    "Fatima",
    "Fiona",
    "Gareth",
    "Grace",
    "Hamza",
    "Hannah",
    "Imran",
    "Isla",
    "Jack",
    "Jasmine",
    "Kavita",
    "Kwame",
    "Laura",
    "Liam",
    "Maya",
    "Mohammed",
    "Niamh",
    "Nia",
    "Oliver",
    "Olu",
    "Priya",
    "Rachel",
    "Rhys",
    "Ruth",
    "Samir",
    "Sarah",
    "Sean",
    "Sophie",
    "Tariq",
    "Tom",
    "Una",
    "Vikram",
    "Wendy",
    "Yasmin",
    "Zainab",
    "Zoe",
)
SURNAMES = (
    "Adeyemi",
    "Ahmed",
    "Archer",
    "Bailey",
    "Baker",
    "Begum",
    "Bennett",
    "Brennan",
    "Campbell",
    "Chowdhury",
    "Clarke",
    "Davies",
    "Dhillon",
    "Edwards",
    "Evans",
    "Fletcher",
    "Foster",
    "Green",
    "Hall",
    "Hughes",
    "Hussain",
    "Jones",
    "Kaur",
    "Kelly",
    "Khan",
    "Lewis",
    "Mahmood",
    "Marsh",
    "Mensah",
    "Morgan",
    "Murphy",
    "Nowak",
    "Okafor",
    "Osei",
    "Owen",
    "Patel",
    "Price",
    "Quinn",
    "Reid",
    "Roberts",
    "Shah",
    "Singh",
    "Stewart",
    "Taylor",
    "Thomas",
    "Turner",
    "Walsh",
    "Ward",
    "Williams",
    "Wright",
)

# Words for company names: trade words and tails (index-combined for unique filler names).
TRADE_WORDS = (
    "Access",
    "Acorn",
    "Anchor",
    "Apex",
    "Arch",
    "Aspire",
    "Beacon",
    "Birch",
    "Bridge",
    "Bright",
    "Castle",
    "Cedar",
    "Circle",
    "Clear",
    "Compass",
    "Copper",
    "Core",
    "Crest",
    "Crown",
    "Delta",
    "Eagle",
    "Echo",
    "Ember",
    "Evergreen",
    "Falcon",
    "Fern",
    "Forge",
    "Frontier",
    "Granite",
    "Harbour",
    "Harvest",
    "Heron",
    "Horizon",
    "Hub",
    "Indigo",
    "Iron",
    "Juniper",
    "Keystone",
    "Kestrel",
    "Lantern",
    "Laurel",
    "Lighthouse",
    "Linden",
    "Lodge",
    "Maple",
    "Meridian",
    "Mosaic",
    "Nexus",
    "North Star",
    "Oasis",
    "Orbit",
    "Orchard",
    "Oxbow",
    "Paragon",
    "Pathway",
    "Pebble",
    "Phoenix",
    "Pinnacle",
    "Pioneer",
    "Prism",
    "Quay",
    "Quest",
    "Rainbow",
    "Ridge",
    "River",
    "Rowan",
    "Sapphire",
    "Sentinel",
    "Signal",
    "Silver",
    "Skyline",
    "Spire",
    "Spring",
    "Summit",
    "Swift",
    "Sycamore",
    "Thistle",
    "Tidal",
    "Timber",
    "Torch",
    "Trident",
    "Unity",
    "Vale",
    "Vanguard",
    "Vector",
    "Velvet",
    "Vista",
    "Wren",
    "Willow",
    "Zenith",
)
BUSINESS_TAILS = (
    "Associates",
    "Building Services",
    "Cleaning",
    "Consulting",
    "Digital",
    "Engineering",
    "Facilities",
    "Group",
    "Holdings",
    "Interiors",
    "IT Solutions",
    "Logistics",
    "Maintenance",
    "Management",
    "Media",
    "Partners",
    "Property",
    "Recruitment",
    "Security",
    "Services",
    "Software",
    "Solutions",
    "Supplies",
    "Systems",
    "Technologies",
    "Trading",
    "Training",
    "Transport",
    "Ventures",
    "Workshop",
    "Catering",
    "Construction",
    "Care",
    "Consultancy",
    "Healthcare",
    "Education",
    "Landscapes",
    "Design",
    "Print",
    "Analytics",
)


def place_names() -> list[str]:
    """All invented place names, in a fixed order."""
    return [head + tail for head in PLACE_HEADS for tail in PLACE_TAILS]


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def email_for(name: str, domain: str = "example.org") -> str:
    local = ".".join(part.lower() for part in name.replace("'", "").split())
    return f"{local}@{domain}"


class IdentifierPool:
    """Hands out unique synthetic register numbers, one scheme at a time.

    Companies House numbers are 8 digits starting with 9 (a range not yet issued) or, for the
    share that exercises the "not zero-padded" noise, 8 digits starting with 0; prefixed numbers
    use the real prefixes with a 9 after them (CE9xxxxx, SC9xxxxx). FCA society numbers are 6
    digits starting with 9 and suffix R; charity numbers are 7 digits starting with 19.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _unique(self, make: object) -> str:
        assert callable(make)
        for _ in range(1000):
            value = make()
            if value not in self.used:
                self.used.add(value)
                return str(value)
        raise RuntimeError("identifier space exhausted")

    def company_number(self, leading_zero: bool = False, prefix: str = "") -> str:
        rng = self.rng
        if prefix:
            return self._unique(lambda: f"{prefix}9{rng.randrange(0, 100000):05d}")
        if leading_zero:
            # 0 then 7 digits; the 7-digit tail never starts with 0 so stripping gives 7 digits.
            return self._unique(lambda: f"0{rng.randrange(1000000, 10000000)}")
        # 90000000-94999999; filler companies use 95000000-99999999 (see registers.py).
        return self._unique(lambda: f"9{rng.randrange(0, 5000000):07d}")

    def society_number(self) -> str:
        rng = self.rng
        return self._unique(lambda: f"{rng.randrange(900000, 1000000)}R")

    def charity_number(self) -> str:
        rng = self.rng
        return self._unique(lambda: f"19{rng.randrange(0, 100000):05d}")

    def local_authority_code(self) -> str:
        rng = self.rng
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        return self._unique(lambda: "Z" + "".join(rng.choice(letters) for _ in range(3)))

    def nhs_code(self) -> str:
        rng = self.rng
        return self._unique(lambda: f"ZZ{rng.randrange(1000, 10000)}")

    def government_code(self) -> str:
        rng = self.rng
        return self._unique(lambda: f"ZZG{rng.randrange(1, 100000)}")

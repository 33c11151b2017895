"""Reference lists the synthetic world draws on: CPV codes, SIC codes, postcodes, causes.

The reservable CPV list mirrors DOMAIN.md §4 (PCR 2015 reg 77). The product's own copy of the
rule lives in rules/; this list only decides which synthetic tenders may be reserved.
"""

from __future__ import annotations

# PCR 2015 regulation 77 list (DOMAIN.md §4): exact codes plus the 85000000-85323000 range.
RESERVABLE_CPV_EXACT = frozenset(
    {
        "75121000",
        "75122000",
        "75123000",
        "79622000",
        "79624000",
        "79625000",
        "80110000",
        "80300000",
        "80420000",
        "80430000",
        "80511000",
        "80520000",
        "80590000",
        "92500000",
        "92600000",
        "98133000",
        "98133110",
    }
)


def is_reservable(cpv: str) -> bool:
    return cpv in RESERVABLE_CPV_EXACT or 85000000 <= int(cpv) <= 85323000


# Service CPVs by programme sector: (code, description). All but a few are reservable.
SECTOR_CPV: dict[str, tuple[tuple[str, str], ...]] = {
    "health": (
        ("85100000", "Health services"),
        ("85323000", "Community health services"),
        ("85140000", "Miscellaneous health services"),
        ("85142000", "Paramedical services"),
    ),
    "social-care": (
        ("85310000", "Social work services"),
        ("85311000", "Social work services with accommodation"),
        ("85312000", "Social work services without accommodation"),
        ("85320000", "Social services"),
    ),
    "childrens-services": (
        ("85311300", "Welfare services for children and young people"),
        ("80110000", "Pre-school education services"),
        ("85312110", "Day-care services for children"),
    ),
    "youth-services": (
        ("85312300", "Guidance and counselling services"),
        ("85311300", "Welfare services for children and young people"),
        ("92600000", "Sporting services"),
    ),
    "libraries-culture": (
        ("92500000", "Library, archives, museums and other cultural services"),
        ("92510000", "Library and archives services"),
        ("92511000", "Library services"),
    ),
    "leisure": (
        ("92600000", "Sporting services"),
        ("92610000", "Sports facilities operation services"),
        ("92620000", "Sport-related services"),
    ),
    "education": (
        ("80300000", "Higher education services"),
        ("80520000", "Training facilities"),
        ("80590000", "Tutorial services"),
        ("80000000", "Education and training services"),
    ),
    "employment": (
        ("80590000", "Tutorial services"),
        ("85312300", "Guidance and counselling services"),
        ("79622000", "Supply services of domestic help personnel"),
    ),
    "housing": (
        ("98133000", "Services furnished by social membership organisations"),
        ("85311000", "Social work services with accommodation"),
        ("75123000", "Administrative housing services"),
    ),
    "back-office": (
        ("75121000", "Administrative educational services"),
        ("75122000", "Administrative healthcare services"),
        ("79410000", "Business and management consultancy services"),
    ),
}

# Other purchases public bodies make (mostly not reservable).
OTHER_CPV: tuple[tuple[str, str, str], ...] = (
    ("72000000", "IT services: consulting, software development, Internet and support", "services"),
    ("79410000", "Business and management consultancy services", "services"),
    ("45000000", "Construction work", "works"),
    ("45453000", "Overhaul and refurbishment work", "works"),
    ("90910000", "Cleaning services", "services"),
    ("90500000", "Refuse and waste related services", "services"),
    ("55524000", "School catering services", "services"),
    ("63712400", "Parking services", "services"),
    ("71000000", "Architectural, construction, engineering and inspection services", "services"),
    ("50700000", "Repair and maintenance services of building installations", "services"),
    ("79211000", "Accounting services", "services"),
    ("60100000", "Road transport services", "services"),
    ("30200000", "Computer equipment and supplies", "goods"),
    ("34144900", "Electric vehicles", "goods"),
    ("79600000", "Recruitment services", "services"),
    ("77310000", "Planting and maintenance services of green areas", "services"),
)

SERVICE_WORDS = {
    "85100000": "health services",
    "85323000": "community health services",
    "85140000": "health and wellbeing services",
    "85142000": "therapy services",
    "85310000": "social work services",
    "85311000": "supported living",
    "85312000": "home care and day services",
    "85320000": "social care services",
    "85311300": "children's and young people's services",
    "80110000": "early years provision",
    "85312110": "children's day care",
    "85312300": "information, advice and guidance",
    "92600000": "sport and physical activity services",
    "92500000": "library and cultural services",
    "92510000": "library and archive services",
    "92511000": "library services",
    "92610000": "leisure centre management",
    "92620000": "sports development",
    "80300000": "adult and higher education",
    "80520000": "training services",
    "80590000": "tutoring and skills support",
    "80000000": "education and training",
    "79622000": "employment support",
    "98133000": "community and housing support",
    "75123000": "housing management",
    "75121000": "education administration",
    "75122000": "healthcare administration",
    "79410000": "management consultancy",
}

# SIC 2007 codes as Companies House writes them ("code - description").
SIC_BY_SECTOR = {
    "health": "86900 - Other human health activities",
    "social-care": "88100 - Social work activities without accommodation for the elderly and "
    "disabled",
    "childrens-services": "88910 - Child day-care activities",
    "youth-services": "88990 - Other social work activities without accommodation n.e.c.",
    "libraries-culture": "91011 - Library activities",
    "leisure": "93110 - Operation of sports facilities",
    "education": "85590 - Other education n.e.c.",
    "employment": "78109 - Other activities of employment placement agencies",
    "housing": "87900 - Other residential care activities n.e.c.",
    "back-office": "82990 - Other business support service activities n.e.c.",
}
SIC_GENERAL = (
    "62020 - Information technology consultancy activities",
    "70229 - Management consultancy activities other than financial management",
    "41201 - Construction of commercial buildings",
    "43390 - Other building completion and finishing",
    "81210 - General cleaning of buildings",
    "38110 - Collection of non-hazardous waste",
    "56290 - Other food services",
    "49410 - Freight transport by road",
    "71129 - Other engineering activities",
    "69201 - Accounting and auditing activities",
    "78200 - Temporary employment agency activities",
    "82990 - Other business support service activities n.e.c.",
    "68209 - Other letting and operating of own or leased real estate",
    "47190 - Other retail sale in non-specialised stores",
    "96090 - Other service activities n.e.c.",
    "86900 - Other human health activities",
    "88990 - Other social work activities without accommodation n.e.c.",
    "99999 - Dormant Company",
)
SIC_FOR_CPV_PREFIX = {
    "72": "62020 - Information technology consultancy activities",
    "79": "70229 - Management consultancy activities other than financial management",
    "45": "41201 - Construction of commercial buildings",
    "90": "81210 - General cleaning of buildings",
    "55": "56290 - Other food services",
    "63": "52219 - Other service activities incidental to land transportation, n.e.c.",
    "71": "71129 - Other engineering activities",
    "50": "43390 - Other building completion and finishing",
    "60": "49390 - Other passenger land transport",
    "30": "46510 - Wholesale of computers, computer peripheral equipment and software",
    "34": "45190 - Sale of other motor vehicles",
    "77": "81300 - Landscape service activities",
    "85": "86900 - Other human health activities",
    "80": "85590 - Other education n.e.c.",
    "92": "93290 - Other amusement and recreation activities n.e.c.",
    "98": "94990 - Activities of other membership organisations n.e.c.",
    "75": "84110 - General public administration activities",
}

CAUSES = (
    "Carers Centre",
    "Community Transport",
    "Wellbeing",
    "Foodbank",
    "Family Support",
    "Youth Trust",
    "Advice Centre",
    "Recovery Service",
    "Community Action",
    "Volunteer Centre",
    "Arts Centre",
    "Sports Trust",
    "Homeless Support",
    "Learning Trust",
    "Independent Living",
    "Dementia Support",
    "Mental Health Support",
    "Befriending Service",
    "Credit Union Services",
    "Environmental Trust",
)

# Postcode areas by region (outward letters only; the rest is random, so codes are invented).
POSTCODE_AREAS = {
    "north-east": ("NE", "SR", "DH", "TS"),
    "north-west": ("M", "L", "PR", "BB", "CA", "WA"),
    "yorkshire-humber": ("LS", "S", "BD", "HU", "YO", "WF"),
    "east-midlands": ("NG", "LE", "DE", "NN", "LN"),
    "west-midlands": ("B", "CV", "WV", "ST", "WS", "DY"),
    "east-of-england": ("CB", "NR", "IP", "CM", "PE", "LU"),
    "london": ("E", "N", "SE", "SW", "W", "NW"),
    "south-east": ("RG", "OX", "BN", "ME", "GU", "SO", "PO"),
    "south-west": ("BS", "EX", "PL", "GL", "BA", "TA"),
    "scotland": ("EH", "G", "AB", "DD"),
    "wales": ("CF", "SA", "LL", "NP"),
    "northern-ireland": ("BT",),
}
STREET_WORDS = (
    "High Street",
    "Station Road",
    "Church Lane",
    "Market Place",
    "Mill Road",
    "Park Avenue",
    "Victoria Road",
    "Queen Street",
    "King Street",
    "The Parade",
    "Riverside",
    "Enterprise Way",
    "Innovation Park",
    "Civic Centre",
    "Chapel Street",
    "London Road",
    "Bridge Street",
)
COUNTIES = (
    "",
    "",
    "",
    "WEST YORKSHIRE",
    "GREATER MANCHESTER",
    "KENT",
    "DEVON",
    "ESSEX",
    "NORFOLK",
    "WEST MIDLANDS",
    "HAMPSHIRE",
    "LANCASHIRE",
)

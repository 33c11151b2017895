"""Generate the whole synthetic world: programme, registers, OCDS releases and ground truth.

Layout of `out_dir` (see docs/synthetic-world.md):

    programme.json
    registers/companies-house/BasicCompanyData-2026-11-01-part1_1.csv
    registers/fca/SocietyList.csv
    registers/charities/publicextract.charity.json
    ocds/contracts-finder/releases-YYYY.jsonl.gz   one release per line
    ocds/find-a-tender/packages-YYYY.jsonl.gz      one release package per line
    truth/{supplier_mentions,organisations,predecessors,outcomes,reservations}.parquet
    world.json
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from mutualise.synth.names import IdentifierPool, place_names
from mutualise.synth.ocds import (
    NoiseRates,
    ReleaseSink,
    RetenderRates,
    Simulator,
    Truth,
    WeightedPool,
)
from mutualise.synth.orgs import (
    LARGE,
    OTHER_SE,
    PSM,
    PUBLIC_BODY,
    SME,
    Org,
    OrgFactory,
    from_programme,
    from_public_body,
)
from mutualise.synth.programme import LIVE_STAGES, SIZES, _public_bodies, generate_programme
from mutualise.synth.registers import (
    CH_FILE,
    CHARITY_FILE,
    FCA_FILE,
    MAX_REGISTER_ROWS,
    write_charities,
    write_companies_house,
    write_fca,
)
from mutualise.synth.truth import TruthWriter

GENERATOR_VERSION = "1.0.0"
MAX_RELEASES = 50_000_000

__all__ = ["GENERATOR_VERSION", "NoiseRates", "RetenderRates", "WorldSummary", "generate_world"]

Progress = Callable[[str, int, int], None]


@dataclass
class WorldSummary:
    out_dir: Path
    seed: int
    programme_size: str
    requested_releases: int
    releases: int
    releases_by_tag: dict[str, int]
    register_rows: int
    counts: dict[str, int]
    truth_rows: dict[str, int]
    rates: dict[str, float]
    noise: dict[str, float]
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    generator_version: str = GENERATOR_VERSION

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["out_dir"] = str(self.out_dir)
        data.pop("seconds")  # keeps world.json identical between runs
        return data


def _check(releases: int, seed: int, programme_size: str, register_rows: int | None) -> None:
    if not isinstance(releases, int) or releases < 1 or releases > MAX_RELEASES:
        raise ValueError(f"releases must be a whole number from 1 to {MAX_RELEASES:,}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError("seed must be a whole number, 0 or more")
    if programme_size not in SIZES:
        raise ValueError(f"programme size must be one of {', '.join(SIZES)}")
    if register_rows is not None and not 0 <= register_rows <= MAX_REGISTER_ROWS:
        raise ValueError(f"register rows must be from 0 to {MAX_REGISTER_ROWS:,}")


def generate_world(
    out_dir: Path,
    releases: int,
    seed: int,
    programme_size: str = "small",
    rates: RetenderRates | None = None,
    *,
    register_rows: int | None = None,
    noise: NoiseRates | None = None,
    progress: Progress | None = None,
) -> WorldSummary:
    """Write the world into `out_dir` (created if missing). Deterministic for a seed."""
    _check(releases, seed, programme_size, register_rows)
    rates = rates or RetenderRates()
    rates.validate()
    noise = noise or NoiseRates()
    noise.validate()
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    # 1. The programme, and the organisations it names.
    programme = generate_programme(seed, programme_size)
    (out_dir / "programme.json").write_bytes(orjson.dumps(programme, option=orjson.OPT_INDENT_2))
    rng = random.Random(f"mutualise-world:{seed}:{programme_size}")
    pool = IdentifierPool(random.Random(f"mutualise-world-ids:{seed}:{programme_size}"))
    for item in programme["public_bodies"] + programme["organisations"]:
        for identifier in item["identifiers"]:
            pool.used.add(identifier["id"])
    programme_words = {w for b in programme["public_bodies"] for w in b["name"].split()}
    places = [p for p in place_names() if p not in programme_words]
    rng.shuffle(places)
    address_places = place_names()

    buyers = [from_public_body(b, rng, address_places) for b in programme["public_bodies"]]
    units = max(1, min(50, releases // 20_000))
    for index, body in enumerate(_public_bodies(rng, units, places, pool), start=1):
        scheme = {"local-authority": "GB-LAE", "nhs": "GB-NHS"}.get(body.kind, "GB-GOR")
        buyers.append(
            from_public_body(
                {
                    "key": f"buyer-{index:04d}",
                    "name": body.name,
                    "public_body_type": body.kind,
                    "region": body.region,
                    "identifiers": [{"scheme": scheme, "id": body.code}],
                },
                rng,
                address_places,
            )
        )

    programme_orgs: list[Org] = []
    live_mutuals: list[tuple[dict[str, Any], Org]] = []
    stage_of: dict[str, str] = {}
    for organisation in programme["organisations"]:
        stage_of[organisation["key"]] = organisation["stage"]
        if organisation["legal_form"] == "none" or not organisation["identifiers"]:
            continue
        org = from_programme(organisation, rng, address_places)
        programme_orgs.append(org)
        if organisation["stage"] in LIVE_STAGES:
            live_mutuals.append((organisation, org))

    # 2. Supplier organisations, sized by the number of releases asked for.
    factory = OrgFactory(rng, pool, places or address_places)
    for org in programme_orgs + buyers:
        factory.reserve(org.name)
    n_suppliers = max(300, releases // 30)
    smes = [factory.sme() for _ in range(int(n_suppliers * 0.62))]
    social = [factory.social_enterprise() for _ in range(int(n_suppliers * 0.17))]
    large = [factory.large() for _ in range(int(n_suppliers * 0.12))]
    extra_psms = [factory.extra_mutual() for _ in range(max(20, int(n_suppliers * 0.03)))]
    active_mutuals = [
        org
        for o, org in live_mutuals
        if o["journey"]["retender_outcome"] not in ("WOUND_UP", "ACQUIRED")
    ]
    psm_pool = active_mutuals + extra_psms
    rng.shuffle(psm_pool)
    pools = {
        SME: WeightedPool(smes),
        OTHER_SE: WeightedPool(social),
        LARGE: WeightedPool(large, skew=1.0),
        PSM: WeightedPool(psm_pool, skew=0.5),
        PUBLIC_BODY: WeightedPool(buyers, skew=0.5),
    }
    report("organisations", 1, 1)

    # 3. OCDS releases and their truth.
    truth_writer = TruthWriter(out_dir / "truth")
    truth = Truth(truth_writer.write)
    sink = ReleaseSink(out_dir / "ocds")
    simulator = Simulator(
        random.Random(f"mutualise-ocds:{seed}:{programme_size}"),
        sink,
        truth,
        rates,
        noise,
        pools,
        buyers,
    )
    buyer_by_key = {b.key: b for b in buyers}
    for organisation, org in live_mutuals:
        group = simulator.programme_group(
            organisation, org, buyer_by_key[organisation["parent_body"]]
        )
        simulator.run_group(group)
    last = 0
    while sink.count < releases:
        if simulator.rng.random() < 0.04:
            simulator.run_framework()
        else:
            simulator.run_group(simulator.random_group())
        if sink.count - last >= 5_000:
            last = sink.count
            report("releases", min(sink.count, releases), releases)
    report("releases", releases, releases)
    ocds_files = sink.close()

    everyone = programme_orgs + smes + social + large + extra_psms + buyers
    for org in everyone:
        truth.add(
            "organisations",
            {
                "key": org.key,
                "name": org.name,
                "class": org.cls,
                "role": (
                    "public_body"
                    if org.cls == PUBLIC_BODY
                    else "programme"
                    if org.programme_key
                    else "supplier"
                ),
                "legal_form": org.legal_form,
                "size": org.size,
                "identifiers": org.identifiers(),
                "register_identifier": org.register_identifier,
                "postcode": org.postcode,
                "region": org.region,
                "trading_name": org.trading_name,
                "in_companies_house_file": bool(org.company_number) and not org.dissolved,
                "programme_key": org.programme_key,
                "programme_stage": stage_of.get(org.programme_key, ""),
            },
        )
    truth.close()
    truth_rows = truth_writer.close()

    # 4. Registers.
    register_rng = random.Random(f"mutualise-registers:{seed}:{programme_size}")
    companies = [o for o in everyone if o.company_number]
    supplier_count = len(smes) + len(social) + len(large) + len(psm_pool)
    rows = register_rows if register_rows is not None else 20 * supplier_count
    ch_dir = out_dir / "registers" / "companies-house"
    ch_dir.mkdir(parents=True, exist_ok=True)
    report("registers", 0, 3)
    ch_rows = write_companies_house(ch_dir / CH_FILE, companies, rows, register_rng)
    report("registers", 1, 3)
    fca_dir = out_dir / "registers" / "fca"
    fca_dir.mkdir(parents=True, exist_ok=True)
    societies = [o for o in everyone if o.society_number]
    fca_rows = write_fca(
        fca_dir / FCA_FILE, societies, max(50, 3 * len(societies)), register_rng, pool
    )
    report("registers", 2, 3)
    charity_dir = out_dir / "registers" / "charities"
    charity_dir.mkdir(parents=True, exist_ok=True)
    charities = [o for o in everyone if o.charity_number]
    charity_rows = write_charities(
        charity_dir / CHARITY_FILE, charities, max(50, 3 * len(charities)), register_rng, pool
    )
    report("registers", 3, 3)

    counts = {
        "public_bodies": len(programme["public_bodies"]),
        "buyers": len(buyers),
        "programme_organisations": len(programme["organisations"]),
        "live_mutuals": len(live_mutuals),
        "ambassadors": len(programme["ambassadors"]),
        "suppliers_sme": len(smes),
        "suppliers_social_enterprise_or_vcse": len(social),
        "suppliers_large_private": len(large),
        "suppliers_public_service_mutual": len(psm_pool),
        "awards": simulator.awards,
        "supplier_mentions": simulator.mentions,
        "companies_house_rows": ch_rows,
        "fca_rows": fca_rows,
        "charity_rows": charity_rows,
    }
    files = [
        "programme.json",
        f"registers/companies-house/{CH_FILE}",
        f"registers/fca/{FCA_FILE}",
        f"registers/charities/{CHARITY_FILE}",
    ]
    files += [str(p.relative_to(out_dir)) for p in ocds_files]
    files += [f"truth/{name}.parquet" for name in sorted(truth_rows)]
    summary = WorldSummary(
        out_dir=out_dir,
        seed=seed,
        programme_size=programme_size,
        requested_releases=releases,
        releases=sink.count,
        releases_by_tag=dict(sorted(sink.by_tag.items())),
        register_rows=ch_rows,
        counts=counts,
        truth_rows=truth_rows,
        rates=asdict(rates),
        noise=asdict(noise),
        files=[*files, "world.json"],
    )
    summary.seconds = time.perf_counter() - started
    world = summary.as_json()
    world["out_dir"] = "."
    world["ocds_layout"] = {
        "ocds/contracts-finder/releases-YYYY.jsonl.gz": "one OCDS release per line "
        "(ocid prefix ocds-b5fd17-)",
        "ocds/find-a-tender/packages-YYYY.jsonl.gz": "one release package per line, up to 100 "
        "releases each (ocid prefix ocds-h6vhtk-)",
    }
    world["snapshot_date"] = "2026-11-01"
    (out_dir / "world.json").write_bytes(orjson.dumps(world, option=orjson.OPT_INDENT_2))
    return summary

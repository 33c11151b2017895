"""`mutualise chains`, `outcomes`, `reservation …`, `export outcomes` and `watch load|alerts`."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()
error_console = Console(stderr=True)
reservation_app = typer.Typer(
    help="Reserving contracts for public service mutuals.", no_args_is_help=True
)
watch_app = typer.Typer(help="Contract watch in the app database.", no_args_is_help=True)

Warehouse = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        help="Warehouse directory (default $MUTUALISE_WAREHOUSE_DIR or var/warehouse)",
    ),
]
Engine = Annotated[str, typer.Option("--engine", help="duckdb or spark")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    error_console.print(f"[red]Error:[/red] {message}")
    return typer.Exit(code)


def chains_command(engine: Engine = "duckdb", warehouse: Warehouse = None) -> None:
    """Link each contract to the procurement that replaced it (warehouse table retender_links)."""
    from mutualise.pipeline.chains import run_chains

    if engine not in ("duckdb", "spark"):
        raise _fail(f"--engine must be duckdb or spark, not {engine!r}", 2)
    try:
        with console.status("Linking contracts to their re-tenders…") as status:
            summary = run_chains(
                warehouse, engine=engine, progress=lambda step: status.update(f"chains: {step}")
            )
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from exc
    console.print(
        f"{summary.contracts:,} contracts, {summary.candidates:,} candidate pairs, "
        f"{summary.links:,} re-tender links in {summary.seconds:.1f} s ({engine}"
        f"{', with supplier_links' if summary.supplier_links_used else ', no supplier_links yet'})."
    )


def outcomes_command(
    engine: Engine = "duckdb",
    warehouse: Warehouse = None,
    as_of: Annotated[
        str | None, typer.Option(help="Snapshot date YYYY-MM-DD (default: latest release)")
    ] = None,
) -> None:
    """Give each ended contract of interest its re-tender outcome (warehouse table contract_outcomes)."""
    from mutualise.pipeline.outcomes import run_outcomes

    if as_of is not None:
        try:
            date.fromisoformat(as_of)
        except ValueError as exc:
            raise _fail(f"--as-of must be YYYY-MM-DD, not {as_of!r}", 2) from exc
    try:
        with console.status("Deciding outcomes…") as status:
            summary = run_outcomes(
                warehouse,
                engine=engine,
                as_of=as_of,
                progress=lambda step: status.update(f"outcomes: {step}"),
            )
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from exc
    console.print(
        f"Outcomes as of {summary.as_of} ({summary.seconds:.1f} s, {summary.notices:,} open notices matched):"
    )
    for outcome, count in sorted(summary.outcomes.items()):
        console.print(f"  {outcome:<24} {count:>9,}")


def check_command(
    cpv: Annotated[
        list[str] | None, typer.Option("--cpv", help="CPV code (repeat for several)")
    ] = None,
    max_term_months: Annotated[
        int | None, typer.Option("--max-term-months", help="Maximum term incl. extensions")
    ] = None,
    award_date: Annotated[str | None, typer.Option("--award-date", help="YYYY-MM-DD")] = None,
    procedure: Annotated[str | None, typer.Option("--procedure")] = None,
    supplier: Annotated[str | None, typer.Option("--supplier", help="e.g. GB-COH-01234567")] = None,
    buyer: Annotated[str | None, typer.Option("--buyer", help="e.g. GB-LAE-E08000001")] = None,
    ocid: Annotated[
        str | None,
        typer.Option(
            "--ocid",
            help="Check a procurement from the warehouse (after `mutualise chains`); the "
            "options above override what it published",
        ),
    ] = None,
    award_id: Annotated[
        str | None, typer.Option("--award-id", help="Which award of --ocid (if it has several)")
    ] = None,
    warehouse: Warehouse = None,
) -> None:
    """Could this procurement be reserved for public service mutuals? Exit 0 eligible, 1 not, 2 bad input."""
    from mutualise.pipeline import reservation

    try:
        if ocid is not None:
            published = _published_procurement(ocid, award_id, warehouse)
            console.print(published.pop("described"), highlight=False, soft_wrap=True)
            cpv = cpv or published["cpv"]
            max_term_months = max_term_months or published["max_term_months"]
            award_date = award_date or published["award_date"]
            procedure = procedure or published["procedure"]
            buyer = buyer or published["buyer"]
            supplier = supplier or published["supplier"]
        missing = [
            option
            for option, value in (
                ("--cpv", cpv),
                ("--max-term-months", max_term_months),
                ("--award-date", award_date),
            )
            if not value
        ]
        if missing:
            where = f" ({ocid} does not publish it)" if ocid else " (or give --ocid)"
            raise reservation.ReservationInputError(f"missing {', '.join(missing)}{where}")
        supplier_facts, prior = None, ()
        if supplier:
            supplier_facts, prior = _supplier_facts(supplier, warehouse)
        question = reservation.make_question(
            cpv or [],
            max_term_months or 0,
            award_date or "",
            procedure=procedure,
            supplier=supplier_facts,
            buyer_identifier=buyer,
            prior_awards=prior,
        )
    except reservation.ReservationInputError as exc:
        raise _fail(str(exc), 2) from exc
    result = reservation.check(question)
    console.print(f"[bold]{result.verdict}[/bold]")
    console.print(
        f"Regime: {result.regime.title + ' (' + result.regime.name + ')' if result.regime else 'none'}"
        f"; rules version {result.rules_version}"
    )
    for condition in result.conditions:
        mark = {
            "pass": "PASS",
            "fail": "FAIL",
            "unknown": "FAIL (cannot confirm)",
            "not_checked": "NOT CHECKED",
        }[condition.status]
        console.print(
            f"  {mark:<22} {condition.label}: {condition.reason}", highlight=False, soft_wrap=True
        )
    if result.cool_off_ends_on:
        console.print(
            f"Cool-off ends on {result.cool_off_ends_on:%d %B %Y}; eligible again from "
            f"{result.eligible_again_on:%d %B %Y}."
        )
    for note in result.notes:
        console.print(note)
    raise typer.Exit(0 if result.eligible else 1)


def _published_procurement(ocid: str, award_id: str | None, warehouse: Path | None) -> dict:
    """What the warehouse's contract_facts say about one award: CPV, term, dates, parties."""
    import duckdb

    from mutualise.pipeline import reservation
    from mutualise.pipeline.warehouse import resolve_dir

    folder = resolve_dir(warehouse) / "tables" / "contract_facts"
    if not any(folder.glob("*.parquet")):
        raise reservation.ReservationInputError(
            f"no contract_facts in {folder.parent.parent}: run `mutualise chains` first"
        )
    query = (
        "SELECT award_id, cpv_id, award_date, start_date, greatest(end_date, renewal_max_extent), "
        "method_details, buyer_identifier, coalesce(organisation_identifier, supplier_identifier), "
        "title FROM read_parquet(?) WHERE ocid = ? ORDER BY award_id"
    )
    rows = duckdb.connect().execute(query, [f"{folder}/*.parquet", ocid]).fetchall()
    if award_id is not None:
        rows = [row for row in rows if row[0] == award_id]
    awards = sorted({row[0] for row in rows})
    if not rows:
        detail = f" with award {award_id!r}" if award_id is not None else ""
        raise reservation.ReservationInputError(f"no award of {ocid!r}{detail} in the warehouse")
    if len(awards) > 1:
        raise reservation.ReservationInputError(
            f"{ocid} has {len(awards)} awards: choose one with --award-id ({', '.join(awards)})"
        )
    award, _, awarded, start, end, method, buyer, supplier, title = rows[0]
    codes = sorted({row[1] for row in rows if row[1]})
    term = reservation.contract_term_months(start, end)
    return {
        "cpv": codes,
        "max_term_months": term,
        "award_date": (awarded or start).isoformat() if (awarded or start) else None,
        "procedure": method,
        "buyer": buyer,
        "supplier": supplier if supplier and reservation.identifier_scheme(supplier) else None,
        "described": f"From OCDS: {ocid} award {award} — {title or 'untitled'}; "
        f"CPV {', '.join(codes) or 'none'}; "
        f"term {term if term is not None else 'unknown'} months; "
        f"procedure {method or 'not given'}; buyer {buyer or 'no identifier'}; "
        f"supplier {supplier or 'no identifier'}.",
    }


def _supplier_facts(identifier: str, warehouse: Path | None) -> tuple[object, tuple]:
    """The supplier's conditions from the programme's record, and its reserved awards (warehouse)."""
    from mutualise.pipeline import reservation
    from mutualise.pipeline.warehouse import resolve_dir

    if reservation.identifier_scheme(identifier) is None:
        raise reservation.ReservationInputError(
            f"{identifier!r} is not an organisation identifier (scheme-id, e.g. GB-COH-01234567)"
        )
    from mutualise.cli import django_setup

    django_setup()
    from mutualise.watch.services import (
        _organisation_for,
        canonical_identifier,
        supplier_conditions,
    )

    canonical = canonical_identifier(identifier)
    organisation = _organisation_for(canonical)
    facts = reservation.SupplierFacts(
        canonical, organisation.name if organisation else "", **supplier_conditions(organisation)
    )
    prior = []
    folder = resolve_dir(warehouse) / "tables" / "contract_facts"
    if any(folder.glob("*.parquet")):
        import duckdb

        query = (
            "SELECT buyer_identifier, buyer_key, coalesce(organisation_identifier, supplier_identifier), "
            "cpv_id, award_date, ocid, award_id FROM read_parquet(?) "
            "WHERE reserved AND award_date IS NOT NULL AND cpv_id IS NOT NULL"
        )
        rows = duckdb.connect().execute(query, [f"{folder}/*.parquet"]).fetchall()
        for buyer_id, buyer_key, supplier_id, cpv, day, ocid, award in rows:
            if canonical_identifier(supplier_id) != canonical:
                continue
            prior.append(
                reservation.PriorAward(
                    buyer_id or buyer_key, canonical, (cpv,), day, True, ocid, award
                )
            )
    return facts, tuple(prior)


def missed_report_command(
    out: Annotated[
        Path | None, typer.Argument(help="CSV file to write (default: print a summary)")
    ] = None,
    warehouse: Warehouse = None,
) -> None:
    """Contracts won by large firms that could have been reserved for mutuals but were not."""
    import pyarrow.dataset as ds

    from mutualise.pipeline.reservation import contract_term_months, missed_reservation
    from mutualise.pipeline.warehouse import resolve_dir

    folder = resolve_dir(warehouse) / "tables" / "contract_facts"
    if not any(folder.glob("*.parquet")):
        raise _fail(f"no contract_facts in {folder.parent.parent}: run `mutualise chains` first")
    table = ds.dataset(folder, format="parquet").to_table(
        filter=(ds.field("supplier_class") == "LARGE_PRIVATE")
    )
    columns = [
        "ocid",
        "award_id",
        "buyer_identifier",
        "buyer_name",
        "supplier_name",
        "supplier_identifier",
        "cpv_id",
        "award_date",
        "start_date",
        "end_date",
        "term_months",
        "value_pence",
        "regime",
    ]
    found = []
    for row in table.to_pylist():
        missed, regime = missed_reservation(row)
        if missed:
            row["term_months"] = contract_term_months(row["start_date"], row["end_date"])
            row["regime"] = regime
            found.append(row)
    if out is not None:
        from mutualise.core.csvsafe import safe_row

        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for row in found:
                writer.writerow(safe_row(row.get(c) for c in columns))
        console.print(f"Wrote {len(found):,} contracts to {out}.")
    else:
        console.print(
            f"{len(found):,} of {table.num_rows:,} large-firm contracts could have been reserved."
        )


def load_cpv_command(
    regime: Annotated[str, typer.Argument(help="e.g. procurement-act-2023-s33")],
    source: Annotated[Path, typer.Argument(help="CSV: code_from,code_to,description,source")],
) -> None:
    """Install a regime's reservable CPV list (e.g. Schedule 1 Table 1 of SI 2024/692, services marked R)."""
    from mutualise.pipeline import reservation
    from mutualise.rules import RulesError

    try:
        rows = reservation.install_cpv_list(regime, source)
    except (RulesError, FileNotFoundError, KeyError) as exc:
        raise _fail(str(exc), 2) from exc
    console.print(f"Loaded {rows} CPV rows for {regime}.")


def export_outcomes_command(
    out: Annotated[Path, typer.Argument(help="CSV file to write")], warehouse: Warehouse = None
) -> None:
    """One row per ended contract of interest, with its successor and outcome."""
    from mutualise.pipeline.outcomes import export_outcomes

    try:
        rows = export_outcomes(out, warehouse)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from exc
    console.print(f"Wrote {rows:,} outcomes to {out}.")


def load_command(
    warehouse: Warehouse = None,
    refresh_evidence: Annotated[
        bool,
        typer.Option(
            "--refresh-evidence/--no-refresh-evidence",
            help="Take a new public evidence snapshot after the load (the default)",
        ),
    ] = True,
) -> None:
    """Load chains, outcomes, notices and (once `mutualise resolve` has run) supplier links and
    the review queue from the warehouse into the app database (idempotent), then refresh the
    public evidence so the dashboard shows what was loaded."""
    from mutualise.cli import django_setup

    django_setup()
    from mutualise.watch.services import load_from_warehouse

    summary = load_from_warehouse(warehouse)
    if summary.skipped:
        console.print(f"Nothing loaded: {summary.skipped}")
        return
    console.print(
        f"Contracts: {summary.created:,} new, {summary.updated:,} changed, {summary.unchanged:,} "
        f"unchanged; {summary.links:,} links, {summary.outcomes:,} outcomes, {summary.notices:,} notices."
    )
    _load_suppliers(warehouse)
    if refresh_evidence:
        _refresh_evidence()


def _load_suppliers(warehouse: Path | None) -> None:
    """The supplier pages and the review queue read the resolve step's latest tables."""
    from mutualise.pipeline.resolve import ResolveError
    from mutualise.suppliers.services import load_supplier_links

    try:
        loaded = load_supplier_links(warehouse)
    except ResolveError as exc:
        console.print(f"Suppliers not loaded: {exc}")
        return
    console.print(
        f"Suppliers: {loaded['organisations']:,} organisations, "
        f"{loaded['review_items']:,} mentions to review."
    )


def _refresh_evidence() -> None:
    from mutualise.evidence.services import refresh_snapshot

    try:
        snapshot = refresh_snapshot()
    except Exception as exc:  # the load itself is committed; say what to run
        raise _fail(
            f"the contracts are loaded but the evidence snapshot failed ({exc}); "
            "run `mutualise evidence refresh`"
        ) from exc
    console.print(f"Public evidence refreshed: snapshot {snapshot.snapshot_id}.")


def alerts_command(
    on: Annotated[str | None, typer.Option(help="Pretend today is YYYY-MM-DD")] = None,
) -> None:
    """Send due contract alerts (run on a schedule; never sends the same event twice)."""
    from mutualise.cli import django_setup

    django_setup()
    from mutualise.watch.services import send_due_alerts

    day = date.fromisoformat(on) if on else None
    console.print(f"Sent {send_due_alerts(day):,} alerts.")


def register(app: typer.Typer) -> None:
    app.command("chains")(chains_command)
    app.command("outcomes")(outcomes_command)
    reservation_app.command("check")(check_command)
    reservation_app.command("missed-report")(missed_report_command)
    reservation_app.command("load-cpv")(load_cpv_command)
    app.add_typer(reservation_app, name="reservation")
    watch_app.command("load")(load_command)
    watch_app.command("alerts")(alerts_command)
    app.add_typer(watch_app, name="watch")
    try:
        from mutualise.pipeline.cli import export_app
    except ModuleNotFoundError:  # the pipeline CLI is not there: give export its own group
        export_app = typer.Typer(name="export", help="Export warehouse data.", no_args_is_help=True)
        app.add_typer(export_app, name="export")
    export_app.command("outcomes")(export_outcomes_command)

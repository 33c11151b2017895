"""The demo step on a tiny synthetic world: chains → outcomes → load, twice, changes nothing;
and `mutualise watch load` refreshes the public evidence after loading."""

import pytest
from typer.testing import CliRunner

from mutualise.cli import app
from mutualise.evidence.models import Snapshot
from mutualise.watch.demo import load_after_pipeline
from mutualise.watch.models import ContractOutcome, RetenderLink, WatchedContract


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    from mutualise.pipeline.chains import run_chains
    from mutualise.pipeline.outcomes import run_outcomes
    from mutualise.pipeline.run import run_pipeline
    from mutualise.synth.world import generate_world

    root = tmp_path_factory.mktemp("watch-load")
    generate_world(root / "world", releases=1500, seed=5)
    run_pipeline([root / "world" / "ocds"], warehouse_dir=root / "wh")
    run_chains(root / "wh")
    run_outcomes(root / "wh")
    return root / "wh"


@pytest.mark.django_db
def test_load_after_pipeline_is_idempotent(warehouse):
    first = load_after_pipeline(warehouse)
    assert first.created > 100 and first.outcomes > 50 and first.links > 50
    counts = (
        WatchedContract.objects.count(),
        ContractOutcome.objects.count(),
        RetenderLink.objects.count(),
    )
    second = load_after_pipeline(warehouse)
    assert (second.created, second.updated) == (0, 0)
    assert counts == (
        WatchedContract.objects.count(),
        ContractOutcome.objects.count(),
        RetenderLink.objects.count(),
    )
    assert WatchedContract.objects.filter(value_pence__isnull=False).exists()


@pytest.mark.django_db
def test_watch_load_refreshes_the_public_evidence(warehouse):
    result = CliRunner().invoke(app, ["watch", "load", "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    snapshot = Snapshot.objects.get()
    assert f"snapshot {snapshot.snapshot_id}" in result.output
    assert snapshot.row_counts.get("contracts", 0) == WatchedContract.objects.count()


@pytest.mark.django_db
def test_watch_load_can_leave_the_evidence_alone(warehouse):
    result = CliRunner().invoke(
        app, ["watch", "load", "--warehouse", str(warehouse), "--no-refresh-evidence"]
    )
    assert result.exit_code == 0, result.output
    assert WatchedContract.objects.exists() and not Snapshot.objects.exists()


@pytest.mark.django_db
def test_watch_load_loads_supplier_links_once_resolve_has_run(warehouse, tmp_path):
    import shutil

    from mutualise.pipeline.registers.loaders import load_register
    from mutualise.pipeline.resolve import resolve
    from mutualise.suppliers.models import SupplierMention, SupplierOrganisation

    copy = tmp_path / "wh"
    shutil.copytree(warehouse, copy)
    arguments = ["watch", "load", "--warehouse", str(copy), "--no-refresh-evidence"]
    before = CliRunner().invoke(app, arguments)
    assert before.exit_code == 0, before.output
    assert "Suppliers not loaded" in before.output and "mutualise resolve" in before.output

    registers = warehouse.parent / "world" / "registers" / "companies-house"
    load_register("companies-house", sorted(registers.glob("*.csv")), copy)
    resolved = resolve(copy)
    after = CliRunner().invoke(app, arguments)
    assert after.exit_code == 0, after.output
    assert SupplierMention.objects.count() == resolved.mentions > 100
    organisations = SupplierOrganisation.objects.count()
    assert organisations > 10 and f"Suppliers: {organisations:,} organisations" in after.output

"""The demo step on a tiny synthetic world: chains → outcomes → load, twice, changes nothing."""

import pytest

from mutualise.watch.demo import load_after_pipeline
from mutualise.watch.models import ContractOutcome, RetenderLink, WatchedContract


@pytest.mark.django_db
def test_load_after_pipeline_is_idempotent(tmp_path):
    from mutualise.pipeline.run import run_pipeline
    from mutualise.synth.world import generate_world

    generate_world(tmp_path / "world", releases=1500, seed=5)
    run_pipeline([tmp_path / "world" / "ocds"], warehouse_dir=tmp_path / "wh")
    first = load_after_pipeline(tmp_path / "wh")
    assert first.created > 100 and first.outcomes > 50 and first.links > 50
    counts = (
        WatchedContract.objects.count(),
        ContractOutcome.objects.count(),
        RetenderLink.objects.count(),
    )
    second = load_after_pipeline(tmp_path / "wh")
    assert (second.created, second.updated) == (0, 0)
    assert counts == (
        WatchedContract.objects.count(),
        ContractOutcome.objects.count(),
        RetenderLink.objects.count(),
    )
    assert WatchedContract.objects.filter(value_pence__isnull=False).exists()

"""evidence.services: reading snapshots."""


def test_a_forked_child_reads_with_its_own_duckdb_and_the_parent_keeps_its_own():
    """Snapshot reads share one DuckDB per process; a forked child (an ingest worker, a Spark
    gateway launch) must neither use nor free the parent's, whose threads it does not have."""
    import os

    from mutualise.evidence import services

    with services._reader() as cursor:
        assert cursor.execute("SELECT 1").fetchone() == (1,)
    pid = os.fork()
    if pid == 0:  # the child: exit codes carry the result, never an exception
        try:
            with services._reader() as cursor:
                os._exit(0 if cursor.execute("SELECT 42").fetchone() == (42,) else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with services._reader() as cursor:
        assert cursor.execute("SELECT 2").fetchone() == (2,)

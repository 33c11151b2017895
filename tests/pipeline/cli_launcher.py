"""Run the `mutualise` CLI in a subprocess with test knobs read from the environment.

The kill-and-rerun tests start commands through this file (`python cli_launcher.py ARGS...`), so
they run the real command code in a process of their own that can be SIGKILLed. Two knobs, both
off unless set, change how often the code reaches its commit points, never what it commits:

- MUTUALISE_TEST_INGEST_BATCH_SIZE: rows per committed ingest batch (default 10,000), so a
  small input is committed in many batches and a kill can land between and inside commits;
- MUTUALISE_TEST_FETCH_NO_WAIT=1: the fetcher's clock does not sleep between requests (the
  CLI's own `make_clock` seam), so politeness delays of 1-10 s do not dominate the run.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime


class NoWaitClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        return None

    def utcnow(self) -> datetime:
        return datetime.now(UTC)


def main() -> None:
    batch = os.environ.get("MUTUALISE_TEST_INGEST_BATCH_SIZE")
    if batch:
        from mutualise.pipeline import ingest

        ingest.BATCH_SIZE = int(batch)
    if os.environ.get("MUTUALISE_TEST_FETCH_NO_WAIT") == "1":
        from mutualise.pipeline.sources import cli as sources_cli

        sources_cli.make_clock = NoWaitClock
    from mutualise.cli import app

    sys.argv[0] = "mutualise"
    app()


if __name__ == "__main__":
    main()

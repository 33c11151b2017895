"""Settings for the test suite: test mode and a throwaway var directory, set before the settings
read the environment (pytest-django imports settings before any conftest runs)."""

import os
import tempfile

os.environ.setdefault("MUTUALISE_MODE", "test")
os.environ.setdefault("MUTUALISE_VAR_DIR", tempfile.mkdtemp(prefix="mutualise-test-var-"))

from mutualise.config.settings import *  # noqa: F403

# Tests serve static files from the apps (no collectstatic); an empty root keeps WhiteNoise quiet.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

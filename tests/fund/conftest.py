import pytest

# Passwords: test mode (MUTUALISE_MODE=test, settings_test) already uses the MD5 hasher.


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"

import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Argon2 is deliberately slow; these tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"

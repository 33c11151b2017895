import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is slow by design; these tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

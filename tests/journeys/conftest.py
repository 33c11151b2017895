import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 takes about a second per user on the 2-core test machine; these tests do not
    test hashing, so use a fast hasher (sign-in still works with the same password)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

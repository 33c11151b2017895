"""Passwords are hashed with argon2id at OWASP's minimum parameters, and older hashes upgrade."""

import argon2
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password
from django.test import override_settings

from mutualise.core.hashers import OwaspArgon2PasswordHasher

HASHERS = ["mutualise.core.hashers.OwaspArgon2PasswordHasher"]


@override_settings(PASSWORD_HASHERS=HASHERS)
def test_new_hashes_use_owasp_parameters():
    encoded = make_password("a long enough passphrase")
    parameters = argon2.extract_parameters(encoded.removeprefix("argon2"))
    assert parameters.type is argon2.Type.ID
    assert (parameters.memory_cost, parameters.time_cost, parameters.parallelism) == (19456, 2, 1)
    assert check_password("a long enough passphrase", encoded)
    assert not check_password("a different passphrase", encoded)


@override_settings(PASSWORD_HASHERS=HASHERS)
def test_a_hash_made_with_djangos_defaults_verifies_and_is_remade():
    old = Argon2PasswordHasher().encode("a long enough passphrase", "saltsaltsaltsalt")
    remade: list[str] = []
    assert check_password("a long enough passphrase", old, setter=remade.append)
    assert remade == ["a long enough passphrase"], "the old hash should be re-made at sign-in"
    assert OwaspArgon2PasswordHasher().must_update(old)

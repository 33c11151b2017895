"""Password hashing: argon2id at the parameters OWASP names as its minimum.

Django's default argon2 settings (100 MiB, 2 passes, 8 lanes) cost about a second of both our
cores per sign-in on a 2-core server, so a handful of people signing in at once stall every
other request. The OWASP Password Storage Cheat Sheet (section "Argon2id") gives
m=19 MiB, t=2, p=1 as the minimum configuration, and the five settings it lists as equivalent
in strength; we use that one. The parameters are stored in each hash, so hashes made with other
parameters still verify and are re-made with these at the next sign-in (Django's must_update).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class OwaspArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

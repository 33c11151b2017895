"""Keep personal data and secrets out of the logs (UK GDPR data minimisation; ASVS 7.1).

Two layers. django-axes describes each sign-in attempt with `axes_client_str`, a keyed hash of
the username and address instead of the values, so an operator can still see that the same
client failed five times. And every log line passes through `RedactingFormatter`, which masks
email addresses and the values of fields that carry secrets or identities, whatever logger
wrote them and including exception messages (a database error can quote the row it refused).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Any

SENSITIVE_KEYS = (
    "password",
    "passwd",
    "secret",
    "token",
    "csrfmiddlewaretoken",
    "sessionid",
    "api_key",
    "authorization",
    "cookie",
    "username",
    "email",
    "full_name",
    "ip_address",
    "user_agent",
    "otp_token",
)
_KEYS = "|".join(SENSITIVE_KEYS)
_KEY_VALUE = re.compile(
    r"""(?ix)
    (['"]?\b(?:"""
    + _KEYS
    + r""")\b['"]?\s*[:=]\s*)    # a sensitive key, quoted or not, then : or =
    ((?:(?:Bearer|Basic|Token)\s+)?             # an Authorization scheme belongs to the value
     (?:'[^']*'|"[^"]*"|[^\s,;&}\])]+))         # its value, quoted or up to a separator
    """
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    text = _KEY_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    return _EMAIL.sub("[email]", text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def pseudonym(value: str) -> str:
    from django.conf import settings

    key = settings.SECRET_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:12]


def axes_client_str(
    username: str, ip_address: str, user_agent: str, path_info: Any, request: Any
) -> str:
    """How django-axes names a client in its log lines: pseudonyms, not the values."""
    path = path_info[0] if isinstance(path_info, tuple) else path_info
    return f"client={pseudonym(f'{username}|{ip_address}')} path={path}"

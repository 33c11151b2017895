"""Typed settings read from the environment, with the defaults the embedded demo needs."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]


class ConfigurationError(RuntimeError):
    """The environment asks for something the service cannot run with."""


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be true or false, not {raw!r}")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from exc


@dataclass(frozen=True)
class Environment:
    mode: str  # demo | production | test
    var_dir: Path
    database_url: str
    secret_key: str
    debug: bool
    allowed_hosts: list[str]
    warehouse_dir: Path
    media_dir: Path
    email_backend: str
    default_from_email: str
    site_url: str
    conn_max_age: int


def _secret_key(mode: str, var_dir: Path) -> str:
    key = os.environ.get("MUTUALISE_SECRET_KEY", "")
    if key:
        return key
    if mode == "production":
        raise ConfigurationError(
            "MUTUALISE_SECRET_KEY must be set in production mode (50+ random characters)"
        )
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def read_environment() -> Environment:
    mode = os.environ.get("MUTUALISE_MODE", "demo")
    if mode not in {"demo", "production", "test"}:
        raise ConfigurationError(f"MUTUALISE_MODE must be demo, production or test, not {mode!r}")
    var_dir = Path(os.environ.get("MUTUALISE_VAR_DIR", PROJECT_ROOT / "var")).resolve()
    database_url = os.environ.get("DATABASE_URL", f"sqlite:///{var_dir / 'mutualise.sqlite3'}")
    hosts = os.environ.get("MUTUALISE_ALLOWED_HOSTS", "")
    allowed_hosts = [h.strip() for h in hosts.split(",") if h.strip()] or (
        [] if mode == "production" else ["127.0.0.1", "localhost", "testserver", "[::1]"]
    )
    return Environment(
        mode=mode,
        var_dir=var_dir,
        database_url=database_url,
        secret_key=_secret_key(mode, var_dir),
        debug=_bool("MUTUALISE_DEBUG", False),
        allowed_hosts=allowed_hosts,
        warehouse_dir=Path(os.environ.get("MUTUALISE_WAREHOUSE_DIR", var_dir / "warehouse")),
        media_dir=Path(os.environ.get("MUTUALISE_MEDIA_DIR", var_dir / "uploads")),
        email_backend=os.environ.get(
            "MUTUALISE_EMAIL_BACKEND",
            "django.core.mail.backends.smtp.EmailBackend"
            if mode == "production"
            else "django.core.mail.backends.console.EmailBackend",
        ),
        default_from_email=os.environ.get(
            "MUTUALISE_FROM_EMAIL", "Mutualise <no-reply@mutualise.example>"
        ),
        site_url=os.environ.get("MUTUALISE_SITE_URL", "http://127.0.0.1:8000"),
        conn_max_age=_int("MUTUALISE_CONN_MAX_AGE", 0),
    )

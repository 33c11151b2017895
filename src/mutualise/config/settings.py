"""Django settings. Everything that varies between machines comes from the environment (env.py)."""

from __future__ import annotations

import dj_database_url

from mutualise.config.env import PROJECT_ROOT, read_environment
from mutualise.config.env import _bool as _env_bool

ENV = read_environment()
BASE_DIR = PROJECT_ROOT
SRC_DIR = PROJECT_ROOT / "src" / "mutualise"

SECRET_KEY = ENV.secret_key
DEBUG = ENV.debug
ALLOWED_HOSTS = ENV.allowed_hosts
MUTUALISE_MODE = ENV.mode
MUTUALISE_VAR_DIR = ENV.var_dir
MUTUALISE_WAREHOUSE_DIR = ENV.warehouse_dir
MUTUALISE_SITE_URL = ENV.site_url

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "govuk_frontend_django",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ninja",  # serves /api/docs from its bundled files (no CDN, no inline script)
    "mutualise.core",
    "mutualise.organisations",
    "mutualise.journeys",
    "mutualise.fund",
    "mutualise.ambassadors",
    "mutualise.watch",
    "mutualise.suppliers",
    "mutualise.evidence",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mutualise.core.middleware.ApiErrorsAsJson",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "mutualise.core.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mutualise.config.urls"
WSGI_APPLICATION = "mutualise.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SRC_DIR / "core" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mutualise.core.context_processors.service",
            ],
        },
    }
]

# Persistent connections (MUTUALISE_CONN_MAX_AGE > 0) are checked before each request reuses
# them, so a database restart between requests costs no request an error page.
DATABASES = {
    "default": dj_database_url.parse(
        ENV.database_url, conn_max_age=ENV.conn_max_age, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside one writer; IMMEDIATE makes every transaction take the write
    # lock at BEGIN, so two concurrent approvals serialise instead of failing at COMMIT.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "mutualise.core.hashers.OwaspArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if ENV.mode == "test":
    # Argon2 is slow on purpose; tests create thousands of users and check no hash strength.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "mutualise.core.password_validation.ZxcvbnValidator", "OPTIONS": {"min_score": 3}},
]
LOGIN_URL = "core:sign-in"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_ENABLED = ENV.mode != "test"
AXES_CLIENT_STR_CALLABLE = "mutualise.core.logprivacy.axes_client_str"

# Two-factor sign-in (docs/adr/0010-two-factor.md). Staff roles may turn it on; this makes it
# compulsory for them. Wrong codes are counted by mutualise.core.two_factor, so django-otp's
# own per-device back-off (which refuses even a right code for a moment) is off.
MUTUALISE_REQUIRE_STAFF_2FA = _env_bool("MUTUALISE_REQUIRE_STAFF_2FA", False)
OTP_TOTP_ISSUER = "Mutualise"
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if ENV.mode == "production":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, g:i a"
SHORT_DATE_FORMAT = "j M Y"

STATIC_URL = "/static/"
STATIC_ROOT = ENV.var_dir / "static"
STATICFILES_DIRS = [
    ("govuk-frontend", PROJECT_ROOT / "node_modules" / "govuk-frontend"),
    ("vega", PROJECT_ROOT / "node_modules" / "vega" / "build"),
    ("vega-lite", PROJECT_ROOT / "node_modules" / "vega-lite" / "build"),
    ("vega-embed", PROJECT_ROOT / "node_modules" / "vega-embed" / "build"),
]
STATICFILES_DIRS = [(prefix, path) for prefix, path in STATICFILES_DIRS if path.exists()]
WHITENOISE_USE_FINDERS = ENV.mode != "production"
MEDIA_ROOT = ENV.media_dir  # outside the web root: never served directly
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "mutualise.fund.uploads.SizeCappedUploadHandler",  # first: nothing past the limit is kept
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

EMAIL_BACKEND = ENV.email_backend
DEFAULT_FROM_EMAIL = ENV.default_from_email

TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if ENV.mode == "test"
        else "django_tasks_db.backend.DatabaseBackend"
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": "mutualise.core.logprivacy.RedactingFormatter",
            "format": "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": "INFO" if ENV.mode != "test" else "WARNING"},
    "loggers": {
        "django.security.DisallowedHost": {"level": "ERROR"},
        # 403s and 404s are in the access log; logging each with a traceback only buries the
        # errors an operator must act on.
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}
CSRF_FAILURE_VIEW = "mutualise.core.views.csrf_failure"

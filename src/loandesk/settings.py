"""LoanDesk settings. Everything that differs between deployments comes from the environment.

Documented in docs/deployment.md. Secrets that are not given are generated into `var/` on first
start (never committed), so a fresh clone runs with no configuration at all.
"""

import base64
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from loandesk import __version__

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("LOANDESK_VAR_DIR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)
WEB_DIST_DIR = Path(
    os.environ.get("LOANDESK_WEB_DIST", BASE_DIR.parent.parent / "web" / "dist")
).resolve()
VERSION = __version__


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    """A whole number from the environment; a wrong one stops the start with its name."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum or (maximum is not None and number > maximum):
        allowed = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ImproperlyConfigured(f"{name} must be a whole number {allowed}, not {value!r}")
    return number


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_from_file(name: str, make: str) -> str:
    """Read a generated secret from var/, creating it (mode 600) on first start."""
    path = VAR_DIR / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(make)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("LOANDESK_SECRET_KEY") or _secret_from_file(
    "secret_key", secrets.token_urlsafe(50)
)
# Field encryption keys: "kid:base64key,kid2:base64key"; the first one encrypts, all decrypt,
# so keys can be rotated by prepending a new one (`loandesk rotate-field-keys` re-encrypts).
LOANDESK_FIELD_KEYS = os.environ.get("LOANDESK_FIELD_KEYS") or _secret_from_file(
    "field_keys", "k1:" + base64.b64encode(secrets.token_bytes(32)).decode()
)
# Key for the blind index (keyed hash used to find encrypted values). Never rotate casually:
# every blind index would have to be recomputed.
LOANDESK_BLIND_INDEX_KEY = os.environ.get("LOANDESK_BLIND_INDEX_KEY") or _secret_from_file(
    "blind_index_key", base64.b64encode(secrets.token_bytes(32)).decode()
)
LOANDESK_DEMO_PASSWORD = os.environ.get("LOANDESK_DEMO_PASSWORD", "LoanDesk@2026")
# Sample loan applications in every approval state (seed-demo); the test suite turns them off.
LOANDESK_DEMO_FLOW_SAMPLES = _env_bool("LOANDESK_DEMO_FLOW_SAMPLES", True)
# Reports answer stock metrics from the trigger-maintained fact table when a query is covered
# (reports.facts, ADR 0012); off: always from the raw loans.
LOANDESK_REPORT_FACTS = _env_bool("LOANDESK_REPORT_FACTS", True)

DEBUG = _env_bool("LOANDESK_DEBUG", False)
TLS = _env_bool("LOANDESK_TLS", False)
ALLOWED_HOSTS = _env_list("LOANDESK_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = _env_list("LOANDESK_CSRF_TRUSTED_ORIGINS", "")

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'loandesk.sqlite3'}",
        conn_max_age=_env_int("LOANDESK_DB_CONN_MAX_AGE", 60, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run while one writer writes; IMMEDIATE takes the write lock at BEGIN
        # so concurrent writers queue on busy_timeout instead of failing with "database locked".
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
            " PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "loandesk.core",
    "loandesk.accounts",
    "loandesk.lending",
    "loandesk.forms",
    "loandesk.customers",
    "loandesk.risk",
    "loandesk.flows",
    "loandesk.postloan",
    "loandesk.notify",
    "loandesk.rules",
    "loandesk.accounting",
    "loandesk.reports",
    "loandesk.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "loandesk.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "loandesk.accounts.middleware.SessionLifetimeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "loandesk.urls"
WSGI_APPLICATION = "loandesk.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "loandesk.accounts.backends.UsernameOrPhoneBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Lockout: 5 failures for one account from one address lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = _env_int("LOANDESK_PROXY_COUNT", 0, minimum=0) or None

# Sessions: inactivity timeout and absolute lifetime, enforced by SessionLifetimeMiddleware.
LOANDESK_SESSION_IDLE_SECONDS = _env_int("LOANDESK_SESSION_IDLE_SECONDS", 1800, minimum=60)
LOANDESK_SESSION_MAX_SECONDS = _env_int("LOANDESK_SESSION_MAX_SECONDS", 43200, minimum=60)
SESSION_COOKIE_AGE = LOANDESK_SESSION_MAX_SECONDS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "loandesk_session"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # the SPA reads it to send X-CSRFToken
SESSION_COOKIE_SECURE = TLS
CSRF_COOKIE_SECURE = TLS
SECURE_SSL_REDIRECT = TLS and _env_bool("LOANDESK_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000 if TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = TLS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TLS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Roles whose users must enrol TOTP before using anything but the auth endpoints.
LOANDESK_OTP_REQUIRED_ROLES = _env_list("LOANDESK_OTP_REQUIRED_ROLES", "")
OTP_TOTP_ISSUER = "LoanDesk"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = os.environ.get("LOANDESK_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [WEB_DIST_DIR] if WEB_DIST_DIR.is_dir() else []
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_MAX_AGE = 3600

TASKS = {
    "default": {
        "BACKEND": os.environ.get("LOANDESK_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        # "cob": COB's partition tasks (postloan.tasks.run_cob_partition_task), so machines
        # can be given to COB alone (`loandesk db_worker --queue-name cob`).
        "QUEUES": ["default", "cob"],
    }
}

# How long a task worker holds a message it is sending (notify.deliveries): a worker that dies
# mid-send leaves the message to be sent again by another once this lease has run out.
LOANDESK_NOTIFY_LEASE_SECONDS = _env_int("LOANDESK_NOTIFY_LEASE_SECONDS", 120, minimum=1)

# How often the scheduler fires due approval timers (reminders, deadlines): a deadline acts at
# most this late.
LOANDESK_FLOW_TIMERS_SECONDS = _env_int("LOANDESK_FLOW_TIMERS_SECONDS", 30, minimum=1)

# One-year Loan Prime Rate in percent: the judicial cap on lending rates is 4 × LPR.
LOANDESK_LPR_ONE_YEAR = os.environ.get("LOANDESK_LPR_ONE_YEAR", "3.0")

# The nightly close of business (postloan.schedule): local time of day and its time zone.
LOANDESK_COB_TIME = os.environ.get("LOANDESK_COB_TIME", "00:30")
LOANDESK_COB_TIMEZONE = os.environ.get("LOANDESK_COB_TIMEZONE", "Asia/Shanghai")
# How the scheduled and requested COB runs split their work: LOANDESK_COB_WORKERS loan-id
# partitions (scheduled runs; the admin page chooses its own), run as background tasks spread
# over every task worker (`loandesk db_worker`, any machine) when LOANDESK_COB_VIA_TASKS is on,
# else in the task worker that took the run (docs/cob.md, "Workers").
LOANDESK_COB_MAX_WORKERS = 16  # also the admin page's limit (postloan.schemas)
LOANDESK_COB_WORKERS = _env_int(
    "LOANDESK_COB_WORKERS", 1, minimum=1, maximum=LOANDESK_COB_MAX_WORKERS
)
LOANDESK_COB_VIA_TASKS = os.environ.get("LOANDESK_COB_VIA_TASKS", "").lower() in (
    "1",
    "true",
    "yes",
)

NINJA_PAGINATION_PER_PAGE = 20
LOANDESK_MAX_PAGE_SIZE = 100

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOANDESK_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
        "apscheduler": {"level": "WARNING"},
    },
}

# The API answers lockouts itself (429 auth.locked_out) and the admin login simply fails while
# locked, so axes' HTML lockout middleware is not used.
SILENCED_SYSTEM_CHECKS = ["axes.W002"]

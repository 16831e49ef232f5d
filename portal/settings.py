"""Django settings for Logwarden, read from environment variables.

The embedded default needs nothing outside: SQLite, and Celery in-process unless REDIS_URL names a broker.
`DATABASE_URL`, `REDIS_URL` and `KAFKA_BOOTSTRAP` switch to PostgreSQL, Redis and any Kafka cluster.
`LOGWARDEN_ENV=production` refuses to start with DEBUG on, the development SECRET_KEY, a key shared by two
purposes, or any of HTTPS-only cookies, the SSL redirect, HSTS and the Content Security Policy turned off.
"""
from __future__ import annotations

import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from portal.core.config import (env_bool, env_choice, env_host_ports, env_int, env_rate, env_str, env_url,
                                pem_setting)

BASE_DIR = Path(__file__).resolve().parent.parent

DEVELOPMENT_SECRET_KEY = "logwarden-development-only-secret-key-never-use-in-production"
ENVIRONMENT = env_choice("LOGWARDEN_ENV", "development", ("development", "test", "production"))
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", ENVIRONMENT == "development")
ALLOWED_HOSTS = [h for h in env_str("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

PRODUCTION = ENVIRONMENT == "production"
# sessions, CSRF and signed values use SECRET_KEY (old keys in DJANGO_SECRET_KEY_FALLBACKS keep sessions alive
# through a rotation); the audit chain's HMAC, the hand-off's encryption and the encryption of the system principals'
# kept passwords each have their own key, so rotating one never touches the others. Outside production they default
# to SECRET_KEY (each use derives its own key from it with a purpose label).
SECRET_KEY_FALLBACKS = [k for k in env_str("DJANGO_SECRET_KEY_FALLBACKS").split(",") if k]
LOGWARDEN_AUDIT_KEY = env_str("LOGWARDEN_AUDIT_KEY", SECRET_KEY)
# retired audit chain keys, oldest first (comma-separated): the trail's events from before each rotation verify
# under them (portal/core/audit.py)
LOGWARDEN_AUDIT_RETIRED_KEYS = [k for k in env_str("LOGWARDEN_AUDIT_RETIRED_KEYS").split(",") if k]
LOGWARDEN_HANDOFF_KEY = env_str("LOGWARDEN_HANDOFF_KEY", SECRET_KEY)
LOGWARDEN_SYSTEM_CREDENTIAL_KEY = env_str("LOGWARDEN_SYSTEM_CREDENTIAL_KEY", SECRET_KEY)
# the audit trail's checkpoints and sealed exports are signed with an Ed25519 key of their own (PEM text or a
# file; outside production derived from SECRET_KEY with a purpose label); retired public keys (comma-separated PEM
# files) keep older checkpoints and exports verifiable (topics/audit/checkpoints.py)
LOGWARDEN_CHECKPOINT_KEY = pem_setting("LOGWARDEN_CHECKPOINT_KEY", "private")
LOGWARDEN_CHECKPOINT_PUBLIC_KEYS = [pem_setting("LOGWARDEN_CHECKPOINT_PUBLIC_KEYS", "public", path)
                                    for path in env_str("LOGWARDEN_CHECKPOINT_PUBLIC_KEYS").split(",") if path]
_KEYS = {"DJANGO_SECRET_KEY": SECRET_KEY, "LOGWARDEN_AUDIT_KEY": LOGWARDEN_AUDIT_KEY,
         "LOGWARDEN_HANDOFF_KEY": LOGWARDEN_HANDOFF_KEY,
         "LOGWARDEN_SYSTEM_CREDENTIAL_KEY": LOGWARDEN_SYSTEM_CREDENTIAL_KEY}

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DJANGO_DEBUG: must be off when LOGWARDEN_ENV=production")
    for _name, _key in _KEYS.items():
        if _key == DEVELOPMENT_SECRET_KEY or len(_key) < 32:
            raise ImproperlyConfigured(
                f"{_name}: set a random value of at least 32 characters when LOGWARDEN_ENV=production")
    if not LOGWARDEN_CHECKPOINT_KEY:
        raise ImproperlyConfigured("LOGWARDEN_CHECKPOINT_KEY: set an Ed25519 private key (PEM, or the path of a "
                                   "PEM file) of its own when LOGWARDEN_ENV=production")
    if len(set(_KEYS.values())) < len(_KEYS):
        raise ImproperlyConfigured(f"{', '.join(_KEYS)}: each needs its own value when LOGWARDEN_ENV=production")

# --- Mail (notifications: review reminders, break-glass uses, failed verifications) -----------------------
# Development prints mails on the console; production sends through the SMTP server given here. The portal keeps
# its own copy of every notification, so a mail outage loses nothing.
EMAIL_BACKEND = env_choice("LOGWARDEN_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION
                           else "django.core.mail.backends.console.EmailBackend",
                           ("django.core.mail.backends.smtp.EmailBackend",
                            "django.core.mail.backends.console.EmailBackend",
                            "django.core.mail.backends.locmem.EmailBackend"))
EMAIL_HOST = env_str("LOGWARDEN_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("LOGWARDEN_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("LOGWARDEN_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("LOGWARDEN_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("LOGWARDEN_EMAIL_STARTTLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("LOGWARDEN_EMAIL_FROM", "logwarden@localhost")
# how links in mails start: the address people open the portal at
LOGWARDEN_PORTAL_URL = env_url("LOGWARDEN_PORTAL_URL", "http://127.0.0.1:8000", ("http", "https"))

# --- HTTPS, cookies, headers ----------------------------------------------------------------------------
# On by default in production and refused off there; off by default elsewhere (development runs on http).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("LOGWARDEN_SECURE_COOKIES", PRODUCTION)
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("LOGWARDEN_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("LOGWARDEN_HSTS_SECONDS", 365 * 86_400 if PRODUCTION else 0, minimum=0)
# behind a proxy that terminates TLS, the header it sets on https requests ("X-Forwarded-Proto: https");
# only set it when that proxy always sets or strips the header, else a client could claim https
_proxy_header = env_str("LOGWARDEN_PROXY_SSL_HEADER")
if _proxy_header:
    _header, _, _value = (part.strip() for part in _proxy_header.partition(":"))
    if not (_header and _value):
        raise ImproperlyConfigured(f"LOGWARDEN_PROXY_SSL_HEADER: expected 'Header-Name: value' "
                                   f"(for example 'X-Forwarded-Proto: https'), got {_proxy_header!r}")
    SECURE_PROXY_SSL_HEADER = (f"HTTP_{_header.upper().replace('-', '_')}", _value)
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
LOGWARDEN_CONTENT_SECURITY_POLICY = env_str(
    "LOGWARDEN_CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# a session ends this long after sign-in, and when the browser closes
SESSION_COOKIE_AGE = env_int("LOGWARDEN_SESSION_HOURS", 8, minimum=1) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
if PRODUCTION:
    for _name, _on in (("LOGWARDEN_SECURE_COOKIES", SESSION_COOKIE_SECURE),
                       ("LOGWARDEN_SSL_REDIRECT", SECURE_SSL_REDIRECT),
                       ("LOGWARDEN_HSTS_SECONDS", SECURE_HSTS_SECONDS),
                       ("LOGWARDEN_CONTENT_SECURITY_POLICY", LOGWARDEN_CONTENT_SECURITY_POLICY)):
        if not _on:
            raise ImproperlyConfigured(f"{_name}: must be on (not empty or 0) when LOGWARDEN_ENV=production")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "portal",
    "accounts",
    "topics",
    "shipper",
]

MIDDLEWARE = [
    # outermost: whatever answers below it (a 404, a 413, a 500), a client of /api/ gets JSON
    "portal.core.middleware.ApiErrorsAsJson",
    # a lost database connection (raised by a view) is a 503 before anything below answers a 500
    "portal.core.middleware.DatabaseUnavailable",
    "django.middleware.security.SecurityMiddleware",
    "portal.core.middleware.LimitRequestBody",
    # before anything reads the request: NUL characters never reach a view, a form or PostgreSQL
    "portal.core.middleware.RejectNulCharacters",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.core.middleware.ContentSecurityPolicy",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.permissions",
                "accounts.context_processors.unread_notifications",
                "topics.context_processors.access",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}", ("sqlite", "postgres", "postgresql"))
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0))}
except ValueError as exc:  # dj_database_url's ParseError; the message never holds the URL, so the password stays out
    raise ImproperlyConfigured(f"DATABASE_URL: not a valid URL ({exc})") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take SQLite's write lock when their transaction begins (not at their first write, where two readers
    # turning writers would fail or interleave), and wait for it up to 20 s instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
# Migrations run as the owner of the tables (LOGWARDEN_MIGRATE_DATABASE_URL, on the same server); the
# application connects as DATABASE_URL's runtime role, which may only append to and read the audit trail
# (portal/core/database_roles.py). Unset: migrations run as DATABASE_URL's role.
LOGWARDEN_MIGRATE_DATABASE_URL = env_url("LOGWARDEN_MIGRATE_DATABASE_URL", "", ("postgres", "postgresql"))
# {"owner": {USER, PASSWORD}, "runtime": {USER, PASSWORD}}, kept apart from DATABASES, which the connections change
LOGWARDEN_DATABASE_ROLES = None
if LOGWARDEN_MIGRATE_DATABASE_URL:
    try:
        _owner = dj_database_url.parse(LOGWARDEN_MIGRATE_DATABASE_URL)
    except ValueError as exc:
        raise ImproperlyConfigured(f"LOGWARDEN_MIGRATE_DATABASE_URL: not a valid URL ({exc})") from None
    _runtime = DATABASES["default"]
    # only the owner's user and password are taken: the database is DATABASE_URL's (the test suite's own too)
    if any(_owner[key] != _runtime[key] for key in ("ENGINE", "HOST", "PORT")):
        raise ImproperlyConfigured("LOGWARDEN_MIGRATE_DATABASE_URL: must name the server of DATABASE_URL (a "
                                   "PostgreSQL one), with the owner role's user and password")
    if _owner["USER"] == _runtime["USER"]:
        raise ImproperlyConfigured("LOGWARDEN_MIGRATE_DATABASE_URL: the owner role must not be DATABASE_URL's "
                                   "runtime role")
    LOGWARDEN_DATABASE_ROLES = {role: {"USER": url["USER"], "PASSWORD": url["PASSWORD"]}
                                for role, url in (("owner", _owner), ("runtime", _runtime))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- passwords and authentication ---------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

from accounts.ldap.settings import ldap_settings  # noqa: E402  (needs the helpers above)

LDAP_URI = env_url("LDAP_URI", "", ("ldap", "ldaps"))
globals().update(ldap_settings(LDAP_URI))
# Local accounts first, so a local admin can still sign in while the directory is down; people created from
# LDAP have unusable local passwords, so this never lets them around the directory.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"] + (
    ["accounts.ldap.backend.PortalLDAPBackend"] if LDAP_URI else [])

# --- Redis and Celery -----------------------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "", ("redis", "rediss"))
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without a broker the embedded default runs tasks in-process, right away.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Django's LOGGING stays in charge in workers too (one configuration, one place where secrets could show)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
# Sending a task never holds a request up for long: with Redis down the change is already in the outbox
# (topics.queue), and the drain sends its run once Redis is back. One quick retry reconnects a pooled
# connection Redis closed when it restarted.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}

# --- Kafka ----------------------------------------------------------------------------------------------
KAFKA = {
    "bootstrap": env_host_ports("KAFKA_BOOTSTRAP"),
    "security_protocol": env_choice("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT",
                                    ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")),
    "sasl_mechanism": env_choice("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512", ("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN")),
    "sasl_username": env_str("KAFKA_SASL_USERNAME"),
    "sasl_password": env_str("KAFKA_SASL_PASSWORD"),
    "timeout_seconds": env_int("KAFKA_TIMEOUT_SECONDS", 10, minimum=1),
    "scram_describe_batch": env_int("KAFKA_SCRAM_DESCRIBE_BATCH", 1000, minimum=1),
}
if KAFKA["bootstrap"] and KAFKA["security_protocol"].startswith("SASL") and not (
        KAFKA["sasl_username"] and KAFKA["sasl_password"]):
    raise ImproperlyConfigured(f"KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD: both must be set when "
                               f"KAFKA_SECURITY_PROTOCOL={KAFKA['security_protocol']}")

# --- guardrails -----------------------------------------------------------------------------------------
LOGWARDEN_MAX_RETENTION_MS = env_int("LOGWARDEN_MAX_RETENTION_DAYS", 30, minimum=1) * 86_400_000
LOGWARDEN_DEFAULT_RETENTION_CLASS = env_str("LOGWARDEN_DEFAULT_RETENTION_CLASS", "standard")
LOGWARDEN_DISCOVERY_EXCLUDE = [n for n in env_str(
    "LOGWARDEN_DISCOVERY_EXCLUDE", "kube-system,kube-public,kube-node-lease").split(",") if n]
# a full reconcile reads back the configs of topics not verified for this long (change-triggered syncs always do)
LOGWARDEN_TOPIC_VERIFY_SECONDS = env_int("LOGWARDEN_TOPIC_VERIFY_SECONDS", 600, minimum=0)
# credentials: how long a new password waits for its one display; the default overlap of scheduled rotations
LOGWARDEN_HANDOFF_HOURS = env_int("LOGWARDEN_HANDOFF_HOURS", 24, minimum=1)
LOGWARDEN_ROTATION_OVERLAP_HOURS = env_int("LOGWARDEN_ROTATION_OVERLAP_HOURS", 72, minimum=1)
LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS = env_int("LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS", 14 * 24, minimum=1)
LOGWARDEN_REQUEST_TTL_DAYS = env_int("LOGWARDEN_REQUEST_TTL_DAYS", 14, minimum=1)
LOGWARDEN_DISCOVERY_INTERVAL_SECONDS = env_int("LOGWARDEN_DISCOVERY_INTERVAL_SECONDS", 300, minimum=10)

# the periodic full reconcile; the drain of the outbox (changes not yet on the broker)
LOGWARDEN_RECONCILE_INTERVAL_SECONDS = env_int("LOGWARDEN_RECONCILE_INTERVAL_SECONDS", 60, minimum=5)
LOGWARDEN_DRAIN_SECONDS = env_int("LOGWARDEN_DRAIN_SECONDS", 10, minimum=1)
# an item the broker refuses is held back this long, twice as long after each further refusal, up to the cap
LOGWARDEN_RECONCILE_RETRY_SECONDS = env_int("LOGWARDEN_RECONCILE_RETRY_SECONDS", 30, minimum=1)
LOGWARDEN_RECONCILE_RETRY_MAX_SECONDS = env_int("LOGWARDEN_RECONCILE_RETRY_MAX_SECONDS", 3600,
                                                minimum=LOGWARDEN_RECONCILE_RETRY_SECONDS)

# access reviews (topics.reviews): who reviews a grant whose namespace's owners cannot (none confirmed, or all
# can act as its principal), by username; reminders this many days before a campaign's deadline; how often
# reminders and deadlines are looked at (a missed review's no-response action runs within one interval)
LOGWARDEN_REVIEW_FALLBACK_REVIEWERS = [name.strip() for name in env_str(
    "LOGWARDEN_REVIEW_FALLBACK_REVIEWERS", "").split(",") if name.strip()]
_reminder_days = env_str("LOGWARDEN_REVIEW_REMINDER_DAYS", "7,1")
if not re.fullmatch(r"\s*\d+\s*(,\s*\d+\s*)*", _reminder_days) or 0 in map(int, _reminder_days.split(",")):
    raise ImproperlyConfigured(f"LOGWARDEN_REVIEW_REMINDER_DAYS: whole days before the deadline, at least 1, "
                               f"separated by commas (e.g. 7,1), not {_reminder_days!r}")
LOGWARDEN_REVIEW_REMINDER_DAYS = sorted({int(day) for day in _reminder_days.split(",")}, reverse=True)
LOGWARDEN_REVIEW_CHECK_SECONDS = env_int("LOGWARDEN_REVIEW_CHECK_SECONDS", 300, minimum=10)
# break-glass (topics.breakglass): the longest access a responder may grant themself
LOGWARDEN_BREAK_GLASS_MAX_HOURS = env_int("LOGWARDEN_BREAK_GLASS_MAX_HOURS", 4, minimum=1)

# periodic work (django-celery-beat stores it in the database; admins can change intervals there)
CELERY_BEAT_SCHEDULE = {
    "discover-namespaces": {"task": "shipper.discover_namespaces",
                            "schedule": float(LOGWARDEN_DISCOVERY_INTERVAL_SECONDS)},
    "reconcile-all": {"task": "topics.reconcile_all", "schedule": float(LOGWARDEN_RECONCILE_INTERVAL_SECONDS)},
    # changes whose run was never sent or lost (Redis down, a worker killed), and runs due soon (grants ending)
    "drain-broker-changes": {"task": "topics.drain_broker_changes", "schedule": float(LOGWARDEN_DRAIN_SECONDS)},
    # people removed or disabled in LDAP lose their roles, sessions and grants' effect within one interval
    "sync-directory": {"task": "accounts.sync_directory",
                       "schedule": 60.0 * env_int("LOGWARDEN_DIRECTORY_SYNC_MINUTES", 15, minimum=1)},
    # shipper fleets: routing refreshed from the catalogue, hand edits of their cluster objects found
    "check-fleets": {"task": "shipper.check_fleets",
                     "schedule": float(env_int("LOGWARDEN_FLEET_CHECK_SECONDS", 120, minimum=10))},
    # one archive job per managed topic, and the archive retention of every retention class
    "archive-topics": {"task": "topics.archive_all",
                       "schedule": float(env_int("LOGWARDEN_ARCHIVE_INTERVAL_SECONDS", 300, minimum=10))},
    # access reviews: the reminders due, and the no-response action of campaigns past their deadline
    "access-reviews-due": {"task": "topics.access_reviews_due", "schedule": float(LOGWARDEN_REVIEW_CHECK_SECONDS)},
    # the committed offsets of principals' consumer groups, whose moves the stale-access report counts as reads
    "sample-consumer-groups": {"task": "topics.sample_consumer_groups",
                               "schedule": float(env_int("LOGWARDEN_GROUP_SAMPLE_SECONDS", 900, minimum=10))},
}

# --- archive ----------------------------------------------------------------------------------------------
# Where topics are archived as Parquet (topics.archive): an absolute directory, or s3://bucket[/prefix] on an
# S3-compatible server reached with the LOGWARDEN_ARCHIVE_S3_* settings.
LOGWARDEN_ARCHIVE_STORE = env_str("LOGWARDEN_ARCHIVE_STORE", str(BASE_DIR / ".archive"))
if not (LOGWARDEN_ARCHIVE_STORE.startswith("/") or re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?",
                                                                  LOGWARDEN_ARCHIVE_STORE)):
    raise ImproperlyConfigured(f"LOGWARDEN_ARCHIVE_STORE: an absolute directory or s3://bucket[/prefix], not "
                               f"{LOGWARDEN_ARCHIVE_STORE!r}")
LOGWARDEN_ARCHIVE_S3_ENDPOINT = env_str("LOGWARDEN_ARCHIVE_S3_ENDPOINT")  # e.g. http://127.0.0.1:9000
LOGWARDEN_ARCHIVE_S3_ACCESS_KEY = env_str("LOGWARDEN_ARCHIVE_S3_ACCESS_KEY")
LOGWARDEN_ARCHIVE_S3_SECRET_KEY = env_str("LOGWARDEN_ARCHIVE_S3_SECRET_KEY")
LOGWARDEN_ARCHIVE_S3_REGION = env_str("LOGWARDEN_ARCHIVE_S3_REGION", "us-east-1")
# A file closes when it holds this many records, when the next record would take its record bytes past the size,
# when the next record is this many seconds (record time) after its first, or on a new UTC day: boundaries are a
# function of the records alone (never of the wall clock), so a re-run after a crash writes the same files.
LOGWARDEN_ARCHIVE_FILE_RECORDS = env_int("LOGWARDEN_ARCHIVE_FILE_RECORDS", 100_000, minimum=1)
LOGWARDEN_ARCHIVE_FILE_BYTES = env_int("LOGWARDEN_ARCHIVE_FILE_BYTES", 64 * 1024 * 1024, minimum=1024)
LOGWARDEN_ARCHIVE_FILE_SECONDS = env_int("LOGWARDEN_ARCHIVE_FILE_SECONDS", 3600, minimum=1)

# --- the audit trail's checkpoints ----------------------------------------------------------------------
# Every interval (also when nothing happened) the trail's head is signed and written outside the database: an
# absolute directory (files created exclusively, never overwritten) or s3://bucket[/prefix] reached with the
# LOGWARDEN_ARCHIVE_S3_* settings (a bucket made with object lock keeps them); the trail is verified against
# them on the same schedule (topics/audit/services.py).
LOGWARDEN_CHECKPOINT_STORE = env_str("LOGWARDEN_CHECKPOINT_STORE", str(BASE_DIR / ".checkpoints"))
if not (LOGWARDEN_CHECKPOINT_STORE.startswith("/") or re.fullmatch(
        r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?", LOGWARDEN_CHECKPOINT_STORE)):
    raise ImproperlyConfigured(f"LOGWARDEN_CHECKPOINT_STORE: an absolute directory or s3://bucket[/prefix], not "
                               f"{LOGWARDEN_CHECKPOINT_STORE!r}")
LOGWARDEN_CHECKPOINT_INTERVAL_SECONDS = env_int("LOGWARDEN_CHECKPOINT_INTERVAL_SECONDS", 300, minimum=10)
# on S3, each checkpoint is locked (object lock, COMPLIANCE) for this many days; 0: none asked (a bucket's default
# retention may still lock it). The bucket must have been created with object lock.
LOGWARDEN_CHECKPOINT_RETENTION_DAYS = env_int("LOGWARDEN_CHECKPOINT_RETENTION_DAYS", 0, minimum=0)
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {"task": "topics.audit_checkpoint",
                                            "schedule": float(LOGWARDEN_CHECKPOINT_INTERVAL_SECONDS)}

# --- SQL over the archive ---------------------------------------------------------------------------------
# Each query (topics.query) runs in its own DuckDB connection with these budgets, which its SQL cannot change.
LOGWARDEN_QUERY_MAX_SQL_LENGTH = env_int("LOGWARDEN_QUERY_MAX_SQL_LENGTH", 10_000, minimum=1)
LOGWARDEN_QUERY_TIMEOUT_SECONDS = env_int("LOGWARDEN_QUERY_TIMEOUT_SECONDS", 30, minimum=1)
LOGWARDEN_QUERY_MEMORY_LIMIT = env_str("LOGWARDEN_QUERY_MEMORY_LIMIT", "512MiB")
LOGWARDEN_QUERY_THREADS = env_int("LOGWARDEN_QUERY_THREADS", 2, minimum=1)
LOGWARDEN_QUERY_CONCURRENCY = env_int("LOGWARDEN_QUERY_CONCURRENCY", 4, minimum=1)  # per process
# unset: a query that outgrows its memory fails instead of spilling to disk
LOGWARDEN_QUERY_TEMP_DIRECTORY = env_str("LOGWARDEN_QUERY_TEMP_DIRECTORY")
LOGWARDEN_QUERY_TEMP_LIMIT = env_str("LOGWARDEN_QUERY_TEMP_LIMIT", "1GiB")
LOGWARDEN_QUERY_DOWNLOAD_ROWS = env_int("LOGWARDEN_QUERY_DOWNLOAD_ROWS", 100_000, minimum=1)
for _name in ("LOGWARDEN_QUERY_MEMORY_LIMIT", "LOGWARDEN_QUERY_TEMP_LIMIT"):
    if not re.fullmatch(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", globals()[_name]):
        raise ImproperlyConfigured(f"{_name}: a size such as 512MiB or 2GB, not {globals()[_name]!r}")
if LOGWARDEN_QUERY_TEMP_DIRECTORY and not LOGWARDEN_QUERY_TEMP_DIRECTORY.startswith("/"):
    raise ImproperlyConfigured(f"LOGWARDEN_QUERY_TEMP_DIRECTORY: an absolute directory, not "
                               f"{LOGWARDEN_QUERY_TEMP_DIRECTORY!r}")
# --- reading logs (topics.logs) ------------------------------------------------------------------------------
# records per page (default, largest asked), most records in one NDJSON download, the time budget of one
# request's search (reading and pattern matching: a catastrophic regular expression stops there), and how often
# an open follow stream checks its grant again (a revoke or expiry ends it within this plus about a second)
LOGWARDEN_LOGS_PAGE_SIZE = env_int("LOGWARDEN_LOGS_PAGE_SIZE", 100, minimum=1)
LOGWARDEN_LOGS_MAX_PAGE_SIZE = env_int("LOGWARDEN_LOGS_MAX_PAGE_SIZE", 500, minimum=1)
LOGWARDEN_LOGS_MAX_DOWNLOAD = env_int("LOGWARDEN_LOGS_MAX_DOWNLOAD", 100_000, minimum=1)
LOGWARDEN_LOGS_SEARCH_SECONDS = env_int("LOGWARDEN_LOGS_SEARCH_SECONDS", 5, minimum=1)
LOGWARDEN_LOGS_FOLLOW_RECHECK_SECONDS = env_int("LOGWARDEN_LOGS_FOLLOW_RECHECK_SECONDS", 2, minimum=1)
if LOGWARDEN_LOGS_PAGE_SIZE > LOGWARDEN_LOGS_MAX_PAGE_SIZE:
    raise ImproperlyConfigured("LOGWARDEN_LOGS_PAGE_SIZE: at most LOGWARDEN_LOGS_MAX_PAGE_SIZE "
                               f"({LOGWARDEN_LOGS_MAX_PAGE_SIZE}), not {LOGWARDEN_LOGS_PAGE_SIZE}")

# --- Kubernetes -----------------------------------------------------------------------------------------
# Optional: without a kubeconfig, namespaces are registered by hand.
KUBECONFIG = env_str("LOGWARDEN_KUBECONFIG") or env_str("KUBECONFIG")
if KUBECONFIG and not Path(KUBECONFIG).is_file():
    raise ImproperlyConfigured(f"LOGWARDEN_KUBECONFIG/KUBECONFIG: no file at {KUBECONFIG!r}")

# --- bad input ------------------------------------------------------------------------------------------
# free text (reasons, comments, descriptions), request bodies, lists in a body, API pages
LOGWARDEN_MAX_TEXT_LENGTH = env_int("LOGWARDEN_MAX_TEXT_LENGTH", 2000, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("LOGWARDEN_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
LOGWARDEN_MAX_LIST_LENGTH = env_int("LOGWARDEN_MAX_LIST_LENGTH", 100, minimum=1)
LOGWARDEN_API_MAX_PAGE_SIZE = env_int("LOGWARDEN_API_MAX_PAGE_SIZE", 500, minimum=1)
# anonymous health probes share one check per this many seconds
LOGWARDEN_HEALTH_CACHE_SECONDS = env_int("LOGWARDEN_HEALTH_CACHE_SECONDS", 5, minimum=0)

# --- REST API -------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "portal.api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["portal.api.support.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.support.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "portal.api.support.exception_handler",
    # per signed-in caller (people and service accounts) and per anonymous address; the other scopes are
    # counted by portal.core.throttles: refused API tokens, failed sign-ins, anonymous health probes
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle",
                                 "rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_rate("LOGWARDEN_API_RATE", "1200/min"),
        "anon": env_rate("LOGWARDEN_API_ANONYMOUS_RATE", "60/min"),
        "token_failure": env_rate("LOGWARDEN_TOKEN_FAILURE_RATE", "20/min"),
        "sign_in": env_rate("LOGWARDEN_SIGN_IN_FAILURE_RATE", "10/min"),
        "health": env_rate("LOGWARDEN_HEALTH_RATE", "120/min"),
    },
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ServiceAccountTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Logwarden API",
    "DESCRIPTION": "Who may read the logs of which Kubernetes namespace.",
    "VERSION": "0.1.0",
    # served by the portal itself: the docs page must work without reaching a CDN
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # request bodies get components of their own: without read-only fields, and with minLength on required text
    "COMPONENT_SPLIT_REQUEST": True,
    # several models have a `state`: one enum component each
    "ENUM_NAME_OVERRIDES": {**{f"{name}Enum": f"topics.models.{name}"
                               for name in ("TopicState", "RequestState", "GrantState", "CredentialState",
                                            "Sensitivity", "Decision", "ReviewDecision")},
                            "ReviewerDecisionEnum": "topics.reviews.models.REVIEWER_DECISION_CHOICES"},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "portal.api.support.blank_or_pattern"],
}

# --- the rest -------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOGWARDEN_LOG_LEVEL", "INFO")},
    "loggers": {"django_auth_ldap": {"level": "WARNING"}},
}

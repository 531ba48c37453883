"""Settings for the whole site, read from the environment (django-environ).

One module for every environment: the quickstart needs no variable at all
(SQLite, DEBUG on, no key), production refuses to start without its secrets.
Every variable is listed in README.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# The development .env that scripts/run writes (git-ignored) fills the variables the
# environment leaves unset, so manage.py works from any terminal. Production has none (the
# image leaves .env out); DJANGO_ENV_FILE= (empty) ignores it, e.g. to test the settings.
ENV_FILE = os.environ.get("DJANGO_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    environ.Env.read_env(ENV_FILE, overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)


def required_in_production(name: str, quickstart_default: str) -> str:
    """A variable that may default only while DEBUG is on, so a forgotten secret stops start-up."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return quickstart_default
    raise ImproperlyConfigured(f"{name} must be set when DJANGO_DEBUG is off.")


SECRET_KEY = required_in_production("DJANGO_SECRET_KEY", "quickstart-only-insecure-key")
ALLOWED_HOSTS = required_in_production("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_prometheus",
    "axes",
    "django_tasks_db",
    "platform_site.apps.PlatformSiteConfig",
    "accounts",
    "codegen",
    "latexocr",
]

MIDDLEWARE = [
    "platform_site.middleware.MetricsAccessMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "platform_site.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "platform_site.middleware.PrivateNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "accounts.middleware.ForcedPasswordChangeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "platform_site.urls"
WSGI_APPLICATION = "platform_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A connection to a database that does not answer gives up after 3 s (/readyz has its
    # own connection and a shorter deadline: platform_site/health.py).
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 3
    # Parameters travel apart from the query, bytea as binary: a 20 MB PDF is not first
    # rendered into the SQL text as a ~40 MB escaped literal (docs/performance.md).
    DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
    DB_POOL_MAX_SIZE = env.int("DJANGO_DB_POOL_MAX_SIZE", default=0)
    if DB_POOL_MAX_SIZE > 0:
        # A pool per process hands connections from request to request, and a request waiting
        # on the LLM gives its connection back meanwhile (platform_site.core.db_connections), so
        # waiting questions do not hold every connection (docs/performance.md).
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": min(2, DB_POOL_MAX_SIZE),
            "max_size": DB_POOL_MAX_SIZE,
            # A request waits this long for a free connection, then fails (500) rather than
            # queueing without end behind requests that hold theirs.
            "timeout": env.float("DJANGO_DB_POOL_TIMEOUT_S", default=10.0),
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts, passwords, sessions ----------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Argon2id at OWASP's floor (19 MiB, t=2, p=1): ~20 ms a login instead of PBKDF2's ~350 ms,
# and ~19 MiB a hash instead of Django's Argon2 default of ~100 MiB. See accounts/hashers.py.
# Django's own Argon2PasswordHasher must NOT be listed: it has the same algorithm name
# ("argon2"), and the last hasher of a name is the one that verifies stored hashes, which
# would bypass the concurrency cap of ours.
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first, so a locked-out attempt is refused before any backend hashes anything. Then
# ModelBackend extended with the students' first login (birth date, no hash): one query for
# either kind of login.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.AccountBackend",
]
# At most this many password hashes at once per process (~19 MiB each), so a burst of
# logins waits instead of exhausting the pod's memory.
ACCOUNTS_MAX_CONCURRENT_HASHES = env.int("ACCOUNTS_MAX_CONCURRENT_HASHES", default=4)
if ACCOUNTS_MAX_CONCURRENT_HASHES < 1:
    raise ImproperlyConfigured("ACCOUNTS_MAX_CONCURRENT_HASHES must be 1 or more.")
ACCOUNTS_REGISTRATION_OPEN = env.bool("ACCOUNTS_REGISTRATION_OPEN", default=True)
# Sign-up attempts per client address and hour (then 429); 0 = no limit (load tests).
ACCOUNTS_REGISTRATIONS_PER_HOUR = env.int("ACCOUNTS_REGISTRATIONS_PER_HOUR", default=20)
# The accessibility statement (/accessibilite/) names who deploys the site and how to reach
# them about an obstacle; an unset contact says so on the page rather than inventing one.
ACCESSIBILITY_ORGANISATION = env.str("ACCESSIBILITY_ORGANISATION", default="")
ACCESSIBILITY_CONTACT = env.str("ACCESSIBILITY_CONTACT", default="")
# /metrics answers inside the cluster only, or to `Authorization: Bearer <token>` (a Secret).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Number of proxies in front of Django that append to X-Forwarded-For (the Istio
# ingress gateway: 1). The client address is counted from the right, never the left.
TRUSTED_PROXY_HOPS = env.int("DJANGO_TRUSTED_PROXY_HOPS", default=0)

# Database sessions work across replicas. Inactivity timeout: 2 h, renewed by a request at
# most once a minute (accounts.middleware.SessionLifetimeMiddleware): saving the session on
# every request cost a database write per request (docs/performance.md).
SESSION_ENGINE = "accounts.sessions"  # the database backend, one write per login
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_IDLE_S", default=2 * 60 * 60)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_AFTER_S = env.int("DJANGO_SESSION_RENEW_AFTER_S", default=60)
# Absolute lifetime: 12 h after login the session ends however active it is
# (accounts.middleware.SessionLifetimeMiddleware).
SESSION_MAX_AGE_S = env.int("DJANGO_SESSION_MAX_AGE_S", default=12 * 60 * 60)
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# --- Security headers ------------------------------------------------------------------
# TLS ends at the Istio gateway, which sets X-Forwarded-Proto for the real client.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Probes and in-cluster metrics scrapes come over plain HTTP from the kubelet/Prometheus.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else env.int("DJANGO_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = [
    # Preloading binds the whole university domain (every subdomain, for years) to HTTPS:
    # that is the university's decision to make for its domain, not this site's.
    "security.W021",
]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "frame-src": [CSP.SELF],
    "frame-ancestors": [CSP.SELF],
    "base-uri": [CSP.SELF],
    # Overleaf's documented "open in Overleaf" is a form post to its /docs endpoint.
    "form-action": [CSP.SELF, "https://www.overleaf.com"],
}

# --- Brute force (django-axes) ---------------------------------------------------------
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
# Either counter alone locks: 5 failures for one username (any address) or from one address.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip_address"
AXES_LOCKOUT_TEMPLATE = "429.html"
# Axes' own reset-on-success deletes every attempt from the client's address, so anyone with
# one valid account could wipe the count between guesses. accounts.lockout forgives only the
# failures of the user who just logged in, from that same address.
AXES_RESET_ON_SUCCESS = False
# A refused attempt writes nothing: hammering during the lockout neither costs a database
# write nor stretches the cool-off (the lockout ends 15 minutes after the last counted failure).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Axes' AccessLog (a row per successful login) is not written: accounts.signals logs every
# login, succeeded or failed, to the "accounts.login" logger (the audit trail, with the
# request logs); the row was one more write transaction per login (docs/performance.md).
# Failures are still counted in AccessAttempt, which the lockout needs.
AXES_DISABLE_ACCESS_LOG = True
# Axes' handler, without its per-login clean-up of expired attempts (accounts/lockout.py).
AXES_HANDLER = "accounts.lockout.LockoutHandler"
# No "AXES: BEGIN version …" banner on every start and every manage.py command. Axes' own
# warnings then name the lockout parameters (username, address) and the path, not the
# browser; accounts.signals logs every login attempt anyway.
AXES_VERBOSE = False

# --- Internationalisation --------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
# Our formats first (platform_site/formats): English dates read "1 December 2026".
FORMAT_MODULE_PATH = ["platform_site.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------
STATIC_URL = "static/"
# The browser tests collect into a temporary folder so they never touch the working tree's.
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# whitenoise knows .xlsx but not .csv: the roster's CSV template is text, in UTF-8.
WHITENOISE_MIMETYPES = {".csv": "text/csv; charset=utf-8"}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Background tasks (django.tasks) ---------------------------------------------------
# "immediate" runs a task inside the request (quickstart); "database" queues it for
# `manage.py db_worker` (django-tasks-db), the production setting.
TASK_BACKENDS = {
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
DJANGO_TASKS_BACKEND = env.str("DJANGO_TASKS_BACKEND", default="immediate")
if DJANGO_TASKS_BACKEND not in TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"DJANGO_TASKS_BACKEND must be one of {sorted(TASK_BACKENDS)}, "
        f"not {DJANGO_TASKS_BACKEND!r}."
    )
TASKS = {"default": {"BACKEND": TASK_BACKENDS[DJANGO_TASKS_BACKEND]}}

# --- Outside APIs ----------------------------------------------------------------------
GEMINI_API_KEY = env.str("GEMINI_API_KEY", default="")
GEMINI_BASE_URL = env.str("GEMINI_BASE_URL", default="")
# PDFs above this size go through the Files API instead of inline data (Google's inline
# limit is 50 MB; base64 makes inline data a third larger).
GEMINI_INLINE_PDF_MAX_MB = env.int("GEMINI_INLINE_PDF_MAX_MB", default=20)
# Backoff between retries: base * 2^(n-1) with jitter, capped (a 429's RetryInfo delay is
# honoured up to the cap).
GEMINI_RETRY_BASE_S = env.float("GEMINI_RETRY_BASE_S", default=1.0)
GEMINI_RETRY_MAX_S = env.float("GEMINI_RETRY_MAX_S", default=60.0)
# An OpenAI-compatible model server the university runs (vLLM, Ollama...), with the SDK's own
# variable names; the key is optional (servers without one get a placeholder).
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_RETRY_BASE_S = env.float("OPENAI_RETRY_BASE_S", default=1.0)
OPENAI_RETRY_MAX_S = env.float("OPENAI_RETRY_MAX_S", default=60.0)

CODEGEN_BACKEND = env.str("CODEGEN_BACKEND", default="webhook")
CODEGEN_WEBHOOK_URL = env.str("CODEGEN_WEBHOOK_URL", default="")
CODEGEN_WEBHOOK_API_KEY = env.str("CODEGEN_WEBHOOK_API_KEY", default="")
CODEGEN_GEMINI_MODEL = env.str("CODEGEN_GEMINI_MODEL", default="gemini-3.8-flash")
CODEGEN_OPENAI_MODEL = env.str("CODEGEN_OPENAI_MODEL", default="")
# Stream the model server's answer to the page as it comes (every server named above can).
CODEGEN_OPENAI_STREAM = env.bool("CODEGEN_OPENAI_STREAM", default=True)
CODEGEN_TIMEOUT_S = env.float("CODEGEN_TIMEOUT_S", default=90.0)
CODEGEN_MAX_MESSAGE_CHARS = env.int("CODEGEN_MAX_MESSAGE_CHARS", default=8000)
CODEGEN_DAILY_QUOTA = env.int("CODEGEN_DAILY_QUOTA", default=100)
CODEGEN_MAX_IN_FLIGHT = env.int("CODEGEN_MAX_IN_FLIGHT", default=8)
# Pause before the webhook's single retry (doubled at most, with jitter; a 429's Retry-After
# is honoured instead when it fits in CODEGEN_TIMEOUT_S).
CODEGEN_RETRY_BACKOFF_S = env.float("CODEGEN_RETRY_BACKOFF_S", default=1.0)
# Sends of one question at most (the first included): each is a paid LLM call, and the daily
# quota counts a question once however often it is resent.
CODEGEN_MAX_SENDS = env.int("CODEGEN_MAX_SENDS", default=3)
if CODEGEN_BACKEND not in ("webhook", "gemini", "openai"):
    raise ImproperlyConfigured(
        f"CODEGEN_BACKEND must be 'webhook', 'gemini' or 'openai', not {CODEGEN_BACKEND!r}."
    )

LATEXOCR_BACKEND = env.str("LATEXOCR_BACKEND", default="gemini" if GEMINI_API_KEY else "local")
if LATEXOCR_BACKEND not in ("gemini", "local", "openai"):
    raise ImproperlyConfigured(
        f"LATEXOCR_BACKEND must be 'gemini', 'local' or 'openai', not {LATEXOCR_BACKEND!r}."
    )
# The vision model of the `openai` backend (OPENAI_BASE_URL), how its page images are made
# (150 dpi: an A4 page is 1240 x 1754 pixels, what Qwen2.5-VL-class models read well), how
# many go in one request (vLLM's --limit-mm-per-prompt must allow it) and its output budget
# (a range cut by it is split in two, as with Gemini; it must fit the server's context).
LATEXOCR_OPENAI_MODEL = env.str("LATEXOCR_OPENAI_MODEL", default="")
LATEXOCR_OPENAI_IMAGE_DPI = env.int("LATEXOCR_OPENAI_IMAGE_DPI", default=150)
LATEXOCR_OPENAI_IMAGE_FORMAT = env.str("LATEXOCR_OPENAI_IMAGE_FORMAT", default="png").lower()
if LATEXOCR_OPENAI_IMAGE_FORMAT not in ("png", "jpeg"):
    raise ImproperlyConfigured(
        "LATEXOCR_OPENAI_IMAGE_FORMAT must be 'png' or 'jpeg', "
        f"not {LATEXOCR_OPENAI_IMAGE_FORMAT!r}."
    )
LATEXOCR_OPENAI_PAGES_PER_CALL = env.int("LATEXOCR_OPENAI_PAGES_PER_CALL", default=4)
LATEXOCR_OPENAI_MAX_TOKENS = env.int("LATEXOCR_OPENAI_MAX_TOKENS", default=16384)
# Time allowed to one Gemini call (one page range); each retry gets the same again.
LATEXOCR_CALL_TIMEOUT_S = env.float("LATEXOCR_CALL_TIMEOUT_S", default=300.0)
LATEXOCR_GEMINI_MODEL = env.str("LATEXOCR_GEMINI_MODEL", default="gemini-3.8-flash")
LATEXOCR_MAX_UPLOAD_MB = env.int("LATEXOCR_MAX_UPLOAD_MB", default=20)
LATEXOCR_MAX_PAGES = env.int("LATEXOCR_MAX_PAGES", default=200)
# Uploads read, checked and stored at once per process (pypdf's parse and the database
# writes; the PDF itself is spooled to /tmp), and how long one more waits before a 429.
LATEXOCR_MAX_CONCURRENT_UPLOADS = env.int("LATEXOCR_MAX_CONCURRENT_UPLOADS", default=2)
LATEXOCR_UPLOAD_WAIT_S = env.float("LATEXOCR_UPLOAD_WAIT_S", default=30.0)
# Pages per Gemini call: at least LATEXOCR_PAGES_PER_CALL, more (up to the max) so that the
# ranges fit in one wave of LATEXOCR_PARALLEL_CALLS calls (latexocr.engines.backends.range_size).
LATEXOCR_PAGES_PER_CALL = env.int("LATEXOCR_PAGES_PER_CALL", default=10)
LATEXOCR_MAX_PAGES_PER_CALL = env.int("LATEXOCR_MAX_PAGES_PER_CALL", default=20)
LATEXOCR_PARALLEL_CALLS = env.int("LATEXOCR_PARALLEL_CALLS", default=4)
LATEXOCR_MAX_ATTEMPTS = env.int("LATEXOCR_MAX_ATTEMPTS", default=4)
# Runs of one conversion at most (user retries and reaper requeues together): each run can
# cost up to one Gemini call per page range, and the daily quota counts a conversion once.
LATEXOCR_MAX_RUNS = env.int("LATEXOCR_MAX_RUNS", default=3)
# A running conversion writes a heartbeat every LATEXOCR_HEARTBEAT_S; the reaper (a CronJob
# every minute) requeues one silent for LATEXOCR_STUCK_AFTER_S: a dead worker's conversion
# is requeued within 90 + 60 s of the death, a slow one that is alive never.
LATEXOCR_HEARTBEAT_S = env.float("LATEXOCR_HEARTBEAT_S", default=20.0)
LATEXOCR_STUCK_AFTER_S = env.int("LATEXOCR_STUCK_AFTER_S", default=90)
LATEXOCR_DAILY_QUOTA = env.int("LATEXOCR_DAILY_QUOTA", default=30)
# The local engine's scanned pages: each read by Tesseract within this limit, this many at once.
LATEXOCR_LOCAL_PAGE_TIMEOUT_S = env.float("LATEXOCR_LOCAL_PAGE_TIMEOUT_S", default=60.0)
LATEXOCR_LOCAL_PARALLEL_PAGES = env.int("LATEXOCR_LOCAL_PARALLEL_PAGES", default=2)
LATEXOCR_COMPILER = env.str("LATEXOCR_COMPILER", default="")
LATEXOCR_COMPILE_TIMEOUT_S = env.int("LATEXOCR_COMPILE_TIMEOUT_S", default=60)
# Cap on every file the TeX engine writes (log, PDF...) and on their total: a document
# that loops on output is stopped there instead of filling the worker's disk.
LATEXOCR_COMPILE_MAX_OUTPUT_MB = env.int("LATEXOCR_COMPILE_MAX_OUTPUT_MB", default=50)
# Files the engine may write (a normal run writes under 10; one hostile document wrote
# 135,750): past this it is stopped like an oversize output.
LATEXOCR_COMPILE_MAX_FILES = env.int("LATEXOCR_COMPILE_MAX_FILES", default=500)
# Edits and restores of versions per user and hour (each costs a compilation); 0 = no limit.
LATEXOCR_RECOMPILES_PER_HOUR = env.int("LATEXOCR_RECOMPILES_PER_HOUR", default=30)
# Largest LaTeX a student may submit from the editor (then 413).
LATEXOCR_MAX_LATEX_KB = env.int("LATEXOCR_MAX_LATEX_KB", default=1024)

# --- Retention (docs/data.md defends each default) -------------------------------------
# Days each kind of personal data is kept; `manage.py purge_expired` (a daily CronJob)
# deletes what is older. The privacy notice shows these values as configured.
RETENTION_QUESTIONS_DAYS = env.int("RETENTION_QUESTIONS_DAYS", default=365)
# A conversion with its uploaded PDF (chunks), LaTeX versions, compiled PDFs, repair requests.
RETENTION_CONVERSIONS_DAYS = env.int("RETENTION_CONVERSIONS_DAYS", default=365)
# A student account nobody logged into for this long is deleted with everything it holds.
RETENTION_INACTIVE_ACCOUNTS_DAYS = env.int("RETENTION_INACTIVE_ACCOUNTS_DAYS", default=730)
# Sign-in records: failed logins and lockouts (django-axes), sign-up attempts.
RETENTION_LOGIN_RECORDS_DAYS = env.int("RETENTION_LOGIN_RECORDS_DAYS", default=180)
# A roster student's birth date (the first-login secret) is deleted when they choose a
# password, or this many days after the import if they never log in.
RETENTION_FIRST_LOGIN_DAYS = env.int("RETENTION_FIRST_LOGIN_DAYS", default=120)
# Records of staff opening a student's question or conversion in the admin (accountability).
RETENTION_STAFF_ACCESS_DAYS = env.int("RETENTION_STAFF_ACCESS_DAYS", default=365)
# How long the backups keep data (the ObjectStore's retentionPolicy, docs/deploy.md): the
# privacy notice tells students an erasure reaches the backups after this.
BACKUP_RETENTION_DAYS = env.int("BACKUP_RETENTION_DAYS", default=30)
# The privacy notice (/privacy/): the controller (the university, with its address) and the
# data-protection officer's e-mail.
PRIVACY_CONTROLLER = env.str("PRIVACY_CONTROLLER", default="")
PRIVACY_DPO_EMAIL = env.str("PRIVACY_DPO_EMAIL", default="")
# "Download everything" (Mes données): up to this many MB of stored PDFs and LaTeX the ZIP is
# built in the request and sent at once; above it, it is built in the background and offered
# behind a link that expires after PRIVACY_EXPORT_LINK_HOURS (docs/data.md defends both).
PRIVACY_EXPORT_INLINE_MAX_MB = env.int("PRIVACY_EXPORT_INLINE_MAX_MB", default=5)
PRIVACY_EXPORT_LINK_HOURS = env.int("PRIVACY_EXPORT_LINK_HOURS", default=24)
if PRIVACY_EXPORT_INLINE_MAX_MB < 0:
    raise ImproperlyConfigured("PRIVACY_EXPORT_INLINE_MAX_MB must be 0 (never inline) or more.")
if PRIVACY_EXPORT_LINK_HOURS < 1:
    raise ImproperlyConfigured("PRIVACY_EXPORT_LINK_HOURS must be a number of hours, 1 or more.")
for _name in (
    "BACKUP_RETENTION_DAYS",
    "RETENTION_STAFF_ACCESS_DAYS",
    "RETENTION_QUESTIONS_DAYS",
    "RETENTION_CONVERSIONS_DAYS",
    "RETENTION_INACTIVE_ACCOUNTS_DAYS",
    "RETENTION_LOGIN_RECORDS_DAYS",
    "RETENTION_FIRST_LOGIN_DAYS",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be a number of days, 1 or more.")

# --- Logging ---------------------------------------------------------------------------
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"DJANGO_LOG_FORMAT must be 'text' or 'json', not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "platform_site.logging.JsonFormatter"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Our request log replaces Django's; errors still come through django.request.
        "django.server": {"level": "WARNING"},
    },
}

"""Settings for the whole site, read from the environment (django-environ).

One settings module for every environment: the quickstart needs no variable at all
(SQLite, DEBUG on, no key), production refuses to start without its secrets.
Every variable is listed in README.md. The package splits it along its seams: the
environment (environment.py), the outside models and both tools (tools.py), the retention,
privacy and accessibility notices (notices.py); Django reads them all as this one module.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from platform_site.settings.environment import (
    BASE_DIR,
    DEBUG,
    env,
    required_in_production,
)

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

# --- The tools, and what the site says about students' data --------------------------
# Two modules of their own, read here so that Django sees one settings module.
from platform_site.settings.notices import *  # noqa: E402, F403
from platform_site.settings.tools import *  # noqa: E402, F403

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

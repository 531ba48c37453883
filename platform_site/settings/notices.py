"""Settings of what the site keeps and says about students' data (retention, the privacy
notice, exports) and of the accessibility statement. Every variable is listed in README.md."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from platform_site.settings.environment import env

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


# --- Accessibility statement ---------------------------------------------------------
# The accessibility statement (/accessibilite/) names who deploys the site and how to reach
# them about an obstacle; an unset contact says so on the page rather than inventing one.
ACCESSIBILITY_ORGANISATION = env.str("ACCESSIBILITY_ORGANISATION", default="")
ACCESSIBILITY_CONTACT = env.str("ACCESSIBILITY_CONTACT", default="")

"""Keys this app keeps in the session, shared by the login signal and the middleware."""

from __future__ import annotations

# When the session's user logged in (epoch seconds): the absolute lifetime counts from it.
LOGIN_AT_KEY = "accounts_login_at"
# When the inactivity timeout was last renewed (epoch seconds): renewed once a minute at most.
RENEWED_AT_KEY = "accounts_renewed_at"
# Set while an imported student still has to replace the first-login password.
MUST_CHANGE_PASSWORD_KEY = "accounts_must_change_password"  # noqa: S105 (a key, not a password)

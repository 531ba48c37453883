"""django-axes' database handler, with one query to count failures and no per-login clean-up.

A login through axes' own handler cost three queries and a transaction besides the user's
(docs/performance.md):

- the lockout check summed the failures once per lockout parameter (username, address): two
  aggregate queries, and Django's aggregation is the dearest part of a login after the hash.
  Here one SQL query reads the few recent attempts that match any parameter and Python sums
  them per parameter: the same counts.
- each successful login deleted expired attempts (a SELECT and a transaction). The lockout
  count ignores them anyway (it only reads attempts newer than AXES_COOLOFF_TIME), and the
  handler still deletes them on every failed login and every logout, so the table stays as
  small as before.

On success the user's own recent failures from that address are forgiven (AXES_RESET_ON_SUCCESS
is off: axes' reset would wipe every failure from the address, so anyone with one valid
account could clear the count between guesses). The count read for the lockout check says
whether there is anything to forgive: most logins have nothing and cost no query for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.conf import settings
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_parameters, get_client_username
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.db import connection
from django.http import HttpRequest

from accounts.models import User

# Set on the request by the lockout check: this username's failures from this address.
OWN_FAILURES_ATTRIBUTE = "lockout_own_failures"


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """The largest failure count over the lockout parameters (axes' rule), in one query."""
        username = get_client_username(request, credentials)
        address = request.axes_ip_address  # type: ignore[attr-defined]
        parameters: list[dict[str, Any]] = get_client_parameters(
            username,
            address,
            request.axes_user_agent,  # type: ignore[attr-defined]
            request,
            credentials,
        )
        rows = _recent_attempts(parameters, since=_since(request))
        own = sum(r.failures for r in rows if r.username == username and r.ip_address == address)
        setattr(request, OWN_FAILURES_ATTRIBUTE, own)
        return max((sum(r.failures for r in rows if r.matches(p)) for p in parameters), default=0)

    def user_logged_in(self, sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
        if settings.AXES_RESET_ON_SUCCESS or not settings.AXES_DISABLE_ACCESS_LOG:
            super().user_logged_in(sender, request, user, **kwargs)  # then it has work to do
        # Unknown (None) when the check did not run for this request: look, then.
        if getattr(request, OWN_FAILURES_ATTRIBUTE, None) != 0:
            axes_reset(ip=request.axes_ip_address, username=user.get_username())  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Attempt:
    username: str | None
    ip_address: str | None
    user_agent: str
    failures: int

    def matches(self, parameters: dict[str, Any]) -> bool:
        return all(getattr(self, name) == value for name, value in parameters.items())


def _since(request: HttpRequest) -> datetime | None:
    if settings.AXES_COOLOFF_TIME is None:
        return None
    return get_cool_off_threshold(request)


def _recent_attempts(parameters: list[dict[str, Any]], *, since: datetime | None) -> list[_Attempt]:
    """The attempts matching any of `parameters` (newer than `since`): a handful of rows.

    Written in SQL: the same query through the ORM (an OR of filters, values_list) took
    ~1 ms to build on these machines, a fifth of a login besides the hash.
    """
    if not parameters:
        return []
    matches: list[str] = []
    values: list[Any] = []
    for match in parameters:
        if not match or not set(match) <= set(_COLUMNS):
            raise ValueError(f"unexpected lockout parameters: {sorted(match)}")
        names = sorted(match)
        # As the ORM's filter(name=None) does: IS NULL, since "= NULL" matches nothing.
        matches.append(
            " AND ".join(
                f"{_COLUMNS[name]} IS NULL" if match[name] is None else f"{_COLUMNS[name]} = %s"
                for name in names
            )
        )
        values.extend(match[name] for name in names if match[name] is not None)
    table, where = AccessAttempt._meta.db_table, " OR ".join(f"({m})" for m in matches)
    # Names from _COLUMNS and the model only; every value is a bound parameter.
    sql = f"SELECT {_SELECTED} FROM {table} WHERE ({where})"  # noqa: S608
    if since is not None:
        sql += " AND attempt_time >= %s"
        values.append(since)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return [_Attempt(*row) for row in cursor.fetchall()]


_SELECTED = "username, ip_address, user_agent, failures_since_start"
# The lockout parameters axes may ask for, and their columns (fixed names: no user input).
_COLUMNS = {"username": "username", "ip_address": "ip_address", "user_agent": "user_agent"}

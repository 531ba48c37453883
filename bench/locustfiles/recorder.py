"""Records every request locust makes (name, time, status) and writes them out when locust
quits, to the file named by BENCH_LOCUST_RESULTS."""

from __future__ import annotations

import json
import os
from typing import Any

from locust import events
from locust.env import Environment

from bench.stack import PASSWORD, PlainHttpCookieJar

_requests: dict[str, dict[str, list[Any]]] = {}


@events.request.add_listener
def _record(
    name: str, response_time: float, response: Any = None, exception: Any = None, **kwargs: Any
) -> None:
    status = getattr(response, "status_code", 0) or 0
    entry = _requests.setdefault(name, {"times_ms": [], "statuses": []})
    entry["times_ms"].append(round(response_time, 2))
    entry["statuses"].append(int(status))


@events.quitting.add_listener
def _write(environment: Environment, **kwargs: Any) -> None:
    with open(os.environ["BENCH_LOCUST_RESULTS"], "w", encoding="utf-8") as output:
        json.dump(_requests, output)


def usernames() -> list[str]:
    return os.environ["BENCH_USERNAMES"].split(",")


def login(client: Any, username: str) -> bool:
    """The login form, like a browser: GET for the CSRF cookie, then POST (name "login")."""
    client.cookies = PlainHttpCookieJar()
    client.get("/accounts/login/", name="login page")
    with client.post(
        "/accounts/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""),
        },
        allow_redirects=False,
        name="login",
        catch_response=True,
    ) as response:
        if response.status_code != 302:
            response.failure(f"login answered {response.status_code}")
            return False
        response.success()
        return True

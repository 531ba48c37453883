"""A class logging in: each simulated student logs in once through the form, then idles.

Spawned at a steady rate (the harness picks it: 300 students over 60 s)."""

from __future__ import annotations

import itertools

from locust import HttpUser, constant, task

from bench.locustfiles.recorder import login, usernames

_names = itertools.cycle(usernames())


class Student(HttpUser):
    wait_time = constant(3600)

    def on_start(self) -> None:
        login(self.client, next(_names))

    @task
    def stay(self) -> None:
        """Logged in; the page is read for the rest of the run."""

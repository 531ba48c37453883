"""A mixed day of students for the soak: each logs in, then asks questions (the page's fetch:
JSON + CSRF header), uploads a small PDF now and then, reads its history pages, and logs out
and in again from time to time, pausing 1-3 s between actions."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from locust import HttpUser, between, task

from bench.locustfiles.recorder import login, usernames
from tests.pdfs import pdf_with_text

_names = itertools.cycle(usernames())
TIMEOUT_S = 60
# A 429 (too many questions or uploads in flight) is an answer; a 5xx or no answer is not.
ANSWERED = {
    "/codegen/send/": {200, 429},
    "/ocr/": {302, 429},
    "/codegen/history/": {200},
    "/ocr/history/": {200},
    "/home/": {200},
}


class Student(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.username = next(_names)
        login(self.client, self.username)

    @task(6)
    def ask(self) -> None:
        self._judged(
            "post",
            "/codegen/send/",
            json={"message": f"Écrire une fonction qui trie une liste ({uuid.uuid4().hex[:8]})."},
            headers={
                "X-CSRFToken": self.client.cookies.get("csrftoken", ""),
                "Accept": "application/json",
            },
        )

    @task(3)
    def history(self) -> None:
        self._judged("get", "/codegen/history/")
        self._judged("get", "/ocr/history/")

    @task(2)
    def home(self) -> None:
        self._judged("get", "/home/")

    @task(1)
    def upload(self) -> None:
        pdf = pdf_with_text([f"Devoir {uuid.uuid4().hex}\nExercice 1 : calculer 2 + 2."])
        self._judged(
            "post",
            "/ocr/",
            data={"csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")},
            files={"pdf": ("devoir.pdf", pdf, "application/pdf")},
            allow_redirects=False,
        )

    @task(1)
    def login_again(self) -> None:
        self.client.post(
            "/accounts/logout/",
            data={"csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")},
            allow_redirects=False,
            name="logout",
        )
        login(self.client, self.username)

    def _judged(self, method: str, path: str, **kwargs: Any) -> None:
        with self.client.request(
            method, path, name=path, timeout=TIMEOUT_S, catch_response=True, **kwargs
        ) as response:
            if response.status_code in ANSWERED[path]:
                response.success()
            else:
                response.failure(f"{path} answered {response.status_code}")

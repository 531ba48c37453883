"""Students using both tools at once: each logs in, then asks questions on /codegen/send/ (the
page's fetch: JSON + CSRF header) and uploads PDFs to /ocr/ (the form), pausing up to 1 s."""

from __future__ import annotations

import itertools
import uuid

from locust import HttpUser, between, task

from bench.locustfiles.recorder import login, usernames
from tests.pdfs import pdf_with_text

_names = itertools.cycle(usernames())
TIMEOUT_S = 60
# A 429 (quota, or too many questions in flight) is an answer; a 5xx or no answer is not.
ANSWERED = {"/codegen/send/": {200, 429}, "/ocr/": {302, 429}}


class Student(HttpUser):
    wait_time = between(0, 1)

    def on_start(self) -> None:
        login(self.client, next(_names))

    @task
    def ask(self) -> None:
        with self.client.post(
            "/codegen/send/",
            json={"message": f"Écrire une fonction qui trie une liste ({uuid.uuid4().hex[:8]})."},
            headers={
                "X-CSRFToken": self.client.cookies.get("csrftoken", ""),
                "Accept": "application/json",
            },
            name="/codegen/send/",
            timeout=TIMEOUT_S,
            catch_response=True,
        ) as response:
            self._judge(response, "/codegen/send/")

    @task
    def upload(self) -> None:
        # A new PDF each time: the same one again would only be offered the earlier result.
        pdf = pdf_with_text([f"Devoir {uuid.uuid4().hex}\nExercice 1 : calculer 2 + 2."])
        with self.client.post(
            "/ocr/",
            data={"csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")},
            files={"pdf": ("devoir.pdf", pdf, "application/pdf")},
            allow_redirects=False,
            name="/ocr/",
            timeout=TIMEOUT_S,
            catch_response=True,
        ) as response:
            self._judge(response, "/ocr/")

    def _judge(self, response: object, name: str) -> None:
        status = getattr(response, "status_code", 0)
        if status in ANSWERED[name]:
            response.success()  # type: ignore[attr-defined]
        else:
            response.failure(f"{name} answered {status}")  # type: ignore[attr-defined]

"""Journey 4b: on a self-hosted model that streams, the answer appears as it is written."""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveSite, screenshot
from tests.e2e.helpers import register, unique_username
from tests.servers import PYTHON, free_port

pytestmark = pytest.mark.e2e

# About 90 tokens in the fake's default answer: ~3 s from the first to the last.
SECONDS_PER_TOKEN = "0.03"


@pytest.fixture(scope="module")
def streaming_site(live_site: LiveSite) -> Iterator[str]:
    """A second gunicorn on the same database whose codegen backend is the fake model server."""
    fake = [PYTHON, "-m", "platform_site.llm.tests.fakes.openai_compatible", "--port", "0"]
    fake_port = live_site.start(
        "fake-openai", [*fake, "--seconds-per-token", SECONDS_PER_TOKEN], ready_line="READY"
    ).split()[1]
    port = free_port()
    env = {
        **live_site.env,
        "PORT": str(port),
        "CODEGEN_BACKEND": "openai",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{fake_port}/v1",
        "CODEGEN_OPENAI_MODEL": "fake-coder",
    }
    live_site.start(
        "gunicorn-openai", [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py"], env=env
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    try:
        yield base_url
    finally:
        live_site.stop("gunicorn-openai")
        live_site.stop("fake-openai")


def test_the_answer_is_shown_as_the_model_writes_it_then_rendered(
    page: Page, streaming_site: str
) -> None:
    register(page, unique_username("sam"))
    page.goto(streaming_site + "/codegen/")
    page.get_by_label("Votre problème").fill("Somme des nombres pairs d'une liste.")

    started = time.monotonic()
    page.get_by_role("button", name="Obtenir le code").click()
    live = page.locator("#question-live")
    expect(live).to_contain_text("Voici une solution", timeout=10_000)
    first_text_s = time.monotonic() - started
    expect(page.locator("#question-status")).to_have_text("Le modèle écrit la réponse…")
    screenshot(page, "4b-codegen-streaming")

    expect(page.locator("#question-result")).to_be_visible(timeout=30_000)
    whole_s = time.monotonic() - started
    expect(live).to_be_hidden()
    expect(page.locator("#question-status")).to_have_text("Réponse reçue.")
    expect(page.locator("#question-code .highlight .k").first).to_have_text(re.compile("def"))
    expect(page.locator("#question-explanation")).to_contain_text("linéaire")
    assert first_text_s < whole_s - 1.5

"""The registry: each tool's provider chosen from the settings, read at each call."""

from __future__ import annotations

from typing import Any

from platform_site.llm.errors import REJECTED
from platform_site.llm.providers import GeminiProvider, OpenAIProvider, WebhookProvider
from platform_site.llm.registry import backend_name, provider_for
from platform_site.llm.tests.raising import raises_kind


def test_codegen_gets_the_provider_its_backend_setting_names(settings: Any) -> None:
    settings.CODEGEN_BACKEND = "webhook"
    assert isinstance(provider_for("codegen"), WebhookProvider)

    settings.CODEGEN_BACKEND = "gemini"
    settings.CODEGEN_GEMINI_MODEL = "gemini-3.5-flash-lite"
    provider = provider_for("codegen")
    assert isinstance(provider, GeminiProvider)
    assert provider.model == "gemini-3.5-flash-lite"
    assert backend_name("codegen") == "gemini"


def test_a_records_own_backend_wins_over_the_setting(settings: Any) -> None:
    settings.CODEGEN_BACKEND = "gemini"

    assert isinstance(provider_for("codegen", "openai"), OpenAIProvider)


def test_the_local_ocr_engine_is_not_a_model(settings: Any) -> None:
    settings.LATEXOCR_BACKEND = "local"

    assert provider_for("latexocr") is None


def test_each_provider_says_what_it_misses(settings: Any) -> None:
    settings.GEMINI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""
    settings.CODEGEN_WEBHOOK_URL = ""

    missing = {
        name: provider.missing_setting()
        for name in ("gemini", "openai", "webhook")
        if (provider := provider_for("codegen", name)) is not None and not provider.configured()
    }

    assert missing == {
        "gemini": "GEMINI_API_KEY",
        "openai": "OPENAI_BASE_URL, CODEGEN_OPENAI_MODEL",
        "webhook": "CODEGEN_WEBHOOK_URL",
    }


def test_only_the_openai_provider_streams_and_only_when_allowed(settings: Any) -> None:
    settings.CODEGEN_OPENAI_STREAM = False
    openai = provider_for("codegen", "openai")
    webhook = provider_for("codegen", "webhook")
    assert openai is not None and webhook is not None

    assert not openai.streams
    assert not webhook.streams
    with raises_kind(REJECTED, match="does not stream"):
        webhook.stream(prompt="x")


def test_the_webhook_does_not_read_pages(settings: Any) -> None:
    webhook = provider_for("codegen", "webhook")
    assert webhook is not None and not webhook.reads_pages

    with raises_kind(REJECTED, match="does not read pages"):
        webhook.describe_pages(prompt="x", pages=_NoPages())


class _NoPages:
    def pdf(self) -> bytes:
        raise AssertionError("not asked")

    def images(self) -> list[Any]:
        raise AssertionError("not asked")

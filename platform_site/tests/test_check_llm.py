"""`manage.py check_llm`: one step to verify the model backends of a set-up."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from platform_site.llm.tests.fakes.openai_compatible import FakeOpenAI, Reply


def run(**options: Any) -> str:
    out = io.StringIO()
    call_command("check_llm", stdout=out, **options)
    return out.getvalue()


def test_both_tools_on_a_model_server_list_its_models_and_answer(
    settings: Any, fake_openai: FakeOpenAI
) -> None:
    settings.CODEGEN_BACKEND = "openai"
    settings.LATEXOCR_BACKEND = "openai"
    fake_openai.queue(Reply(text="Paris."), Reply(text="Paris"))

    output = run()

    assert "offers: fake-coder, fake-vision" in output
    assert "ok   codegen: openai (fake-coder): 'Paris.'" in output
    assert "ok   latexocr: openai (fake-vision): 'Paris'" in output
    assert [r.body["model"] for r in fake_openai.chat_requests()] == ["fake-coder", "fake-vision"]


def test_a_model_the_server_does_not_offer_fails_the_command(
    settings: Any, fake_openai: FakeOpenAI
) -> None:
    settings.CODEGEN_BACKEND = "openai"
    settings.CODEGEN_OPENAI_MODEL = "absent:7b"
    settings.LATEXOCR_BACKEND = "local"
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 check"):
        call_command("check_llm", stdout=out)

    assert "does not offer 'absent:7b'" in out.getvalue()
    assert "ok   latexocr: local" in out.getvalue()


def test_a_server_that_refuses_the_key_fails_the_command(settings: Any) -> None:
    fake = FakeOpenAI(api_key="right")
    fake.start()
    settings.OPENAI_BASE_URL = fake.url
    settings.OPENAI_API_KEY = "wrong"
    settings.CODEGEN_BACKEND = "openai"
    settings.CODEGEN_OPENAI_MODEL = "fake-coder"
    settings.LATEXOCR_BACKEND = "local"
    out = io.StringIO()
    try:
        with pytest.raises(CommandError):
            call_command("check_llm", stdout=out)
    finally:
        fake.stop()
    assert "FAIL codegen: openai (fake-coder): LlmError('llm.rejected'" in out.getvalue()

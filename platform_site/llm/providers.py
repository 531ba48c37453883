"""The three ways the site reaches a model, behind one interface.

A `Provider` is one client (platform_site.llm.gemini, .openai_client, .webhook) with its
address, key, model and limits filled in by platform_site.llm.registry. The apps ask it to
`complete` a prompt, `stream` one (where the provider streams), or `describe_pages` of a PDF
(page images or the PDF itself, whichever the provider reads); every failure is an
`LlmError`. What a provider cannot do raises an `LlmError` saying so, and the attributes
(`streams`, `reads_pages`, `reads_page_images`) let a caller avoid asking.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, Self

from platform_site.llm import gemini, openai_client, webhook
from platform_site.llm.errors import NOT_CONFIGURED, REJECTED, Answer, Image, LlmError


class PageSource(Protocol):
    """The pages to describe, in the form the provider reads (made only when asked)."""

    def pdf(self) -> bytes: ...
    def images(self) -> Sequence[Image]: ...


class AnswerStream(Protocol):
    """Text pieces as they come; `answer` is set once the whole answer has come."""

    answer: Answer | None

    def __iter__(self) -> Iterator[str]: ...


@dataclass(frozen=True)
class Limits:
    # Each attempt's time limit, and the whole call's (attempts and pauses), when different.
    timeout_s: float
    attempts: int = 1
    deadline_s: float | None = None
    max_output_tokens: int | None = None


class Provider:
    """What every provider offers; the subclasses fill in their client's calls."""

    # Stored on the questions and conversions it answers ("gemini", "openai", "webhook").
    name: str = ""
    streams = False
    reads_pages = False
    # True when `describe_pages` sends page images (the prompt says so), not the PDF.
    reads_page_images = False
    # Pages per `describe_pages` call (None: as many as the caller's ranges hold).
    pages_per_call: int | None = None

    def __init__(self, *, model: str, limits: Limits, missing: str) -> None:
        self.model = model
        self.limits = limits
        self._missing = missing

    def configured(self) -> bool:
        raise NotImplementedError

    def with_model(self, model: str) -> Self:
        """The same provider asking `model` (a conversion resumed with its own model)."""
        chosen = copy.copy(self)
        chosen.model = model
        return chosen

    def with_time_limit(self, timeout_s: float) -> Self:
        """The same provider, one attempt within `timeout_s` (the operator's check)."""
        limited = copy.copy(self)
        limited.limits = Limits(timeout_s=timeout_s)
        return limited

    def missing_setting(self) -> str:
        """The settings an operator must set for this provider (staff pages and logs only)."""
        return self._missing

    def complete(self, *, prompt: str, system: str | None = None) -> Answer:
        raise NotImplementedError

    def stream(self, *, prompt: str, system: str | None = None) -> AnswerStream:
        raise LlmError(REJECTED, f"The {self.name} provider does not stream answers.")

    def describe_pages(self, *, prompt: str, pages: PageSource) -> Answer:
        raise LlmError(REJECTED, f"The {self.name} provider does not read pages.")

    def models_offered(self, *, timeout_s: float) -> list[str] | None:
        """The models the server offers, for the operator's check (None: it does not say)."""
        return None


class GeminiProvider(Provider):
    name = "gemini"
    reads_pages = True

    def __init__(
        self, *, model: str, limits: Limits, connection: gemini.Connection, thinking: str | None
    ) -> None:
        super().__init__(model=model, limits=limits, missing="GEMINI_API_KEY")
        self.connection = connection
        self.thinking = thinking

    def configured(self) -> bool:
        return bool(self.connection.api_key)

    def complete(self, *, prompt: str, system: str | None = None) -> Answer:
        return self._generate(prompt=prompt, system=system, pdf=None)

    def describe_pages(self, *, prompt: str, pages: PageSource) -> Answer:
        return self._generate(prompt=prompt, system=None, pdf=pages.pdf())

    def _generate(self, *, prompt: str, system: str | None, pdf: bytes | None) -> Answer:
        return gemini.generate(
            connection=self.connection,
            model=self.model,
            prompt=prompt,
            system_instruction=system,
            pdf=pdf,
            max_output_tokens=self.limits.max_output_tokens,
            timeout_s=self.limits.timeout_s,
            attempts=self.limits.attempts,
            thinking_level=self.thinking,
        )


class OpenAIProvider(Provider):
    name = "openai"
    reads_pages = True
    reads_page_images = True

    def __init__(
        self,
        *,
        model: str,
        limits: Limits,
        connection: openai_client.Connection,
        missing: str,
        streams: bool,
        pages_per_call: int,
    ) -> None:
        super().__init__(model=model, limits=limits, missing=missing)
        self.connection = connection
        self.streams = streams
        self.pages_per_call = pages_per_call

    def configured(self) -> bool:
        return bool(self.connection.base_url and self.model)

    def complete(self, *, prompt: str, system: str | None = None) -> Answer:
        return self._chat(prompt=prompt, system=system, images=())

    def describe_pages(self, *, prompt: str, pages: PageSource) -> Answer:
        return self._chat(prompt=prompt, system=None, images=pages.images())

    def stream(self, *, prompt: str, system: str | None = None) -> AnswerStream:
        if not self.streams:
            return super().stream(prompt=prompt, system=system)
        return openai_client.chat_stream(
            connection=self.connection,
            model=self.model,
            prompt=prompt,
            system=system,
            timeout_s=self.limits.timeout_s,
            attempts=self.limits.attempts,
        )

    def models_offered(self, *, timeout_s: float) -> list[str] | None:
        return openai_client.models_list(connection=self.connection, timeout_s=timeout_s)

    def _chat(self, *, prompt: str, system: str | None, images: Sequence[Image]) -> Answer:
        return openai_client.chat(
            connection=self.connection,
            model=self.model,
            prompt=prompt,
            system=system,
            images=images,
            max_tokens=self.limits.max_output_tokens,
            timeout_s=self.limits.timeout_s,
            attempts=self.limits.attempts,
            deadline_s=self.limits.deadline_s,
        )


class WebhookProvider(Provider):
    """A Make.com scenario: it gets the prompt alone (its own instructions live in Make)."""

    name = "webhook"

    def __init__(self, *, call: webhook.WebhookCall) -> None:
        super().__init__(
            model="", limits=Limits(timeout_s=call.timeout_s), missing="CODEGEN_WEBHOOK_URL"
        )
        self.call = call

    def configured(self) -> bool:
        return bool(self.call.url)

    def with_time_limit(self, timeout_s: float) -> Self:
        limited = super().with_time_limit(timeout_s)
        limited.call = replace(self.call, timeout_s=timeout_s)
        return limited

    def complete(self, *, prompt: str, system: str | None = None) -> Answer:
        return Answer(text=webhook.send(call=self.call, message=prompt), model="")


def not_configured(provider: Provider) -> LlmError:
    """The error for a provider asked while it lacks its settings."""
    return LlmError(NOT_CONFIGURED, f"{provider.name}: set {provider.missing_setting()}.")

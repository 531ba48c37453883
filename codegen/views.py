"""Pages and JSON API of the code generator. Every question is its owner's alone (else 404).

The views validate, call a service and map the outcome to a status code: an `LlmError` of
kind "not configured" to 503, a timeout to 504 and every other upstream failure to 502
(never 503, which the mesh would retry, multiplying the calls).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedHttpRequest, is_logged_in
from codegen import backends
from codegen.forms import QuestionForm
from codegen.models import InvalidTransition, Question
from codegen.rendering import code_highlight, syntax_check
from codegen.selectors import (
    question_can_be_resent,
    question_get_owned,
    question_list,
    question_quota_remaining,
)
from codegen.services import (
    BackendNotConfigured,
    QuotaExceeded,
    RetryCannotSucceed,
    SendLimitReached,
    TooManyInFlight,
    question_create,
    question_retry,
    question_send,
    question_send_streamed,
)
from platform_site.llm.errors import NOT_CONFIGURED, TIMEOUT, LlmError


class _BadMessage(Exception):
    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def upstream_status(error: LlmError) -> int:
    if error.kind is NOT_CONFIGURED:
        return 503
    if error.kind is TIMEOUT:
        return 504
    return 502


def _quota_message() -> str:
    return _("Vous avez utilisé vos %(quota)d questions d’aujourd’hui : revenez demain.") % {
        "quota": settings.CODEGEN_DAILY_QUOTA
    }


def _unavailable_message() -> str:
    # The student's sentence; staff see the setting to change on the page (never students).
    return _(
        "La génération de code n’est pas encore disponible sur ce site ; prévenez votre enseignant."
    )


def _busy_message() -> str:
    return _("Trop de questions sont en cours sur le serveur : réessayez dans un instant.")


def answer_context(question: Question) -> dict[str, Any]:
    """What the templates and the JSON API show of an answered question."""
    syntax = syntax_check(question.code) if question.code else None
    return {
        "code_html": code_highlight(question.code) if question.code else "",
        # Rendered and sanitised when the answer was saved (codegen.rendering).
        "explanation_html": mark_safe(question.explanation_html),  # noqa: S308
        "syntax": syntax,
    }


def _quota_context(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    return {
        "quota_remaining": question_quota_remaining(user=request.user),
        "daily_quota": settings.CODEGEN_DAILY_QUOTA,
    }


def _quota_json(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    """The questions left today, as a number and as the page's sentence (the script shows it)."""
    context = _quota_context(request)
    # No request: the sentence needs none of the context processors (~0.1 ms a question).
    text = render_to_string("codegen/_quota.html", context).strip()
    return {"quota_remaining": context["quota_remaining"], "quota_text": text}


def _page_context(request: AuthenticatedHttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        **_quota_context(request),
        "backend": settings.CODEGEN_BACKEND,
        "backend_configured": backends.backend_configured(),
        "missing_setting": backends.missing_setting(),
        "unavailable_message": _unavailable_message(),
        "streaming": backends.streaming_enabled(),
        "max_chars": settings.CODEGEN_MAX_MESSAGE_CHARS,
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The question page. Its script uses the JSON API; this POST serves browsers without it."""
    if request.method != "POST":
        return render(request, "codegen/index.html", _page_context(request, form=QuestionForm()))
    form = QuestionForm(request.POST)
    if not form.is_valid():
        return render(request, "codegen/index.html", _page_context(request, form=form), status=400)
    try:
        question = question_create(user=request.user, message=form.cleaned_data["message"])
    except BackendNotConfigured:
        return render(request, "codegen/index.html", _page_context(request, form=form), status=503)
    except QuotaExceeded:
        context = _page_context(request, form=form, error=_quota_message())
        return render(request, "codegen/index.html", context, status=429)
    try:
        question_send(question=question)
    except TooManyInFlight:
        messages.warning(request, _busy_message())
    except LlmError:
        pass  # saved as failed: its page shows the error and the retry button
    return redirect("codegen:detail", question_id=question.pk)


def _message_from(request: HttpRequest) -> str:
    try:
        body = json.loads(request.body)
    except RequestDataTooBig as error:
        raise _BadMessage(_("La requête est trop volumineuse."), status=413) from error
    except ValueError as error:
        raise _BadMessage(_("Le corps de la requête doit être du JSON.")) from error
    if not isinstance(body, dict) or "message" not in body:
        raise _BadMessage(_("Le champ « message » est obligatoire."))
    message = body["message"]
    if not isinstance(message, str):
        raise _BadMessage(_("Le champ « message » doit être une chaîne de caractères."))
    message = message.strip()
    if not message:
        raise _BadMessage(_("Le champ « message » est vide."))
    if len(message) > settings.CODEGEN_MAX_MESSAGE_CHARS:
        raise _BadMessage(
            _("La question dépasse %(limit)d caractères.")
            % {"limit": settings.CODEGEN_MAX_MESSAGE_CHARS},
            status=413,
        )
    return message


# Login is checked before the CSRF token, so that an anonymous script gets its 401 in JSON
# rather than the HTML page of a CSRF failure; a logged-in caller still needs the token.
@csrf_exempt
@require_POST
@never_cache
def send(request: HttpRequest) -> HttpResponse:
    """`{"message": …}` -> `{"id", "code", "explanation", …}` (session + CSRF token)."""
    if not is_logged_in(request):
        # JSON, not a redirect to the login page: the caller is a script.
        return JsonResponse({"error": _("Connectez-vous pour poser une question.")}, status=401)
    return _send_logged_in(request)


def _question_from(request: AuthenticatedHttpRequest) -> Question | JsonResponse:
    """The JSON body's question, saved; or the refusal to answer (400/413, 503, 429)."""
    try:
        message = _message_from(request)
    except _BadMessage as error:
        return JsonResponse({"error": str(error)}, status=error.status)
    try:
        return question_create(user=request.user, message=message)
    except BackendNotConfigured:
        return JsonResponse({"error": _unavailable_message(), **_quota_json(request)}, status=503)
    except QuotaExceeded:
        return JsonResponse({"error": _quota_message(), **_quota_json(request)}, status=429)


@csrf_protect
def _send_logged_in(request: AuthenticatedHttpRequest) -> JsonResponse:
    question = _question_from(request)
    if isinstance(question, JsonResponse):
        return question
    try:
        question_send(question=question)
    except TooManyInFlight:
        return _failure_json(request, question, _busy_message(), status=429)
    except LlmError as error:
        return _failure_json(
            request, question, question.failure_message, status=upstream_status(error)
        )
    return JsonResponse(_answer_json(request, question))


def _answer_json(request: AuthenticatedHttpRequest, question: Question) -> dict[str, Any]:
    """An answered question as the page's script shows it (the JSON API and the stream)."""
    context = answer_context(question)
    syntax = context["syntax"]
    return {
        "id": question.pk,
        "code": question.code,
        "explanation": question.explanation,
        "code_html": str(context["code_html"]),
        "explanation_html": str(context["explanation_html"]),
        "syntax_valid": syntax.valid if syntax else None,
        "syntax_error_line": syntax.line if syntax else None,
        "syntax_error_message": syntax.message if syntax else "",
        "detail_url": reverse("codegen:detail", args=[question.pk]),
        "download_url": reverse("codegen:download", args=[question.pk]) if question.code else "",
        **_quota_json(request),
    }


# Same rules as `send` (login first, then the CSRF token); the answer comes as server-sent
# events on the POST's own response, read by the page's script with fetch.
@csrf_exempt
@require_POST
@never_cache
def stream(request: HttpRequest) -> HttpResponseBase:
    """`{"message": …}` -> text/event-stream: `question` (id), `token`s (text as the model
    writes it), then `done` (what `send` answers) or `error` (its error body plus `status`).

    Refusals before anything is sent (401, 400, 413, 429 quota, 404 when the backend does not
    stream) are plain JSON with their status code, as from `send`.
    """
    if not is_logged_in(request):
        return JsonResponse({"error": _("Connectez-vous pour poser une question.")}, status=401)
    return _stream_logged_in(request)


@csrf_protect
def _stream_logged_in(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    if not backends.streaming_enabled():
        return JsonResponse({"error": _("Les réponses ne sont pas diffusées ici.")}, status=404)
    question = _question_from(request)
    if isinstance(question, JsonResponse):
        return question
    response = StreamingHttpResponse(
        # A plain iterator: each event is sent as soon as it exists, under WSGI as under
        # platform_site.asgi's handler (which reads it in the request's thread).
        _events(request, question),
        content_type="text/event-stream; charset=utf-8",
    )
    # No proxy may hold the events back (nginx reads this header; Envoy streams anyway).
    response["X-Accel-Buffering"] = "no"
    return response


def _events(request: AuthenticatedHttpRequest, question: Question) -> Iterator[bytes]:
    yield _event(
        "question", {"id": question.pk, "detail_url": reverse("codegen:detail", args=[question.pk])}
    )
    try:
        for piece in question_send_streamed(question=question):
            yield _event("token", {"text": piece})
    except TooManyInFlight:
        yield _event("error", {**_failure_body(request, question, _busy_message()), "status": 429})
        return
    except LlmError as error:
        body = _failure_body(request, question, question.failure_message)
        yield _event("error", {**body, "status": upstream_status(error)})
        return
    yield _event("done", _answer_json(request, question))


def _event(name: str, data: dict[str, Any]) -> bytes:
    # JSON on one line: a data field never holds a newline of its own.
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _failure_json(
    request: AuthenticatedHttpRequest, question: Question, error: str, *, status: int
) -> JsonResponse:
    return JsonResponse(_failure_body(request, question, error), status=status)


def _failure_body(
    request: AuthenticatedHttpRequest, question: Question, error: str
) -> dict[str, Any]:
    return {
        "error": error,
        "error_code": question.error_code,
        "id": question.pk,
        "retry_url": reverse("codegen:retry", args=[question.pk])
        if question_can_be_resent(question=question)
        else "",
        "detail_url": reverse("codegen:detail", args=[question.pk]),
        **_quota_json(request),
    }


@login_required
@require_GET
def detail(request: AuthenticatedHttpRequest, question_id: int) -> HttpResponse:
    question = question_get_owned(user=request.user, question_id=question_id)
    context = {
        "question": question,
        "can_be_resent": question_can_be_resent(question=question),
        **answer_context(question),
    }
    return render(request, "codegen/detail.html", context)


@login_required
@require_GET
def download(request: AuthenticatedHttpRequest, question_id: int) -> HttpResponse:
    question = question_get_owned(user=request.user, question_id=question_id)
    if not question.code:
        raise Http404
    response = HttpResponse(question.code, content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{question.download_filename}"'
    return response


@login_required
@require_GET
def history(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(question_list(user=request.user), 10).get_page(request.GET.get("page"))
    configured = backends.backend_configured()
    entries = [
        {"question": question, **answer_context(question)}
        if question.status == Question.Status.ANSWERED
        else {
            "question": question,
            "can_be_resent": question.can_be_resent(backend_configured=configured),
        }
        for question in page.object_list
    ]
    return render(request, "codegen/history.html", {"page": page, "entries": entries})


@login_required
@require_POST
def retry(request: AuthenticatedHttpRequest, question_id: int) -> HttpResponse:
    question = question_get_owned(user=request.user, question_id=question_id)
    try:
        question_retry(question=question)
    except InvalidTransition:
        messages.warning(request, _("Seule une question échouée peut être renvoyée."))
    except BackendNotConfigured:
        messages.warning(request, _unavailable_message())
    except RetryCannotSucceed:
        messages.warning(
            request, _("Renvoyer cette question échouerait de la même façon : reformulez-la.")
        )
    except QuotaExceeded:
        messages.warning(request, _quota_message())
    except SendLimitReached as error:
        messages.warning(request, str(error))
    except TooManyInFlight:
        messages.warning(request, _busy_message())
    except LlmError:
        messages.error(request, _("La question a de nouveau échoué."))
    else:
        messages.success(request, _("La question a obtenu une réponse."))
    return redirect("codegen:detail", question_id=question.pk)

"""The files of a conversion: the uploaded PDF, each version's .tex and compiled PDF.

The addresses of the time before versions (`/download/`, `/download/repaired/`, `/pdf/`,
`/pdf/download/`) answer with a permanent redirect to the version that now holds the file.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpResponse,
    HttpResponsePermanentRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedHttpRequest
from latexocr.models import Version
from latexocr.review.selectors import conversion_source_pdf, version_current, version_get_owned
from latexocr.views.common import PDF_CSP, download_filename
from latexocr.views.detail import done_conversion_get_owned


@login_required
@require_GET
def version_tex(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID, number: int
) -> HttpResponse:
    """A version's .tex as plain text, to read in the browser."""
    version = version_get_owned(user=request.user, conversion_id=conversion_id, number=number)
    response = HttpResponse(version.latex, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = (
        f'inline; filename="{download_filename(version.conversion, f"-v{number}.tex")}"'
    )
    return response


@login_required
@require_GET
def version_tex_download(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID, number: int
) -> HttpResponse:
    version = version_get_owned(user=request.user, conversion_id=conversion_id, number=number)
    response = HttpResponse(version.latex, content_type="application/x-tex; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{download_filename(version.conversion, f"-v{number}.tex")}"'
    )
    return response


def _version_pdf(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID, number: int, disposition: str
) -> HttpResponse:
    version = version_get_owned(
        user=request.user, conversion_id=conversion_id, number=number, with_pdf=True
    )
    if version.compiled_pdf is None:
        raise Http404
    response = HttpResponse(bytes(version.compiled_pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'{disposition}; filename="{download_filename(version.conversion, f"-v{number}.pdf")}"'
    )
    return response


@login_required
@require_GET
@xframe_options_sameorigin
@csp_override(PDF_CSP)
@cache_control(private=True)
def version_pdf(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID, number: int
) -> HttpResponse:
    """A version's compiled PDF, inline (the page frames the current one)."""
    return _version_pdf(request, conversion_id, number, "inline")


@login_required
@require_GET
@cache_control(private=True)
def version_pdf_download(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID, number: int
) -> HttpResponse:
    return _version_pdf(request, conversion_id, number, "attachment")


@login_required
@require_GET
@xframe_options_sameorigin
@csp_override(PDF_CSP)
@cache_control(private=True)
def source_pdf(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID
) -> StreamingHttpResponse:
    """The PDF the student uploaded, inline, to compare with the compiled one."""
    conversion, chunks = conversion_source_pdf(user=request.user, conversion_id=conversion_id)
    # Streamed chunk by chunk, as stored: the process never holds the whole upload.
    response = StreamingHttpResponse(chunks, content_type="application/pdf")
    response["Content-Length"] = str(conversion.size_bytes)
    response["Content-Disposition"] = (
        f'inline; filename="{download_filename(conversion, "-depose.pdf")}"'
    )
    return response


def _to_version(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID, view_name: str, *, repaired: bool
) -> HttpResponsePermanentRedirect:
    conversion = done_conversion_get_owned(request, conversion_id)
    if repaired:
        # The automatic repair round's answer, when the round gave one, is version 2.
        version = conversion.versions.filter(number=2, origin=Version.Origin.REPAIRED).first()
    else:
        version = version_current(conversion=conversion, with_latex=False)
    if version is None:
        raise Http404
    return redirect(view_name, conversion_id=conversion.pk, number=version.number, permanent=True)


@login_required
@require_GET
def legacy_download(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID
) -> HttpResponsePermanentRedirect:
    """The transcription's .tex: version 1."""
    conversion = done_conversion_get_owned(request, conversion_id)
    return redirect(
        "latexocr:version_tex_download", conversion_id=conversion.pk, number=1, permanent=True
    )


@login_required
@require_GET
def legacy_download_repaired(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID
) -> HttpResponsePermanentRedirect:
    return _to_version(request, conversion_id, "latexocr:version_tex_download", repaired=True)


@login_required
@require_GET
def legacy_pdf(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID
) -> HttpResponsePermanentRedirect:
    """The compiled PDF: the current version's."""
    return _to_version(request, conversion_id, "latexocr:version_pdf", repaired=False)


@login_required
@require_GET
def legacy_pdf_download(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID
) -> HttpResponsePermanentRedirect:
    return _to_version(request, conversion_id, "latexocr:version_pdf_download", repaired=False)

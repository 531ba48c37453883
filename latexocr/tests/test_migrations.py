"""Migrations that move data, run on a database holding rows of the shape before them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from accounts.tests.factories import UserFactory
from latexocr.models import Conversion, RepairRequest, Version

BEFORE = [("latexocr", "0010_version_compile_started_at")]
PDF_ORIGINAL = b"%PDF-1.4\n% version 1 compiled\n%%EOF\n"
PDF_REPAIRED = b"%PDF-1.4\n% version 2 compiled\n%%EOF\n" + bytes(range(256))
ERRORS = [{"line": 5, "message": "Commande inconnue : \\mathbb"}]


@pytest.fixture
def old_apps() -> Iterator[Apps]:
    """The models as they were before the versions held the compile; the latest schema after."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    migrate_to_latest()  # again, should the test have stopped before its own


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("latexocr"))


def old_conversion(apps: Apps, owner: User, **fields: Any) -> Any:
    model = apps.get_model("latexocr", "Conversion")
    values: dict[str, Any] = {
        "owner_id": owner.pk,
        "original_filename": "td1.pdf",
        "size_bytes": 1,
        "page_count": 1,
        "sha256": "0" * 64,
        "backend": "gemini",
        "status": "done",
        "latex": "\\documentclass{article} % v1",
        **fields,
    }
    return model.objects.create(**values)


def old_version(apps: Apps, conversion: Any, number: int, **fields: Any) -> Any:
    return apps.get_model("latexocr", "Version").objects.create(
        conversion=conversion, number=number, **fields
    )


@pytest.mark.django_db(transaction=True)
def test_the_versions_receive_every_compiled_pdf_and_result_the_conversions_kept(
    old_apps: Apps,
) -> None:
    owner = UserFactory.create()
    # As today's code records it: the check on the conversion, and versions 1 and 2 beside.
    repaired = old_conversion(
        old_apps,
        owner,
        latex_repaired="\\documentclass{article} % v2",
        compile_status="compiles",
        compiled_version="repaired",
        compile_errors=ERRORS,
        compile_log_excerpt="Output written",
        compile_duration_s=1.5,
        compiled_pdf=PDF_REPAIRED,
        compiled_page_count=2,
    )
    old_version(
        old_apps,
        repaired,
        1,
        origin="original",
        latex=repaired.latex,
        compile_status="fails",
        compile_errors=ERRORS,
    )
    old_version(
        old_apps,
        repaired,
        2,
        origin="repaired",
        latex=repaired.latex_repaired,
        compile_status="compiles",
        compiled_pdf=PDF_REPAIRED,
        compiled_page_count=2,
    )
    old_version(old_apps, repaired, 3, origin="edited", latex="edited", compile_status="fails")
    # Finished before versions existed: the conversion alone holds the PDF.
    alone = old_conversion(
        old_apps,
        owner,
        compile_status="compiles",
        compiled_version="original",
        compile_duration_s=0.8,
        compiled_pdf=PDF_ORIGINAL,
        compiled_page_count=1,
    )
    # A version 1 written without its PDF while the conversion kept it.
    lacking = old_conversion(
        old_apps,
        owner,
        compile_status="compiles",
        compiled_version="original",
        compiled_pdf=PDF_ORIGINAL,
        compiled_page_count=1,
    )
    old_version(
        old_apps, lacking, 1, origin="original", latex=lacking.latex, compile_status="skipped"
    )
    skipped = old_conversion(
        old_apps, owner, compile_status="skipped", compile_skipped_reason="aucun compilateur"
    )
    failed = old_conversion(old_apps, owner, status="failed", latex="")
    old_requests: Any = old_apps.get_model("latexocr", "RepairRequest")
    old_requests.objects.create(
        conversion=repaired, owner_id=owner.pk, source_number=1, status="failed", error="trop long"
    )

    migrate_to_latest()

    first, second, third = Version.objects.filter(conversion_id=repaired.pk).order_by("number")
    assert (first.compile_status, first.compile_errors, first.compiled_pdf) == (
        "fails",
        ERRORS,
        None,
    )
    assert second.compile_status == "compiles"
    assert bytes(second.compiled_pdf or b"") == PDF_REPAIRED
    assert second.compiled_page_count == 2
    assert second.compile_log_excerpt == "Output written"
    assert (third.origin, third.latex) == ("edited", "edited")
    (made,) = Version.objects.filter(conversion_id=alone.pk)
    assert (made.number, made.origin, made.latex) == (1, "original", alone.latex)
    assert made.compile_status == "compiles"
    assert bytes(made.compiled_pdf or b"") == PDF_ORIGINAL
    assert (made.compiled_page_count, made.compile_duration_s) == (1, 0.8)
    (filled,) = Version.objects.filter(conversion_id=lacking.pk)
    assert filled.compile_status == "compiles"
    assert bytes(filled.compiled_pdf or b"") == PDF_ORIGINAL
    (reason,) = Version.objects.filter(conversion_id=skipped.pk)
    assert (reason.compile_status, reason.compile_skipped_reason) == (
        "skipped",
        "aucun compilateur",
    )
    assert not Version.objects.filter(conversion_id=failed.pk).exists()
    assert Conversion.objects.count() == 5
    request = RepairRequest.objects.get()
    assert (request.error_code, request.error_message) == ("legacy", "trop long")

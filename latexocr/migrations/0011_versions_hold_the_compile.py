"""The versions become the one record of each compile: whatever a conversion kept of its
compile check that its versions do not have yet is copied onto them (0012 then drops the
conversion's copy). Repair requests' failures become codes, worded when shown."""

from collections.abc import Mapping
from typing import Any

from django.db import migrations, models

# The conversion's compile check, as it stored it until this migration.
CHECK_FIELDS = (
    "compile_status",
    "compile_skipped_reason",
    "compile_errors",
    "repaired_compile_errors",
    "compile_log_excerpt",
    "compile_duration_s",
    "latex_repaired",
    "repair_error",
    "compiled_version",
    "compiled_pdf",
    "compiled_page_count",
)
# A version's result fields that the copy fills when the version lacks them.
RESULT_FIELDS = (
    "compile_skipped_reason",
    "compile_errors",
    "compile_log_excerpt",
    "compile_duration_s",
    "compiled_pdf",
    "compiled_page_count",
)
EMPTY: tuple[object, ...] = (None, "", [], b"")


def versions_from_check(*, latex: str, check: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Versions 1 (the transcription) and 2 (the repair round's answer, when there was one)
    with their compile results, from the check as a conversion stored it."""
    status = check.get("compile_status") or "not_checked"
    compiled_version = check.get("compiled_version") or "original"
    versions: list[dict[str, Any]] = [{"number": 1, "origin": "original", "latex": latex}]
    if check.get("latex_repaired"):
        versions.append({"number": 2, "origin": "repaired", "latex": check["latex_repaired"]})
    for version in versions:
        if status not in ("compiles", "fails"):
            version["compile_status"] = "skipped"
            version["compile_skipped_reason"] = (check.get("compile_skipped_reason") or "")[:255]
            continue
        errors_field = "compile_errors" if version["number"] == 1 else "repaired_compile_errors"
        version["compile_errors"] = check.get(errors_field) or []
        if status == "compiles" and compiled_version == version["origin"]:
            version["compile_status"] = "compiles"
            version["compiled_pdf"] = check.get("compiled_pdf")
            version["compiled_page_count"] = check.get("compiled_page_count")
        else:
            version["compile_status"] = "fails"
    if status in ("compiles", "fails"):
        # The log excerpt is the last compile's; the duration covered the whole check.
        versions[-1]["compile_log_excerpt"] = check.get("compile_log_excerpt") or ""
        versions[0]["compile_duration_s"] = check.get("compile_duration_s")
    return versions


def copy_check_to_versions(apps: Any, schema_editor: Any) -> None:
    conversion_model = apps.get_model("latexocr", "Conversion")
    version_model = apps.get_model("latexocr", "Version")
    done = (
        conversion_model.objects.filter(status="done")
        .exclude(latex="")
        .only("pk", "latex", "created_at", "finished_at", *CHECK_FIELDS)
        .iterator(chunk_size=20)
    )
    for conversion in done:
        check = {name: getattr(conversion, name) for name in CHECK_FIELDS}
        if check["compiled_pdf"] is not None:
            check["compiled_pdf"] = bytes(check["compiled_pdf"])
        existing = {
            version.number: version
            for version in version_model.objects.filter(conversion=conversion, number__lte=2)
        }
        when = conversion.finished_at or conversion.created_at
        for fields in versions_from_check(latex=conversion.latex, check=check):
            version = existing.get(fields["number"])
            if version is None:
                version_model.objects.create(
                    conversion=conversion, created_at=when, compiled_at=when, **fields
                )
                continue
            if version.origin != fields["origin"] or version.latex != fields["latex"]:
                continue  # not the version this check compiled
            missing = [
                name
                for name in RESULT_FIELDS
                if fields.get(name) not in EMPTY and getattr(version, name) in EMPTY
            ]
            if fields["compile_status"] == "compiles" and version.compile_status != "compiles":
                missing.append("compile_status")
            for name in missing:
                setattr(version, name, fields[name])
            if missing:
                version.save(update_fields=missing)


def copy_versions_to_check(apps: Any, schema_editor: Any) -> None:
    """Back to the conversion's own copy, from versions 1 and 2."""
    conversion_model = apps.get_model("latexocr", "Conversion")
    version_model = apps.get_model("latexocr", "Version")
    for conversion in conversion_model.objects.filter(status="done").iterator(chunk_size=20):
        versions = {
            version.number: version
            for version in version_model.objects.filter(conversion=conversion, number__lte=2)
        }
        original = versions.get(1)
        if original is None:
            continue
        repaired = versions.get(2) if getattr(versions.get(2), "origin", "") == "repaired" else None
        compiled = next(
            (v for v in (original, repaired) if v is not None and v.compile_status == "compiles"),
            None,
        )
        last = repaired or original
        conversion.latex_repaired = repaired.latex if repaired else ""
        conversion.compile_errors = original.compile_errors
        conversion.repaired_compile_errors = repaired.compile_errors if repaired else []
        conversion.compile_log_excerpt = last.compile_log_excerpt
        conversion.compile_duration_s = original.compile_duration_s
        conversion.compile_skipped_reason = original.compile_skipped_reason
        conversion.compiled_pdf = compiled.compiled_pdf if compiled else None
        conversion.compiled_page_count = compiled.compiled_page_count if compiled else None
        conversion.compiled_version = compiled.origin if compiled else ""
        if original.compile_status == "skipped":
            conversion.compile_status = "skipped"
        else:
            conversion.compile_status = "compiles" if compiled else "fails"
        conversion.save(update_fields=[name for name in CHECK_FIELDS if name != "repair_error"])


def repair_errors_to_codes(apps: Any, schema_editor: Any) -> None:
    # Sentences stored before the codes are shown as they were (the "legacy" kind).
    request_model = apps.get_model("latexocr", "RepairRequest")
    for request in request_model.objects.exclude(error="").iterator(chunk_size=200):
        request.error_code = "legacy"
        request.error_params = {"message": request.error}
        request.save(update_fields=["error_code", "error_params"])


def repair_codes_to_errors(apps: Any, schema_editor: Any) -> None:
    request_model = apps.get_model("latexocr", "RepairRequest")
    for request in request_model.objects.exclude(error_code="").iterator(chunk_size=200):
        request.error = str(request.error_params.get("message") or request.error_code)
        request.save(update_fields=["error"])


class Migration(migrations.Migration):
    dependencies = [
        ("latexocr", "0010_version_compile_started_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="repairrequest",
            name="error_code",
            field=models.CharField(blank=True, max_length=64, verbose_name="code d’erreur"),
        ),
        migrations.AddField(
            model_name="repairrequest",
            name="error_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="paramètres de l’erreur"),
        ),
        migrations.AddField(
            model_name="repairrequest",
            name="error_detail",
            field=models.TextField(blank=True, verbose_name="détail technique (équipe)"),
        ),
        migrations.AddField(
            model_name="repairrequest",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="démarrée le"),
        ),
        migrations.RunPython(copy_check_to_versions, copy_versions_to_check, elidable=False),
        migrations.RunPython(repair_errors_to_codes, repair_codes_to_errors, elidable=False),
    ]

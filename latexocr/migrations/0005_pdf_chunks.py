"""The uploaded PDF moves from one bytea column to 1 MiB chunks (latexocr.conversions.storage)."""

import django.db.models.deletion
from django.db import migrations, models

CHUNK_BYTES = 1024 * 1024


def pdf_to_chunks(apps, schema_editor):
    Conversion = apps.get_model("latexocr", "Conversion")
    PdfChunk = apps.get_model("latexocr", "PdfChunk")
    # One conversion's PDF at a time: the ids first, then each PDF on its own.
    for pk in Conversion.objects.values_list("pk", flat=True).iterator():
        pdf = bytes(Conversion.objects.values_list("pdf", flat=True).get(pk=pk))
        for seq, start in enumerate(range(0, len(pdf), CHUNK_BYTES)):
            PdfChunk.objects.create(
                conversion_id=pk, seq=seq, data=pdf[start : start + CHUNK_BYTES]
            )


def chunks_to_pdf(apps, schema_editor):
    Conversion = apps.get_model("latexocr", "Conversion")
    PdfChunk = apps.get_model("latexocr", "PdfChunk")
    for pk in Conversion.objects.values_list("pk", flat=True).iterator():
        data = (
            PdfChunk.objects.filter(conversion_id=pk).order_by("seq").values_list("data", flat=True)
        )
        Conversion.objects.filter(pk=pk).update(pdf=b"".join(bytes(chunk) for chunk in data))


class Migration(migrations.Migration):
    dependencies = [
        ("latexocr", "0004_versions"),
    ]

    operations = [
        migrations.CreateModel(
            name="PdfChunk",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.PositiveIntegerField(verbose_name="rang")),
                ("data", models.BinaryField(verbose_name="données")),
                (
                    "conversion",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="pdf_chunks",
                        to="latexocr.conversion",
                        verbose_name="conversion",
                    ),
                ),
            ],
            options={
                "verbose_name": "morceau de PDF",
                "verbose_name_plural": "morceaux de PDF",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("conversion", "seq"), name="latexocr_pdfchunk_seq"
                    )
                ],
            },
        ),
        migrations.RunPython(pdf_to_chunks, chunks_to_pdf),
        migrations.AlterField(
            model_name="conversion",
            name="pdf",
            field=models.BinaryField(default=b"", verbose_name="PDF"),
        ),
        migrations.RemoveField(model_name="conversion", name="pdf"),
    ]

"""Store each answer's explanation rendered as HTML, and render the answers already saved.

The backfill calls the renderer of today's code on purpose: the stored HTML must be what a
new answer would get. It walks the rows in batches so a large table is not held in memory.
"""

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

BATCH = 500


def render_saved_explanations(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from codegen.rendering import explanation_render

    question_model = apps.get_model("codegen", "Question")
    batch = []
    saved = question_model.objects.exclude(explanation="").only("pk", "explanation")
    for question in saved.iterator(chunk_size=BATCH):
        question.explanation_html = str(explanation_render(question.explanation))
        batch.append(question)
        if len(batch) >= BATCH:
            question_model.objects.bulk_update(batch, ["explanation_html"])
            batch = []
    if batch:
        question_model.objects.bulk_update(batch, ["explanation_html"])


class Migration(migrations.Migration):
    dependencies = [
        ("codegen", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="question",
            name="explanation_html",
            field=models.TextField(blank=True, editable=False, verbose_name="explication (HTML)"),
        ),
        migrations.RunPython(render_saved_explanations, migrations.RunPython.noop),
    ]

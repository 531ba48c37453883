"""The conversion's copy of its compile check goes: its versions hold it (0011 copied it)."""

from django.db import migrations


class Migration(migrations.Migration):
    # Apart from 0011: PostgreSQL refuses to alter a table with the rows 0011 wrote pending.
    dependencies = [
        ("latexocr", "0011_versions_hold_the_compile"),
    ]

    operations = [
        migrations.RemoveField(model_name="conversion", name="compile_status"),
        migrations.RemoveField(model_name="conversion", name="compile_skipped_reason"),
        migrations.RemoveField(model_name="conversion", name="compile_errors"),
        migrations.RemoveField(model_name="conversion", name="repaired_compile_errors"),
        migrations.RemoveField(model_name="conversion", name="compile_log_excerpt"),
        migrations.RemoveField(model_name="conversion", name="compile_duration_s"),
        migrations.RemoveField(model_name="conversion", name="latex_repaired"),
        migrations.RemoveField(model_name="conversion", name="repair_error"),
        migrations.RemoveField(model_name="conversion", name="compiled_version"),
        migrations.RemoveField(model_name="conversion", name="compiled_pdf"),
        migrations.RemoveField(model_name="conversion", name="compiled_page_count"),
        migrations.RemoveField(model_name="repairrequest", name="error"),
    ]

# Issue 13 item 10 / issue 14 item 10: a probe's technical detail is for owners, their team and staff; everyone
# else reads a plain reason. Failures recorded before get theirs from the stored text, and the history's reasons,
# which quoted the detail, are reworded the same way.

from django.db import migrations, models

PREFIX = "The check itself failed: "


def plain_reasons(apps, schema_editor):
    from monitoring.reasons import plain_from_text

    policy_model = apps.get_model("monitoring", "FreshnessPolicy")
    check_model = apps.get_model("monitoring", "FreshnessCheck")
    failing = policy_model.objects.exclude(probe_error="")
    for error in failing.values_list("probe_error", flat=True).distinct():
        failing.filter(probe_error=error).update(probe_reason=plain_from_text(error)[:300])
    quoting = check_model.objects.filter(reason__startswith=PREFIX).exclude(error="")
    for error in quoting.values_list("error", flat=True).distinct():
        reason = f"{PREFIX}{plain_from_text(error).rstrip('.')}."
        quoting.filter(error=error).update(reason=reason[:500])


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0004_move_jobs_and_notifications_to_core"),
    ]

    operations = [
        migrations.AddField(
            model_name="freshnesspolicy",
            name="probe_reason",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                help_text="Why the last probe failed, in plain words anyone may read (monitoring.reasons).",
                max_length=300,
            ),
        ),
        migrations.AlterField(
            model_name="freshnesspolicy",
            name="probe_error",
            field=models.TextField(
                blank=True,
                help_text="The last probe's technical detail: for the asset's owners, its team and staff only.",
            ),
        ),
        # Backwards, the plain reasons are dropped with their column; the reworded history keeps its plain words.
        migrations.RunPython(plain_reasons, migrations.RunPython.noop),
    ]

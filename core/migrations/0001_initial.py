"""Job runs, notifications, channel preferences and alerts move here from ``monitoring``.

Their tables stay where they are (``db_table``): this migration only tells Django's state that ``core`` owns them,
and moves their content types (and so their permissions and admin history) along. Reversible both ways.
"""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models

MOVED = ["jobrun", "notification", "notificationpreference", "alert"]


def _move_content_types(apps, source, target):
    content_types = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not content_types.objects.filter(app_label=target, model=model).exists():
            content_types.objects.filter(app_label=source, model=model).update(app_label=target)


def to_core(apps, schema_editor):
    _move_content_types(apps, "monitoring", "core")


def to_monitoring(apps, schema_editor):
    _move_content_types(apps, "core", "monitoring")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("catalog", "0007_lineage_event_queue"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("monitoring", "0003_freshness_check_prune_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="JobRun",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("schema_scan", "Schema scan"),
                                    ("training", "Model training"),
                                    ("mlflow_sync", "MLflow sync"),
                                    ("freshness_check", "Freshness check"),
                                ],
                                db_index=True,
                                max_length=30,
                            ),
                        ),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("queued", "Queued"),
                                    ("running", "Running"),
                                    ("succeeded", "Succeeded"),
                                    ("failed", "Failed"),
                                    ("cancelled", "Cancelled"),
                                ],
                                db_index=True,
                                default="queued",
                                max_length=20,
                            ),
                        ),
                        (
                            "step",
                            models.CharField(
                                blank=True, help_text="What the job is doing now, in plain words.", max_length=50
                            ),
                        ),
                        ("progress", models.PositiveSmallIntegerField(default=0, help_text="Percent done.")),
                        ("params", models.JSONField(blank=True, default=dict)),
                        ("result", models.JSONField(blank=True, default=dict)),
                        ("error", models.TextField(blank=True)),
                        ("log", models.TextField(blank=True)),
                        ("celery_task_id", models.CharField(blank=True, max_length=64)),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "attempts",
                            models.PositiveSmallIntegerField(
                                default=0, help_text="How many times a worker started this run."
                            ),
                        ),
                        (
                            "asset",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="job_runs",
                                to="catalog.asset",
                            ),
                        ),
                        (
                            "requested_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "monitoring_jobrun",
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="Alert",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("freshness", "Freshness changed"),
                                    ("job", "Job finished"),
                                    ("drift", "Pipeline drift"),
                                    ("schema_change", "Schema changed"),
                                    ("issue", "Data issue"),
                                    ("deprecation", "Deprecation"),
                                    ("review", "Review due"),
                                    ("promotion", "Promotion"),
                                    ("other", "Other"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("title", models.CharField(max_length=300)),
                        ("body", models.TextField(blank=True)),
                        ("url", models.CharField(blank=True, max_length=500)),
                        ("from_status", models.CharField(blank=True, max_length=10)),
                        ("to_status", models.CharField(blank=True, max_length=10)),
                        ("recipient_count", models.PositiveIntegerField(default=0)),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        (
                            "asset",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="alerts",
                                to="catalog.asset",
                            ),
                        ),
                        (
                            "job_run",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="alerts",
                                to="core.jobrun",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "monitoring_alert",
                        "ordering": ["-created_at", "-pk"],
                    },
                ),
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("freshness", "Freshness changed"),
                                    ("job", "Job finished"),
                                    ("drift", "Pipeline drift"),
                                    ("schema_change", "Schema changed"),
                                    ("issue", "Data issue"),
                                    ("deprecation", "Deprecation"),
                                    ("review", "Review due"),
                                    ("promotion", "Promotion"),
                                    ("other", "Other"),
                                ],
                                default="other",
                                max_length=20,
                            ),
                        ),
                        ("title", models.CharField(max_length=300)),
                        ("body", models.TextField(blank=True)),
                        (
                            "url",
                            models.CharField(
                                blank=True,
                                help_text="Where the notification leads, a path in the portal.",
                                max_length=500,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("read_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "asset",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to="catalog.asset",
                            ),
                        ),
                        (
                            "recipient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "monitoring_notification",
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="NotificationPreference",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("inbox", models.BooleanField(default=True, verbose_name="in-app inbox")),
                        ("email", models.BooleanField(default=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notification_preference",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "monitoring_notificationpreference",
                    },
                ),
                migrations.AddIndex(
                    model_name="jobrun",
                    index=models.Index(fields=["asset", "-created_at"], name="jobrun_asset_recent"),
                ),
                migrations.AddIndex(
                    model_name="alert",
                    index=models.Index(fields=["asset", "-created_at"], name="alert_asset_recent"),
                ),
                migrations.AddIndex(
                    model_name="notification",
                    index=models.Index(fields=["recipient", "read_at"], name="notification_unread"),
                ),
            ],
        ),
        migrations.RunPython(to_core, to_monitoring),
    ]

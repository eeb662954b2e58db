"""The other half of ``core/0001``: monitoring's state forgets the models that moved; no table changes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0003_freshness_check_prune_index"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="jobrun",
                    name="asset",
                ),
                migrations.RemoveField(
                    model_name="jobrun",
                    name="requested_by",
                ),
                migrations.RemoveField(
                    model_name="notification",
                    name="asset",
                ),
                migrations.RemoveField(
                    model_name="notification",
                    name="recipient",
                ),
                migrations.RemoveField(
                    model_name="notificationpreference",
                    name="user",
                ),
                migrations.DeleteModel(
                    name="Alert",
                ),
                migrations.DeleteModel(
                    name="JobRun",
                ),
                migrations.DeleteModel(
                    name="Notification",
                ),
                migrations.DeleteModel(
                    name="NotificationPreference",
                ),
            ],
        ),
    ]

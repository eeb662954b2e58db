from datetime import timedelta

from django.core.management.base import BaseCommand

from trust.attachments import remove_orphans


class Command(BaseCommand):
    help = (
        "Remove issue attachment files that no issue names (left by a process killed mid-submission), and put in "
        "place those whose issue was committed. Beat runs this hourly (trust.tasks.remove_orphan_attachments)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than-minutes", type=int, default=60, help="Leave younger files alone.")

    def handle(self, *args, older_than_minutes, **options):
        moved, removed = remove_orphans(timedelta(minutes=older_than_minutes))
        self.stdout.write(f"{moved} moved into place, {removed} removed.")

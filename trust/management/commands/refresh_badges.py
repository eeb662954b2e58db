from django.core.management.base import BaseCommand, CommandError

from trust.badges import REFRESH_BATCH, refresh_all, refresh_stale


class Command(BaseCommand):
    help = (
        "Recompute the stored trust badges marked stale (the worker does this every minute). With --all, compute "
        "every asset's badge: after installing, or after changing the trust rules. Pages compute a missing badge "
        "on first view either way."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Every asset's badge, not only the stale ones.")
        parser.add_argument("--batch-size", type=int, default=REFRESH_BATCH, help="Assets per batch.")

    def handle(self, *args, all=False, batch_size=REFRESH_BATCH, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if all:
            done = refresh_all(batch_size, report=lambda done, total: self.stdout.write(f"  {done:,} of {total:,}"))
        else:
            done = refresh_stale(batch_size)
            if done is None:
                raise CommandError("The worker's badge refresher is running now; it computes the stale badges.")
        self.stdout.write(self.style.SUCCESS(f"Badges computed and stored: {done:,}."))

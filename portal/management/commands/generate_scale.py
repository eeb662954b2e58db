"""``manage.py generate_scale``: the benchmark's data set (``bench.generate``) in a database of your choice."""

import time

from django.core.management.base import BaseCommand

from bench.generate import generate, parse_epoch, parse_scale


class Command(BaseCommand):
    help = "Fill an empty PostgreSQL database with a large, deterministic catalog for benchmarks (COPY, minutes)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", default="small", help="'full', 'small' (2%%) or a factor such as 0.1.")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, scale and epoch, same rows.")
        parser.add_argument(
            "--epoch",
            type=parse_epoch,
            help="The data's 'now' (ISO date or time, UTC); the current minute when left out.",
        )

    def handle(self, *, scale, seed, epoch, **options):
        factor = parse_scale(scale)
        started = time.monotonic()
        gen = generate(factor, seed, epoch=epoch, log=self.stdout.write)
        total = sum(gen.written.values())
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {total:,} rows at scale {factor:g} in {time.monotonic() - started:.0f} s.")
        )

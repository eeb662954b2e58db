"""Figures behind docs/scaling.md, read from a database ``generate_scale`` filled (nothing is changed: the delete it
times is rolled back, the predictions it adds are in a transaction rolled back too).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_x DEBUG=true .venv/bin/python -m bench.scaling

Prints, for the data at hand: the largest tables (rows, bytes per row), the walk and the impact CSV from the
largest hub (first piece and whole file, in process), the hot queries of the growing tables with their plans'
timings, the hourly prune's delete rate, and the prediction log's size and window query at a given row count.
"""

import os
import statistics
import time

import django

SIZES = """
SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r'
ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 8
"""


def timed(function, repeat=5):
    """Median milliseconds of ``repeat`` calls, after one unrecorded call."""
    function()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def explain_ms(cursor, statement, params=()):
    """Execution time PostgreSQL reports for ``statement`` (EXPLAIN ANALYZE), median of 3, and the plan's top line."""
    runs = []
    for _ in range(3):
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", params)
        plan = cursor.fetchone()[0][0]
        runs.append(plan["Execution Time"])
    return statistics.median(runs), plan["Plan"]["Node Type"]


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    from django.db import connection, transaction
    from django.test import Client

    from catalog.lineage import walk
    from catalog.models import Asset, LineageEdge

    with connection.cursor() as cursor:
        cursor.execute(SIZES)
        print(f"database {connection.settings_dict['NAME']}")
        for name, rows, size in cursor.fetchall():
            per_row = size / rows if rows > 0 else 0
            print(f"  {name:<40} {rows:>12,} rows {size / 2**20:>9.1f} MiB {per_row:>7.0f} B/row")
        cursor.execute(
            f"SELECT upstream_id FROM {LineageEdge._meta.db_table} GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1"
        )
        hub = Asset.objects.select_related("owner").get(pk=cursor.fetchone()[0])

        found = walk([hub.pk], "down", 10)
        print(f"hub {hub.slug}: {len(found):,} assets within 10 hops")
        print(f"  walk, 10 hops: {timed(lambda: walk([hub.pk], 'down', 10)):.1f} ms (median of 5)")
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(hub.owner)
        first, whole = [], []
        for _ in range(6):
            started = time.perf_counter()
            pieces = iter(client.get(f"/catalog/dataset/{hub.slug}/impact.csv?depth=10").streaming_content)
            next(pieces)
            first.append((time.perf_counter() - started) * 1000)
            lines = sum(piece.count(b"\n") for piece in pieces)
            whole.append((time.perf_counter() - started) * 1000)
        print(
            f"  impact CSV in process: first piece {statistics.median(first[1:]):.1f} ms, whole file "
            f"{statistics.median(whole[1:]):.1f} ms (median of 5; {lines:,} lines after the first piece)"
        )

        cursor.execute("SELECT policy_id FROM monitoring_freshnesscheck GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1")
        policy = cursor.fetchone()[0]
        cursor.execute("SELECT recipient_id FROM monitoring_notification GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1")
        person = cursor.fetchone()[0]
        queries = {
            "a policy's last 50 checks (timeline)": (
                "SELECT * FROM monitoring_freshnesscheck WHERE policy_id = %s ORDER BY checked_at DESC, id DESC "
                "LIMIT 50",
                [policy],
            ),
            "unread notifications of one person (every page)": (
                "SELECT COUNT(*) FROM monitoring_notification WHERE recipient_id = %s AND read_at IS NULL",
                [person],
            ),
            "one person's inbox, newest 50": (
                "SELECT * FROM monitoring_notification WHERE recipient_id = %s ORDER BY created_at DESC LIMIT 50",
                [person],
            ),
        }
        for label, (statement, params) in queries.items():
            ms, node = explain_ms(cursor, statement, params)
            print(f"  {label}: {ms:.2f} ms ({node})")

        # The hourly prune (monitoring.tasks.prune_freshness_history): the oldest day of history, deleted and rolled
        # back, to time the delete rate through the checked_at index.
        cursor.execute("SELECT MIN(checked_at) FROM monitoring_freshnesscheck")
        oldest = cursor.fetchone()[0]
        with transaction.atomic():
            started = time.perf_counter()
            cursor.execute(
                "DELETE FROM monitoring_freshnesscheck WHERE checked_at < %s::timestamptz + interval '1 day'", [oldest]
            )
            deleted, seconds = cursor.rowcount, time.perf_counter() - started
            transaction.set_rollback(True)
        print(
            f"  prune: {deleted:,} checks deleted in {seconds * 1000:.0f} ms ({deleted / seconds:,.0f}/s), rolled back"
        )

        count = int(os.environ.get("SCALING_PREDICTIONS", "0"))
        if count:
            predictions(cursor, count, transaction)


def predictions(cursor, count, transaction):
    """``count`` predictions of one version over 10 days, inserted in one statement and rolled back: the table's
    bytes per row and the monitoring window's query (one day of one version)."""
    cursor.execute("SELECT asset_id, model_id FROM registry_modelversion ORDER BY asset_id LIMIT 1")
    version, model = cursor.fetchone()
    with transaction.atomic():
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO mlops_prediction (model_id, version_id, prediction_id, predicted_at, features, prediction, "
            "score, received_at) SELECT %s, %s, 'p' || n, now() - (n * interval '10 days' / %s), "
            "jsonb_build_object('amount', n %% 1000, 'country', 'FR', 'age', n %% 90), to_jsonb(n %% 2), "
            "(n %% 100) / 100.0, now() FROM generate_series(1, %s) n",
            [model, version, count, count],
        )
        inserted = time.perf_counter() - started
        cursor.execute("ANALYZE mlops_prediction")
        cursor.execute("SELECT pg_total_relation_size('mlops_prediction')")
        size = cursor.fetchone()[0]
        ms, node = explain_ms(
            cursor,
            "SELECT features, prediction, score FROM mlops_prediction WHERE version_id = %s AND predicted_at > "
            "now() - interval '1 day'",
            [version],
        )
        transaction.set_rollback(True)
    print(
        f"  predictions: {count:,} rows inserted in {inserted:.1f} s, {size / 2**20:.1f} MiB "
        f"({size / count:.0f} B/row); one day of one version ({count // 10:,} rows): {ms:.1f} ms ({node}); rolled back"
    )


if __name__ == "__main__":
    main()

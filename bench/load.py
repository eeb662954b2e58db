"""Many people at once (issue 18): locust, headless on the same machine, against the benchmark's portal.

``READERS`` signed-in readers browse (home, catalog list, a report, search, a model, the freshness board, the inbox)
while ``WRITERS`` writers file data issues, save their model's card and send heartbeat pings, for
``--load-seconds`` (120 by default). The rows: each page's and each write's latencies (target p95 ≤ 500 ms, 0
errors), every request together (the throughput), and the writes: what the writers say the portal acknowledged
against what the database holds afterwards (a lost write is an error). Run alone with
``python -m bench --only load``; the people, pages and targets are in ``bench/locustfile.py``.

Each reader and writer is a person of the generated data, signed in with a session of their own (the writers own
the models whose cards they save). Locust records times in whole milliseconds and, above 100 ms, rounds them to
10 ms: the percentiles are its own.
"""

import csv
import html
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

READERS, WRITERS = 50, 10
TARGET_P95_MS = 500
# Seconds each person waits between two pages or writes: people read what they opened.
THINK_SECONDS = (1, 3)
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_TEXTAREA = re.compile(r'<textarea name="([a-z_]+)"[^>]*>(.*?)</textarea>', re.S)
_BASE = re.compile(r'name="base_revision" value="(\d+)"')


def csrf_token(page):
    """The CSRF token of the first form of an HTML page, or None."""
    found = _TOKEN.search(page)
    return found.group(1) if found else None


def card_form(page, comments):
    """What a writer posts back from the card's edit page: every section as the page shows it, ``comments``
    replaced, and the revision it started from; None when the page has no card form."""
    token, base = csrf_token(page), _BASE.search(page)
    if not (token and base):
        return None
    # Django writes a newline after <textarea> (browsers drop it) and escapes the text.
    data = {name: html.unescape(text).removeprefix("\n") for name, text in _TEXTAREA.findall(page)}
    data.update(csrfmiddlewaretoken=token, base_revision=base.group(1), comments=comments)
    return data


def plan(context, mark):
    """Who browses and who writes, with their session cookies, and the pages and rows they use."""
    from django.contrib.auth import get_user_model

    from bench.operations import SEARCH_QUERIES
    from bench.run import signed_in
    from catalog.choices import AssetKind
    from catalog.models import Asset
    from monitoring.choices import FreshnessMethod
    from monitoring.models import FreshnessPolicy
    from registry.models import RegisteredModel

    readers = get_user_model().objects.filter(is_active=True, is_staff=False).order_by("pk")[:READERS]
    models, owners = [], set()
    for model in RegisteredModel.objects.filter(asset__owner__isnull=False).select_related("asset__owner"):
        if model.asset.owner_id not in owners:
            owners.add(model.asset.owner_id)
            models.append(model)
        if len(models) == WRITERS:
            break
    datasets = list(Asset.objects.filter(kind=AssetKind.DATASET).order_by("pk").values_list("slug", flat=True)[:500])
    pings = list(
        FreshnessPolicy.objects.filter(method=FreshnessMethod.HEARTBEAT)
        .order_by("pk")
        .values_list("ping_key", flat=True)
    )
    if len(models) < WRITERS or not pings:
        raise RuntimeError("the generated data has too few model owners or no heartbeat checks for the writers")
    reports = Asset.objects.filter(kind=AssetKind.REPORT).order_by("pk")
    model_pages = Asset.objects.filter(kind=AssetKind.MODEL).order_by("pk")
    return {
        "mark": mark,
        "readers": READERS,
        "writers": WRITERS,
        "think_seconds": THINK_SECONDS,
        "reader_people": [{"username": person.username, "cookie": signed_in(person)} for person in readers],
        "writer_people": [
            {
                "username": model.asset.owner.username,
                "cookie": signed_in(model.asset.owner),
                "card_form": f"/models/{model.asset.slug}/card/edit/",
                "issue_form": f"/assets/dataset/{datasets[number * 37 % len(datasets)]}/report-problem/",
                "ping": f"/ping/{pings[number * 7 % len(pings)]}",
            }
            for number, model in enumerate(models)
        ],
        # 50 of each, spread over the catalog
        "reports": [report.get_absolute_url() for report in reports[:: max(1, reports.count() // 50)][:50]],
        "models": [model.get_absolute_url() for model in model_pages[:: max(1, model_pages.count() // 50)][:50]],
        "queries": SEARCH_QUERIES,
    }


def written(mark):
    """What the database holds of the writes marked ``mark``: issue titles, card texts, ping run ids."""
    from monitoring.models import FreshnessCheck
    from registry.models import CardRevision
    from trust.models import DataIssue

    return {
        "issue": set(DataIssue.objects.filter(title__startswith=mark).values_list("title", flat=True)),
        "card": set(
            CardRevision.objects.filter(snapshot__comments__startswith=mark).values_list(
                "snapshot__comments", flat=True
            )
        ),
        "ping": set(FreshnessCheck.objects.filter(run_id__startswith=mark).values_list("run_id", flat=True)),
    }


def run_locust(port, the_plan, seconds, folder):
    """Locust headless for ``seconds``; returns its statistics rows (``_stats.csv``) and what the writers said."""
    folder = Path(folder)
    (folder / "plan.json").write_text(json.dumps(the_plan))
    env = {
        **os.environ,
        "LOAD_PLAN": str(folder / "plan.json"),
        "LOAD_RESULT": str(folder / "result.json"),
        "PYTHONPATH": str(LOCUSTFILE.parent.parent),  # the locustfile imports bench.load
    }
    users = the_plan["readers"] + the_plan["writers"]
    command = [
        str(Path(sys.executable).parent / "locust"), "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds:g}s",
        # A person in the middle of a write when the time is up finishes it, so that it is counted.
        "--stop-timeout", "30", "--host", f"http://127.0.0.1:{port}", "--csv", str(folder / "load"),
        "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 120)  # noqa: S603
    if finished.returncode != 0 or not (folder / "result.json").exists():
        raise RuntimeError(f"locust failed ({finished.returncode}): {finished.stderr[-2000:]}")
    with open(folder / "load_stats.csv") as stats:
        rows = list(csv.DictReader(stats))
    with open(folder / "load_failures.csv") as failures:
        failed = list(csv.DictReader(failures))
    return rows, failed, json.loads((folder / "result.json").read_text())


def _row(name, stat, seconds, note=""):
    requests, failures = int(stat["Request Count"]), int(stat["Failure Count"])
    return {
        "name": name,
        "group": "load",
        "target": "portal",
        "mode": f"{READERS}+{WRITERS} people",
        "compare": "",
        "n": requests,
        "errors": failures,
        "first_error": "",
        "p50_ms": float(stat["50%"]),
        "p95_ms": float(stat["95%"]),
        "max_ms": float(stat["Max Response Time"]),
        "per_second": requests / seconds,
        "target_p95_ms": TARGET_P95_MS,
        "target_per_second": None,
        "note": note,
    }


def measure(context):
    """The load rows: one per page and write, all requests together, and the writes checked against the database."""
    seconds = context.get("load_seconds", 120)
    mark = f"load-{uuid.uuid4().hex[:10]}"
    the_plan = plan(context, mark)
    with tempfile.TemporaryDirectory() as folder:
        stats, failed, said = run_locust(context["ports"]["portal"], the_plan, seconds, folder)
    rows = []
    for stat in stats:
        if stat["Name"] == "Aggregated":
            continue
        rows.append(_row(f"load: {stat['Name']}", stat, seconds))
    total = next(stat for stat in stats if stat["Name"] == "Aggregated")
    rows.append(
        _row(
            f"load: every request, {READERS} readers and {WRITERS} writers for {seconds:g} s",
            total,
            seconds,
            note=f"locust headless on the same machine; each person waits {THINK_SECONDS[0]} to {THINK_SECONDS[1]} s",
        )
    )
    for failure in failed:
        row = next((r for r in rows if r["name"] == f"load: {failure['Name']}"), rows[-1])
        row["first_error"] = row["first_error"] or f"{failure['Occurrences']} times: {failure['Error'][:200]}"
    rows[-1]["first_error"] = next((r["first_error"] for r in rows if r["first_error"]), "")
    rows.append(writes_row(said, written(mark)))
    return rows


def writes_row(said, found):
    """Acknowledged writes missing from the database are errors; writes sent but not acknowledged are reported."""
    done = {kind: set(marks) for kind, marks in said["done"].items()}
    lost = {kind: sorted(done[kind] - found[kind]) for kind in done}
    counts = ", ".join(
        f"{kind}: {said['sent'].get(kind, 0)} sent, {len(done[kind])} acknowledged, {len(found[kind])} in the database"
        for kind in done
    )
    missing = sum(len(marks) for marks in lost.values())
    return {
        "name": "load: writes acknowledged and found in the database",
        "group": "load",
        "target": "portal",
        "mode": f"{WRITERS} writers",
        "compare": "",
        "n": sum(len(marks) for marks in done.values()),
        "errors": missing,
        "first_error": f"lost: {json.dumps({k: v[:3] for k, v in lost.items() if v})}" if missing else "",
        "p50_ms": 0.0,
        "p95_ms": 0.0,
        "max_ms": 0.0,
        "per_second": 0.0,
        "target_p95_ms": None,
        "target_per_second": None,
        "note": counts,
    }

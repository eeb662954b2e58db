"""Quality metrics of datasets: what OpenLineage's ``dataQualityMetrics`` input facet says a run measured (rows,
bytes, and per column nulls, distinct values, sum, count, min, max, quantiles), one row per run and dataset
(``DatasetMetrics``), and what the quality tab shows of them."""

from quality.models import DatasetMetrics

# The per-column measures, in the facet's words and the order the page shows them.
COLUMN_MEASURES = ("nullCount", "distinctCount", "count", "sum", "min", "max")
# Runs shown in the history.
HISTORY = 30


def record(asset_id, run_key, at, metrics):
    """Store what ``run_key`` measured of the dataset ``asset_id`` (a checked ``dataQualityMetrics`` facet); a run
    that sends the facet again (its START and COMPLETE events) replaces what it said first."""
    DatasetMetrics.objects.bulk_create(
        [
            DatasetMetrics(
                asset_id=asset_id,
                run_key=str(run_key)[:200],
                measured_at=at,
                row_count=metrics.get("rowCount"),
                bytes=metrics.get("bytes"),
                file_count=metrics.get("fileCount"),
                columns=metrics.get("columnMetrics") or {},
            )
        ],
        update_conflicts=True,
        unique_fields=["asset", "run_key"],
        update_fields=["measured_at", "row_count", "bytes", "file_count", "columns"],
    )


def latest_of(asset):
    """``(latest, history)``: the newest measurement of ``asset`` (None when none) with its columns as rows for a
    table, and the last ``HISTORY`` measurements, oldest first."""
    history = list(DatasetMetrics.objects.filter(asset=asset).order_by("-measured_at", "-pk")[:HISTORY])
    history.reverse()
    if not history:
        return None, []
    for row in history:
        nulls = [values["nullCount"] for values in row.columns.values() if values.get("nullCount") is not None]
        row.null_total = sum(nulls) if nulls else None
    latest = history[-1]
    latest.column_rows = [
        {
            "name": name,
            "measures": [values.get(measure) for measure in COLUMN_MEASURES],
            "quantiles": sorted((values.get("quantiles") or {}).items(), key=lambda item: float(item[0])),
        }
        for name, values in sorted(latest.columns.items())
    ]
    return latest, history


def figures(history):
    """The plotly figures of a dataset's measurements: rows per run, and nulls per run of each column."""
    if not history:
        return []
    times = [row.measured_at.isoformat() for row in history]
    charts = []
    if any(row.row_count is not None for row in history):
        rows = {"type": "scatter", "mode": "lines+markers", "name": "rows", "x": times,
                "y": [row.row_count for row in history]}  # fmt: skip
        charts.append(
            {"id": "quality-rows", "script_id": "quality-rows-figure",
             "figure": {"data": [rows], "layout": {"title": {"text": "Rows per run"}, "height": 280}}}
        )  # fmt: skip
    names = sorted({name for row in history for name, values in row.columns.items() if "nullCount" in values})
    if names:
        nulls = [
            {"type": "scatter", "mode": "lines+markers", "name": name, "x": times,
             "y": [(row.columns.get(name) or {}).get("nullCount") for row in history]}
            for name in names
        ]  # fmt: skip
        charts.append(
            {"id": "quality-nulls", "script_id": "quality-nulls-figure",
             "figure": {"data": nulls, "layout": {"title": {"text": "Nulls per column per run"}, "height": 280}}}
        )  # fmt: skip
    return charts

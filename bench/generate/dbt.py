"""A generated dbt project's artifacts, for the import benchmark: ``models`` models in layers, each reading one or
two models of the layer before (the first layer reads sources), ``columns`` columns each, its compiled SQL (columns
taken from its parents, one in three renamed or derived: the import reads its column lineage with OpenLineage's SQL
parser), a not_null test per model (one in ten failing), and the catalog and run results dbt would write."""

import random

SCHEMA = "https://schemas.getdbt.com/dbt/{}.json"


def artifacts(models, *, columns=6, database="bench", seed=16):
    """``{file name: dict}``: manifest.json, catalog.json and run_results.json of a project of ``models`` models."""
    rng = random.Random(seed)
    nodes, sources, catalog, results = {}, {}, {}, []
    names = [f"c{index}" for index in range(columns)]
    for number in range(max(1, models // 50)):
        uid = f"source.bench.raw.table_{number}"
        sources[uid] = {
            "unique_id": uid,
            "resource_type": "source",
            "name": f"table_{number}",
            "source_name": "raw",
            "identifier": f"table_{number}",
            "database": database,
            "schema": "raw",
            "description": "",
            "columns": {},
            "meta": {},
            "tags": [],
        }
        catalog[uid] = {"columns": {n: {"name": n, "type": "text", "index": i} for i, n in enumerate(names)}}
    previous = list(sources)
    layer = []
    for number in range(models):
        uid = f"model.bench.model_{number}"
        parents = rng.sample(previous, min(len(previous), rng.choice([1, 2])))
        nodes[uid] = {
            "unique_id": uid,
            "resource_type": "model",
            "name": f"model_{number}",
            "alias": f"model_{number}",
            "database": database,
            "schema": "marts",
            "description": f"Model {number}.",
            "columns": {n: {"name": n, "description": f"Column {n} of model {number}."} for n in names},
            "meta": {},
            "tags": ["bench"],
            "config": {"materialized": "table"},
            "depends_on": {"nodes": parents},
            "compiled_code": _compiled(names, parents, nodes, sources),
        }
        catalog[uid] = {"columns": {n: {"name": n, "type": "text", "index": i} for i, n in enumerate(names)}}
        test = f"test.bench.not_null_model_{number}_c0.{number:010x}"
        nodes[test] = {
            "unique_id": test,
            "resource_type": "test",
            "name": f"not_null_model_{number}_c0",
            "attached_node": uid,
            "column_name": "c0",
            "test_metadata": {"name": "not_null"},
            "config": {"severity": "ERROR"},
            "depends_on": {"nodes": [uid]},
        }
        failing = number % 10 == 0
        results.append(
            {
                "unique_id": test,
                "status": "fail" if failing else "pass",
                "failures": 3 if failing else 0,
                "execution_time": 0.01,
                "message": "",
                "timing": [],
            }
        )
        layer.append(uid)
        if len(layer) >= 200:
            previous, layer = layer, []
    metadata = {"generated_at": "2026-12-07T00:00:00Z", "invocation_id": f"bench-{seed}"}
    return {
        "manifest.json": {
            "metadata": {
                **metadata,
                "dbt_schema_version": SCHEMA.format("manifest/v12"),
                "adapter_type": "postgres",
                "project_name": "bench",
            },
            "nodes": nodes,
            "sources": sources,
            "exposures": {},
        },
        "catalog.json": {
            "metadata": {**metadata, "dbt_schema_version": SCHEMA.format("catalog/v1")},
            "nodes": {k: v for k, v in catalog.items() if k.startswith("model.")},
            "sources": {k: v for k, v in catalog.items() if k.startswith("source.")},
        },
        "run_results.json": {
            "metadata": {**metadata, "dbt_schema_version": SCHEMA.format("run-results/v6")},
            "results": results,
        },
    }


def _compiled(names, parents, nodes, sources):
    """What ``dbt compile`` would write for a model reading ``parents`` (joined on c0): each column from one of
    them, in turn; one in three under another name upstream (``c1`` from ``upper(p0.c4)``)."""
    relations = []
    for uid in parents:
        node = nodes.get(uid) or sources[uid]
        relations.append(f'"{node["database"]}"."{node["schema"]}"."{node.get("alias") or node["identifier"]}"')
    selected = []
    for index, name in enumerate(names):
        alias = f"p{index % len(relations)}"
        if index % 3 == 1:
            selected.append(f"upper({alias}.{names[(index + 3) % len(names)]}) as {name}")
        else:
            selected.append(f"{alias}.{name}")
    joins = "".join(f"\njoin {relation} p{n} on p{n}.c0 = p0.c0" for n, relation in enumerate(relations[1:], 1))
    return "select\n    " + ",\n    ".join(selected) + f"\nfrom {relations[0]} p0{joins}"


def import_generated(models, *, database):
    """Import a generated project of ``models`` models into a new source reading ``database``; the summary."""
    import json

    from catalog import assets
    from catalog.choices import AssetKind, SourceKind
    from catalog.models import Asset, DataSource
    from quality.dbt import import_artifacts

    source = DataSource(source_kind=SourceKind.POSTGRESQL, connection={"database": database})
    assets.create_asset(Asset(kind=AssetKind.SOURCE, name=f"dbt {database}"), source, actor=None)
    files = {name: json.dumps(content) for name, content in artifacts(models, database=database).items()}
    return import_artifacts(files, source=source)


def wide_dataset(columns=200):
    """The slug of a dataset with ``columns`` columns, each fed by the same column of a model upstream and read by
    one downstream (column lineage through the dbt import), created the first time it is asked for."""
    from catalog.models import Dataset

    name = "bench_wide.marts.model_1"
    found = Dataset.objects.filter(qualified_name=name).select_related("asset").first()
    if found is None:
        import json

        from catalog import assets
        from catalog.choices import AssetKind, SourceKind
        from catalog.models import Asset, DataSource
        from quality.dbt import import_artifacts

        source = DataSource(source_kind=SourceKind.POSTGRESQL, connection={"database": "bench_wide"})
        assets.create_asset(Asset(kind=AssetKind.SOURCE, name="dbt bench_wide"), source, actor=None)
        files = artifacts(3, columns=columns, database="bench_wide")
        manifest = files["manifest.json"]
        manifest["nodes"]["model.bench.model_1"]["depends_on"]["nodes"] = ["model.bench.model_0"]
        manifest["nodes"]["model.bench.model_2"]["depends_on"]["nodes"] = ["model.bench.model_1"]
        import_artifacts({key: json.dumps(value) for key, value in files.items()}, source=source)
        found = Dataset.objects.select_related("asset").get(qualified_name=name)
    return found.asset.slug

"""The demo company's dbt project (``quality/demo_dbt``, artifacts committed in its ``target/``), imported into the
demo warehouse: its returns model has a failing test on the ``reason`` column, which shows on the Returns page,
its quality tab, and in the badge of the executive report downstream."""

from pathlib import Path

from quality.dbt import files_in, import_artifacts, source_for

TARGET = Path(__file__).resolve().parent / "demo_dbt" / "target"


def load():
    files = files_in(TARGET)
    return import_artifacts(files, source=source_for(files), actor=None)

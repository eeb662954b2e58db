"""Many rows that differ in a column or two, inserted in one statement.

``bulk_create`` builds a model instance per row and sends every value of every row as a parameter: for the 43,000
stale badges and impact rows below a hub, that is seconds of Python in the request. ``insert_many`` sends each
varying column as one array and lets PostgreSQL unpack them (``unnest``); the other columns are the same for every
row. Other databases (SQLite in development) go through ``bulk_create``.
"""

from django.db import connection


def insert_many(model, columns, fixed=None, *, ignore_conflicts=False):
    """Insert one row of ``model`` per position of the equal-length lists in ``columns`` (``{attname: [values]}``),
    each with the ``fixed`` values (``{attname: value}``) and every other field's default. A field whose default is
    callable (``uuid4``, ``now``) must be given: one value for all rows would not be what each row's default gives.
    Returns nothing; rows that conflict are skipped with ``ignore_conflicts``."""
    fixed = dict(fixed or {})
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError("Every column needs one value per row.")
    if not columns or not lengths.pop():
        return
    fields = [field for field in model._meta.concrete_fields if not (field.primary_key and field.auto_created)]
    given = set(columns) | set(fixed)
    for field in fields:
        if field.attname in given:
            continue
        if field.has_default() and callable(field.default) and field.default not in (list, dict):
            raise ValueError(f"{model.__name__}.{field.name}: give its value, its default differs per row.")
        fixed[field.attname] = field.get_default()
    if connection.vendor != "postgresql":
        rows = zip(*columns.values(), strict=True)
        model.objects.bulk_create(
            [model(**fixed, **dict(zip(columns, row, strict=True))) for row in rows], ignore_conflicts=ignore_conflicts
        )
        return
    by_attname = {field.attname: field for field in fields}
    quote = connection.ops.quote_name
    names = [*fixed, *columns]
    values = [by_attname[name].get_db_prep_save(value, connection) for name, value in fixed.items()]
    # Ids and counts go as they are (preparing 40,000 ints one by one took a second); other values are prepared.
    arrays = [
        list(column)
        if all(type(value) is int for value in column)
        else [by_attname[name].get_db_prep_save(value, connection) for value in column]
        for name, column in columns.items()
    ]
    casts = ", ".join(f"%s::{by_attname[name].db_type(connection)}[]" for name in columns)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(by_attname[n].column) for n in names)}) "
        f"SELECT {', '.join(['%s'] * len(fixed) + ['u.*'])} FROM unnest({casts}) AS u"
        + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *arrays])

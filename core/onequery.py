"""Objects and their related rows in one SQL statement, for the hot reads of the API (issue 18).

``prefetch_related`` costs a statement per relation: a registered model with its tags, people, assumptions, users
and versions was seven round trips to PostgreSQL and seven rounds of the ORM. ``with_rows`` adds each relation to
the main query as a JSON array (a correlated subquery), and ``place_rows`` turns the arrays back into model
instances placed where ``prefetch_related`` would have put them, so serializers and model methods (``.all()`` on a
related manager) read them without a query and cannot tell the difference.

Only for PostgreSQL (``jsonb_agg``); elsewhere (SQLite for ``make run``) ``with_rows`` falls back to
``prefetch_related`` and ``place_rows`` does nothing, so callers need no second path.
"""

import itertools
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.postgres.aggregates import JSONBAgg
from django.db import connection, models
from django.db.models.functions import Coalesce, JSONObject


@dataclass(frozen=True)
class Rows:
    """A relation (``path``: ``"tags"``, or ``"asset__tags"`` for one on a row the main query selects) read as a JSON
    array.

    ``queryset``: the related rows to read; ``link``: the related model's path back to the object (``"model"``,
    ``"assets"``); ``fields``: what to load, the concrete fields by name and a foreign key's fields as
    ``"asset__slug"`` (that row is attached with those fields only); the rest stays deferred. ``extra``: annotations
    carried over as attributes (``{"metrics_recorded": Exists(...)}``).
    """

    path: str
    queryset: models.QuerySet
    link: str
    fields: tuple
    extra: dict = field(default_factory=dict)

    @property
    def alias(self):
        return f"_rows_{self.path.replace('__', '_')}"

    @property
    def name(self):
        return self.path.rpartition("__")[2]

    @property
    def owner_path(self):
        return self.path.rpartition("__")[0]

    def _own(self):
        """The related model's own columns to load: its primary key and the named fields, by attname."""
        opts = self.queryset.model._meta
        names = [opts.pk.attname]
        for name in self.fields:
            attname = opts.get_field(name.partition("__")[0]).attname  # a joined row's key is a column here
            if attname not in names:
                names.append(attname)
        # Model.from_db takes the values in the model's own field order.
        return [field_.attname for field_ in opts.concrete_fields if field_.attname in names]

    def _joined(self):
        """``{foreign key name: [its fields]}`` for the ``"fk__field"`` entries."""
        joined = {}
        for name in self.fields:
            if "__" in name:
                fk, _, attr = name.partition("__")
                joined.setdefault(fk, []).append(attr)
        return joined

    def subquery(self, outer):
        model = self.queryset.model
        columns = {name: name for name in self._own()}
        for fk, attrs in self._joined().items():
            columns.update({f"{fk}__{attr}": f"{fk}__{attr}" for attr in attrs})
        columns.update({name: name for name in self.extra})
        ordering = list(self.queryset.query.order_by or model._meta.ordering or ["pk"])
        rows = (
            self.queryset.annotate(**self.extra)
            .filter(**{self.link: models.OuterRef(outer)})
            .order_by()
            .values(self.link)  # grouped by the link: one array per object
            .annotate(_json=JSONBAgg(JSONObject(**columns), order_by=ordering))
            .values("_json")
        )
        return Coalesce(models.Subquery(rows, output_field=models.JSONField()), models.Value([], models.JSONField()))

    def instances(self, rows):
        model = self.queryset.model
        opts = model._meta
        own = [(attname, _field_by_attname(opts, attname)) for attname in self._own()]
        joined = self._joined()
        made = []
        for row in rows:
            values = [_to_python(field_, row[attname]) for attname, field_ in own]
            instance = model.from_db(self.queryset.db, [attname for attname, _ in own], values)
            for fk, attrs in joined.items():
                fk_field = opts.get_field(fk)
                related_opts = fk_field.related_model._meta
                key = getattr(instance, fk_field.attname)
                if key is None:
                    continue
                loaded = {related_opts.pk.attname: key}
                for attr in attrs:
                    related_field = related_opts.get_field(attr)
                    loaded[related_field.attname] = _to_python(related_field, row[f"{fk}__{attr}"])
                names = [f.attname for f in related_opts.concrete_fields if f.attname in loaded]
                related_values = [loaded[name] for name in names]
                fk_field.set_cached_value(
                    instance, fk_field.related_model.from_db(self.queryset.db, names, related_values)
                )
            for name in self.extra:
                setattr(instance, name, row[name])
            made.append(instance)
        return made


def _field_by_attname(opts, attname):
    return next(field_ for field_ in opts.concrete_fields if field_.attname == attname)


def _to_python(field_, value):
    """A JSON value back to what the field holds: timestamps and dates arrive as ISO text, JSON fields as JSON."""
    if value is None or isinstance(field_, models.JSONField):
        return value
    return field_.to_python(value)


def with_rows(queryset, *relations):
    """``queryset`` with each ``Rows`` relation as a JSON array beside every object (PostgreSQL), or prefetched."""
    if connection.vendor != "postgresql":
        return queryset.prefetch_related(
            *(models.Prefetch(rows.path, queryset=rows.queryset.annotate(**rows.extra)) for rows in relations)
        )
    annotations = {}
    for rows in relations:
        outer = f"{rows.owner_path}_id" if rows.owner_path else queryset.model._meta.pk.attname
        annotations[rows.alias] = rows.subquery(outer)
    return queryset.annotate(**annotations)


def place_rows(instances, *relations):
    """Turn the arrays ``with_rows`` added into instances, placed as ``prefetch_related`` places them."""
    if connection.vendor != "postgresql":
        return instances
    for instance in instances:
        for rows in relations:
            owner = instance
            for step in rows.owner_path.split("__") if rows.owner_path else []:
                owner = getattr(owner, step)
            place_prefetched(owner, rows.name, rows.instances(getattr(instance, rows.alias)))
    return instances


def fetch_one(queryset, *relations, **lookup):
    """``queryset.get(**lookup)`` with ``relations`` read in the same statement. Raises ``DoesNotExist`` as ``get``."""
    return place_rows([with_rows(queryset, *relations).get(**lookup)], *relations)[0]


def place_prefetched(owner, name, instances):
    """Put ``instances`` in ``owner``'s prefetch cache for the relation ``name``, as ``prefetch_related`` does: what
    ``owner.<name>.all()`` then answers without a query."""
    manager = getattr(owner, name)
    # A many-to-many manager names its cache; a reverse foreign key's is its field's remote cache name.
    key = getattr(manager, "prefetch_cache_name", None) or manager.field.remote_field.cache_name
    related = manager.get_queryset()
    related._result_cache = instances
    related._prefetch_done = True
    cache = getattr(owner, "_prefetched_objects_cache", None)
    if cache is None:
        owner._prefetched_objects_cache = cache = {}
    cache[key] = related


class Compiled:
    """A queryset built and compiled to SQL once per process, then run with new values: building and compiling a
    query with six JSON subqueries cost the ORM 10 ms a request, running it 2 ms.

    ``build(**values)`` returns the queryset (with ``with_rows(..., *relations)`` for ``first``); ``sentinels``
    gives, for each value, a stand-in of the same type that appears nowhere else in the query
    (``slug="\\x1fslug"``, ``number=1_987_654_321``). The stand-ins are found among the compiled query's parameters
    and replaced by the values of each call. Nothing else in the query may depend on the moment it is built (no
    ``now()`` taken in Python). Instances come out as ``ModelIterable`` makes them.
    """

    _count = itertools.count(1)

    def __init__(self, build, relations=(), **sentinels):
        self.build = build
        self.relations = tuple(relations)
        self.sentinels = sentinels
        self._plans = {}
        self._number = next(self._count)

    def _queryset(self, **values):
        """What is compiled: the built queryset (``CompiledPage`` adds the list's count to it)."""
        return self.build(**values)

    def _suffix(self):
        """SQL appended to the compiled query, with its parameters' names (``CompiledPage``: LIMIT and OFFSET)."""
        return "", ()

    def _name(self):
        return f"portal_compiled_{self._number}"

    def first(self, using="default", **values):
        """The first instance, with ``relations`` read in the same statement and placed (``place_rows``), or None.
        Other databases than PostgreSQL run the queryset as built (``with_rows`` prefetches there)."""
        from django.db import connections

        if connections[using].vendor != "postgresql":
            return self.build(**values).using(using).first()
        found = self.all(using, **values)[:1]
        return place_rows(found, *self.relations)[0] if found else None

    def _plan(self, alias):
        plan = self._plans.get(alias)
        if plan is None:
            from django.db.models.query import get_related_populators

            queryset = self._queryset(**self.sentinels)
            compiler = queryset.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            params = list(params)
            suffix, names = self._suffix()
            sql += suffix
            slots = {name: [len(params) + index] for index, name in enumerate(names)}
            params += [None] * len(names)
            for name, sentinel in self.sentinels.items():
                found = [
                    index for index, param in enumerate(params) if param == sentinel and type(param) is type(sentinel)
                ]
                if not found:
                    raise ValueError(f"{name}'s stand-in {sentinel!r} is not among the query's parameters")
                slots[name] = found
            select, klass_info = compiler.select, compiler.klass_info
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            fields = [column[0] for column in select[: compiler.col_count]]
            plan = self._plans[alias] = {
                "sql": sql,
                "params": params,
                "slots": slots,
                "compiler": compiler,
                "converters": compiler.get_converters(fields),
                "model": klass_info["model"],
                "range": (start, end),
                "init_list": [column[0].target.attname for column in select[start:end]],
                "populators": get_related_populators(klass_info, select, alias),
                "annotations": dict(compiler.annotation_col_map or {}),
            }
        return plan

    def all(self, using="default", **values):
        """The instances the queryset built with ``values`` would give, in its order. A value whose stand-in the
        query does not hold is not used (a sender's id where the query has no rights to check)."""
        from django.db import connections

        plan = self._plan(using)
        params = list(plan["params"])
        for name, indexes in plan["slots"].items():
            for index in indexes:
                params[index] = values[name]
        connection = connections[using]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql" and settings.DATABASE_PREPARE:
                _execute_prepared(connection, cursor, self._name(), plan["sql"], params)
            else:
                cursor.execute(plan["sql"], params)
            rows = cursor.fetchall()
        if plan["converters"]:
            rows = plan["compiler"].apply_converters(rows, plan["converters"])
        start, end = plan["range"]
        made = []
        for row in rows:
            instance = plan["model"].from_db(using, plan["init_list"], row[start:end])
            for populator in plan["populators"]:
                populator.populate(row, instance)
            for name, position in plan["annotations"].items():
                setattr(instance, name, row[position])
            made.append(instance)
        return made


def _execute_prepared(connection, cursor, name, sql, params):
    """Run ``sql`` as a server-side prepared statement of this connection (PostgreSQL's PREPARE / EXECUTE): the
    plan is made once per connection instead of once per request (1 ms of "get model"'s 2). A new connection (the
    old one closed after ``CONN_MAX_AGE``) prepares it again. Behind a pooler in transaction mode (PgBouncer), where
    consecutive statements may reach different server connections, set ``DATABASE_PREPARE=false``."""
    raw = connection.connection
    seen = getattr(connection, "_compiled_prepared", None)
    if seen is None or seen[0] is not raw:
        seen = connection._compiled_prepared = (raw, set())
    if name not in seen[1]:
        numbers = itertools.count(1)
        numbered = re.sub(r"%([s%])", lambda m: f"${next(numbers)}" if m.group(1) == "s" else "%", sql)
        cursor.execute(f"PREPARE {name} AS {numbered}")
        seen[1].add(name)
    if params:
        cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
    else:
        cursor.execute(f"EXECUTE {name}")


class CompiledPage(Compiled):
    """A list's page and the number of rows in the whole list, in one statement compiled once per process: what
    ``/api/v1/models/?name_prefix=churn`` answers (``Pagination``'s count, then the page: two statements and a
    query built and compiled by the ORM on every request, 5 to 10 ms, the database's work being under 1 ms).

    ``build(**values)`` returns the list's queryset, filtered and ordered, without ``with_rows``; the count is an
    uncorrelated subquery beside every row (PostgreSQL computes it once). ``page`` returns ``(instances, count)``,
    the count None when the page is empty (past the end, or an empty list: the caller tells them apart).
    """

    def _queryset(self, **values):
        from django.db.models import BigIntegerField, Func, Subquery

        queryset = self.build(**values)
        # COUNT(*) written as a plain function: Django would group the subquery by its other columns otherwise.
        counted = queryset.order_by().annotate(_n=Func(template="COUNT(*)", output_field=BigIntegerField()))
        return with_rows(queryset, *self.relations).annotate(_total=Subquery(counted.values("_n")))

    def _suffix(self):
        return " LIMIT %s OFFSET %s", ("_limit", "_offset")

    def page(self, limit, offset, using="default", **values):
        """``(instances, count)``: the page at ``offset`` of at most ``limit`` rows, with ``relations`` placed."""
        from django.db import connections

        if connections[using].vendor != "postgresql":
            queryset = with_rows(self.build(**values), *self.relations).using(using)
            found = list(queryset[offset : offset + limit])
            return found, (queryset.count() if found else None)
        found = self.all(using, _limit=limit, _offset=offset, **values)
        return place_rows(found, *self.relations), (found[0]._total if found else None)

"""``field__any_of=ids``: membership in a long list of ids, sent as one array.

A plain ``__in`` sends one parameter per id. The facts behind a deep report's trust badge name the ten thousand
assets upstream of it, several times, and a hub's impact list its 39,000 descendants; Django preparing those
parameters one by one and PostgreSQL parsing them cost more than the queries themselves (twice the time of the
whole query for the hub). On PostgreSQL this is ``field = ANY(%s)`` with one array parameter;
elsewhere (SQLite for ``make run``) it is the plain ``IN``.
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup


@Field.register_lookup
@ForeignObject.register_lookup  # foreign keys only take the lookups registered on them
class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet  # as ``__in`` does: an empty list matches nothing, and no query is sent
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, self.rhs]

    def as_sqlite(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*lhs_params, *self.rhs]

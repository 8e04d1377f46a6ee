"""Database guards that only PostgreSQL can give.

An exclusion constraint over half-open time ranges makes double booking impossible whatever the
application does. SQLite has no such thing, so there the constraint is a no-op and the booking
services' check under SQLite's write lock (transaction_mode IMMEDIATE) is what refuses overlaps.
"""

from typing import TYPE_CHECKING, Any

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import BaseConstraint, CheckConstraint, Func, Model

if TYPE_CHECKING:
    _Constraint = BaseConstraint
else:
    _Constraint = object


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


def _is_postgres(schema_editor: Any) -> bool:
    return bool(schema_editor.connection.vendor == "postgresql")


class _OnPostgresOnly(_Constraint):
    """Created, removed and validated on PostgreSQL; a no-op on any other database."""

    def constraint_sql(self, model: type[Model] | None, schema_editor: Any) -> Any:
        return super().constraint_sql(model, schema_editor) if _is_postgres(schema_editor) else None

    def create_sql(self, model: type[Model] | None, schema_editor: Any) -> Any:
        return super().create_sql(model, schema_editor) if _is_postgres(schema_editor) else None

    def remove_sql(self, model: type[Model] | None, schema_editor: Any) -> Any:
        return super().remove_sql(model, schema_editor) if _is_postgres(schema_editor) else None

    def validate(
        self, model: Any, instance: Any, exclude: Any = None, using: str = DEFAULT_DB_ALIAS
    ) -> None:
        if connections[using].vendor == "postgresql":
            super().validate(model, instance, exclude=exclude, using=using)


class PostgresOnlyExclusionConstraint(_OnPostgresOnly, ExclusionConstraint):
    pass


class PostgresOnlyCheckConstraint(_OnPostgresOnly, CheckConstraint):
    """For checks on interval arithmetic, which SQLite could only run through one of Django's
    own SQL functions (and then no other client could write the table)."""

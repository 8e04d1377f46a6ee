"""The booking fast path's plain SQL, and the appointment types kept between requests.

The ORM compiles a query for every call, and for a booking's small reads and inserts that cost
more CPU than anything else the booking does. Every raw statement of the booking path is here:
each is built once from the models' own metadata (table and column names included) and
converts values the way the ORM would, so it reads and writes the same rows on PostgreSQL and
SQLite. `booking.services.appointment_book_by_type` is the one door into it from a request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.db import connection, models
from django.db.backends.utils import CursorWrapper
from django.db.models.expressions import Col

from booking.errors import AppointmentTypeChanged
from booking.models import (
    Absence,
    Allocation,
    AppointmentType,
    Clinic,
    PreparationTemplate,
    Resource,
    ResourceRequirement,
    WorkingHours,
)
from patients.models import Patient

M = TypeVar("M", bound=models.Model)
R = TypeVar("R")


def prepared_cursor() -> CursorWrapper:
    """A cursor for the booking path's statements, which run for every booking. On PostgreSQL
    they are prepared: parsed and planned once per connection (config/postgresql/base.py)."""
    prepared: Callable[[], CursorWrapper] | None = getattr(connection, "prepared_cursor", None)
    return prepared() if prepared else connection.cursor()


class _Names:
    """A model's quoted table name (as text) and its columns' (as attributes, by field name or
    attname), for SQL templates: "{a.starts_at} FROM {a}"."""

    def __init__(self, model: type[models.Model]) -> None:
        self._meta = model._meta

    def __str__(self) -> str:
        return connection.ops.quote_name(self._meta.db_table)

    def __getattr__(self, name: str) -> str:
        field = self._meta.get_field(name)
        assert isinstance(field, models.Field), f"{name} is not a column"
        return connection.ops.quote_name(str(field.column))


def _sql(template: str) -> str:
    """The template with every model's table and column names filled in."""
    return template.format(
        allocation=_Names(Allocation),
        absence=_Names(Absence),
        hours=_Names(WorkingHours),
        resource=_Names(Resource),
        type=_Names(AppointmentType),
    )


@cache
def _insert_fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    return tuple(f for f in model._meta.concrete_fields if f is not model._meta.pk)


def _values_row(fields: Sequence[models.Field[Any, Any]], parent_key: str | None = None) -> str:
    """`(%s, %s, ...)`, with the parent's id read from the CTE `parent` (which returns only
    that) for its foreign key."""
    return (
        "("
        + ", ".join("(SELECT * FROM parent)" if f.attname == parent_key else "%s" for f in fields)
        + ")"
    )


def _insert_sql(model: type[models.Model], rows: int, parent_key: str | None = None) -> str:
    quote = connection.ops.quote_name
    fields = _insert_fields(model)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    values = ", ".join([_values_row(fields, parent_key)] * rows)
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {values} "
        f"RETURNING {quote(str(model._meta.pk.column))}"
    )


_cached_insert_sql = cache(_insert_sql)


def _params(objs: Sequence[models.Model], skip: str | None = None) -> list[Any]:
    """Each value prepared as the ORM's own insert would: `pre_save` fills auto_now fields,
    `get_db_prep_save` adapts the value to the database."""
    fields = [f for f in _insert_fields(type(objs[0])) if f.attname != skip]
    return [
        field.get_db_prep_save(field.pre_save(obj, add=True), connection)
        for obj in objs
        for field in fields
    ]


def _saved(objs: Sequence[M], ids: Sequence[int]) -> Sequence[M]:
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def insert(objs: Sequence[M]) -> Sequence[M]:
    """Insert new (unsaved) instances of one model in one statement and give them their ids.
    No model signals are sent: use it only for models that have none."""
    if not objs:
        return objs
    with prepared_cursor() as db:
        db.execute(_cached_insert_sql(type(objs[0]), len(objs)), _params(objs))
        return _saved(objs, [row[0] for row in db.fetchall()])


def _parent_key(child: type[models.Model], parent: type[models.Model]) -> models.Field[Any, Any]:
    """The child's one foreign key to the parent's model."""
    (key,) = (
        f
        for f in _insert_fields(child)
        if f.is_relation and f.many_to_one and f.related_model is parent
    )
    return key


@cache
def _tree_sql(
    parent: type[models.Model], children: tuple[tuple[type[models.Model], int], ...]
) -> str:
    ctes = [f"parent AS ({_insert_sql(parent, 1)})"]
    ctes += [
        f"child{i} AS ({_insert_sql(model, rows, _parent_key(model, parent).attname)})"
        for i, (model, rows) in enumerate(children)
    ]
    ids = [f"ARRAY(SELECT * FROM child{i} ORDER BY 1)" for i in range(len(children))]
    return f"WITH {', '.join(ctes)} SELECT (SELECT * FROM parent), {', '.join(ids)}"


def insert_with_children(parent: M, *children: Sequence[models.Model]) -> M:
    """Insert a new parent and new rows pointing to it (their foreign key to the parent's model
    is filled in), and give them all their ids. On PostgreSQL that is one statement, a WITH of
    inserts: the parent's id comes from the first, and ids are handed out in row order. On
    other databases it is one INSERT per table. No model signals are sent."""
    children = tuple(rows for rows in children if rows)
    keys = [_parent_key(type(rows[0]), type(parent)) for rows in children]
    if connection.vendor != "postgresql":
        insert([parent])
        for rows, key in zip(children, keys, strict=True):
            _point_to(rows, key, parent)
            insert(rows)
        return parent
    params = _params([parent])
    for rows, key in zip(children, keys, strict=True):
        params += _params(rows, skip=key.attname)
    sql = _tree_sql(type(parent), tuple((type(rows[0]), len(rows)) for rows in children))
    with prepared_cursor() as db:
        db.execute(sql, params)
        parent_id, *child_ids = db.fetchone()
    _saved([parent], [parent_id])
    for rows, key, ids in zip(children, keys, child_ids, strict=True):
        _point_to(rows, key, parent)
        _saved(rows, ids)
    return parent


def _point_to(children: Sequence[models.Model], key: models.Field[Any, Any], parent: M) -> None:
    """Set the children's foreign key to the (now saved) parent, keeping it cached on them."""
    for child in children:
        setattr(child, key.name, parent)


def prefetched(instance: models.Model, relation: str, objs: Iterable[M]) -> None:
    """Let `instance.<relation>.all()` return `objs` without a query, as prefetch_related would
    after reading them (`relation` is a reverse foreign key's accessor name)."""
    queryset = getattr(instance, relation).all()
    queryset._result_cache = list(objs)
    queryset._prefetch_done = True
    # prefetch_related's own place for it; the related manager's get_queryset looks here first.
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[relation] = queryset


def _columns(model: type[models.Model], alias: str) -> str:
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(str(f.column))}" for f in model._meta.concrete_fields)


Converter = Callable[[Any, Any, Any], Any]


@cache
def _converters(model: type[models.Model]) -> tuple[tuple[Col, tuple[Converter, ...]], ...]:
    """Per column, the converters the ORM applies to what the database sends (SQLite's 0/1 to
    booleans, its datetime text to aware datetimes, ...), found as the ORM's compiler finds them."""
    columns = []
    for field in model._meta.concrete_fields:
        column = Col(model._meta.db_table, field)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        columns.append((column, tuple(converters)))
    return tuple(columns)


def _from_values(model: type[M], values: Sequence[Any]) -> M:
    """An instance as the ORM would read it from these column values."""
    converted = []
    for (column, converters), value in zip(_converters(model), values, strict=True):
        for convert in converters:
            value = convert(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, _attnames(model), converted)


@cache
def _attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields)


def _one_row(sql: str, pk: int) -> tuple[Any, ...] | None:
    with prepared_cursor() as db:
        db.execute(sql, [pk])
        row: tuple[Any, ...] | None = db.fetchone()
        return row


# Child rows as one JSON array of arrays per parent row (so they must hold no dates or times:
# JSON would give those as text).
_CHILD_ROWS = {
    "postgresql": "(SELECT coalesce(json_agg(json_build_array({columns})), '[]')::text "
    "FROM {table} c WHERE c.{key} = t.{parent_id})",
    "sqlite": "(SELECT json_group_array(json_array({columns})) "
    "FROM {table} c WHERE c.{key} = t.{parent_id})",
}


@cache
def _type_sql() -> str:
    kind, clinic = _Names(AppointmentType), _Names(Clinic)
    children = [
        _CHILD_ROWS[connection.vendor].format(
            columns=_columns(child, "c"),
            table=_Names(child),
            key=_Names(child).appointment_type,
            parent_id=kind.id,
        )
        for child in (ResourceRequirement, PreparationTemplate)
    ]
    return (
        f"SELECT {_columns(AppointmentType, 't')}, {_columns(Clinic, 'k')}, {', '.join(children)} "
        f"FROM {kind} t JOIN {clinic} k ON k.{clinic.id} = t.{kind.clinic} "
        f"WHERE t.{kind.id} = %s"
    )


def appointment_type_with_parts(pk: int) -> AppointmentType | None:
    """The type with its clinic, requirements and preparation templates, read in one query:
    `.clinic`, `.requirements.all()` and `.preparations.all()` then need none."""
    row = _one_row(_type_sql(), pk)
    if row is None:
        return None
    type_width = len(AppointmentType._meta.concrete_fields)
    clinic_width = len(Clinic._meta.concrete_fields)
    appointment_type = _from_values(AppointmentType, row[:type_width])
    appointment_type.clinic = _from_values(Clinic, row[type_width : type_width + clinic_width])
    requirements_json, preparations_json = row[type_width + clinic_width :]
    requirements = [_from_values(ResourceRequirement, r) for r in json.loads(requirements_json)]
    preparations = [_from_values(PreparationTemplate, p) for p in json.loads(preparations_json)]
    # In each model's Meta.ordering.
    prefetched(appointment_type, "requirements", sorted(requirements, key=lambda r: r.pk))
    prefetched(
        appointment_type,
        "preparations",
        sorted(preparations, key=lambda p: (-p.days_before, p.pk)),
    )
    return appointment_type


# Types with their parts, kept between requests in this process. PostgreSQL only: there a
# booking's free-resources read checks a kept type's catalogue_version (booking.calendars).
_kept_types: dict[int, AppointmentType] = {}
MAX_KEPT_TYPES = 512


def is_kept(appointment_type: AppointmentType) -> bool:
    """Whether this very object is a type kept between requests (and so must be checked)."""
    return _kept_types.get(appointment_type.pk) is appointment_type


def forget_kept_types() -> None:
    _kept_types.clear()


def with_appointment_type(pk: int, use: Callable[[AppointmentType], R]) -> R:
    """`use(appointment_type)`, with the type as kept from an earlier request. If the clinic has
    changed it since (`use` raises AppointmentTypeChanged), once more with the type read anew.
    Raises AppointmentType.DoesNotExist if there is no such type. `use` must not change the
    type: later requests share it."""
    kept = _kept_types.get(pk)
    if kept is not None:
        try:
            return use(kept)
        except AppointmentTypeChanged:
            _kept_types.pop(pk, None)  # another thread may have dropped it already
    current = appointment_type_with_parts(pk)
    if current is None:
        raise AppointmentType.DoesNotExist
    try:
        return use(current)  # not yet kept: read in this request, it needs no check
    finally:
        _keep(current)


def _keep(appointment_type: AppointmentType) -> None:
    if connection.vendor != "postgresql":
        return
    if len(_kept_types) >= MAX_KEPT_TYPES:
        _kept_types.clear()
    _kept_types[appointment_type.pk] = appointment_type


@cache
def _user_sql() -> str:
    user, patient = _Names(User), _Names(Patient)
    return (
        f"SELECT {_columns(User, 'u')}, {_columns(Patient, 'p')} "
        f"FROM {user} u LEFT JOIN {patient} p ON p.{patient.user} = u.{user.id} "
        f"WHERE u.{user.id} = %s"
    )


def user_with_patient(pk: int) -> User | None:
    """The user with `user.patient` read too (or known to be absent), in one query: what
    `select_related("patient")` gives, without compiling a query on every request."""
    row = _one_row(_user_sql(), pk)
    if row is None:
        return None
    width = len(User._meta.concrete_fields)
    user = _from_values(User, row[:width])
    patient = None if row[width] is None else _from_values(Patient, row[width:])
    User._meta.get_field("patient").set_cached_value(user, patient)
    if patient is not None:
        Patient._meta.get_field("user").set_cached_value(patient, user)
    return user


# Busy time of each resource, merged, as two arrays of epoch seconds: one row per resource, not per
# interval. PostgreSQL does the merging (range_agg) and sends floats: Django's own timestamptz
# loader is pure Python and costs more than the search. date_part, not extract: since PostgreSQL
# 14 extract returns numeric, and converting 12,000 of those to float8 is measurable.
# Allocations are found through the btree on (resource_id, starts_at): no allocation is longer than
# ALLOCATION_MAX_LENGTH (a check constraint), so starts_at is bounded from both sides. The range
# overlap alone makes the planner scan each resource's whole history.
_BUSY_SQL = """
SELECT resource_id,
    ARRAY(SELECT date_part('epoch', lower(r)) FROM unnest(busy) AS r),
    ARRAY(SELECT date_part('epoch', upper(r)) FROM unnest(busy) AS r)
FROM (
    SELECT resource_id, range_agg(tstzrange(starts_at, ends_at, '[)')) AS busy
    FROM (
        SELECT {allocation.resource} AS resource_id, {allocation.starts_at} AS starts_at,
            {allocation.ends_at} AS ends_at
        FROM {allocation}
        WHERE {allocation.resource} = ANY(%(ids)s)
          AND {allocation.starts_at} >= %(earliest)s AND {allocation.starts_at} < %(end)s
          AND {allocation.ends_at} > %(start)s
          AND NOT {allocation.appointment} = ANY(%(ignoring)s)
        UNION ALL
        SELECT {absence.resource}, {absence.starts_at}, {absence.ends_at} FROM {absence}
        WHERE {absence.resource} = ANY(%(ids)s)
          AND {absence.starts_at} < %(end)s AND {absence.ends_at} > %(start)s
    ) AS held
    GROUP BY resource_id
) AS merged
"""


def busy_rows(params: dict[str, Any]) -> list[tuple[int, list[float], list[float]]]:
    """PostgreSQL: per resource with busy time, its merged busy intervals as epoch seconds
    (params: ids, start, end, earliest, ignoring; see _BUSY_SQL)."""
    with connection.cursor() as db:
        db.execute(_cached_sql(_BUSY_SQL), params)
        rows: list[tuple[int, list[float], list[float]]] = db.fetchall()
        return rows


_RULES_SQL = """
SELECT {hours.resource}, {hours.weekday}, {hours.start_time}, {hours.end_time},
    {hours.valid_from}, {hours.valid_until}, {hours.interval_weeks}
FROM {hours}
WHERE {hours.resource} = ANY(%(ids)s) AND {hours.valid_from} <= %(last)s
  AND ({hours.valid_until} IS NULL OR {hours.valid_until} >= %(first)s)
"""


def rule_rows(params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """PostgreSQL: the working-hour rows of these resources valid on some day from first to
    last (params: ids, first, last), as WorkingHours.objects.values_list would give them."""
    with connection.cursor() as db:
        db.execute(_cached_sql(_RULES_SQL), params)
        rows: list[tuple[Any, ...]] = db.fetchall()
        return rows


# The candidates with nothing overlapping the blocked time, each with its tags, its working-hour
# rules in the span (as JSON text, in one order: resources with the same hours get the same
# text), the end of its busy time just before the blocked time and the start of the one just
# after it inside the span (NULL if none).
# One resource's allocations never overlap (the exclusion constraint), so the one that starts
# last before the blocked time ends also ends last: it alone tells whether the resource is free
# then, and until when it was busy. That is one backward index probe per candidate, where an
# overlap test reads every allocation of the day before.
# The type's current version comes with each row (computed once: it depends on no resource).
# Wrapping the query to give it a row of its own made PostgreSQL compute the other columns for
# every candidate rather than only the free ones, doubling its cost.
_FREE_SQL = """
SELECT (SELECT t.{type.catalogue_version} FROM {type} t WHERE t.{type.id} = %(type_id)s),
    r.{resource.id}, r.{resource.kind}, ARRAY(SELECT jsonb_array_elements_text(r.{resource.tags})),
    (SELECT json_agg(json_build_array(w.{hours.weekday}, w.{hours.start_time}, w.{hours.end_time},
                                      w.{hours.valid_from}, w.{hours.valid_until},
                                      w.{hours.interval_weeks})
                     ORDER BY w.{hours.weekday}, w.{hours.start_time}, w.{hours.end_time},
                              w.{hours.valid_from}, w.{hours.valid_until},
                              w.{hours.interval_weeks})::text
     FROM {hours} w
     WHERE w.{hours.resource} = r.{resource.id} AND w.{hours.valid_from} <= %(last_day)s
       AND (w.{hours.valid_until} IS NULL OR w.{hours.valid_until} >= %(first_day)s)),
    date_part('epoch', greatest(
        CASE WHEN latest.ends_at > %(span_start)s THEN latest.ends_at END,
        (SELECT max(b.{absence.ends_at}) FROM {absence} b
         WHERE b.{absence.resource} = r.{resource.id} AND b.{absence.ends_at} > %(span_start)s
           AND b.{absence.ends_at} <= %(start)s)
    )),
    date_part('epoch', least(
        (SELECT min(a.{allocation.starts_at}) FROM {allocation} a
         WHERE a.{allocation.resource} = r.{resource.id} AND a.{allocation.starts_at} >= %(end)s
           AND a.{allocation.starts_at} < %(span_end)s),
        (SELECT min(b.{absence.starts_at}) FROM {absence} b
         WHERE b.{absence.resource} = r.{resource.id} AND b.{absence.starts_at} >= %(end)s
           AND b.{absence.starts_at} < %(span_end)s)
    ))
FROM {resource} r
LEFT JOIN LATERAL (
    SELECT a.{allocation.ends_at} AS ends_at FROM {allocation} a
    WHERE a.{allocation.resource} = r.{resource.id} AND a.{allocation.starts_at} < %(end)s
    ORDER BY a.{allocation.starts_at} DESC LIMIT 1
) AS latest ON true
WHERE r.{resource.clinic} = %(clinic_id)s AND r.{resource.kind} = ANY(%(kinds)s)
  AND r.{resource.is_active}
  AND (latest.ends_at IS NULL OR latest.ends_at <= %(start)s)
  AND NOT EXISTS (
    SELECT 1 FROM {absence} b
    WHERE b.{absence.resource} = r.{resource.id} AND b.{absence.starts_at} < %(end)s
      AND b.{absence.ends_at} > %(start)s)
"""


def free_resource_rows(params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """PostgreSQL, prepared: the resources free over the blocked time, each with what bounds its
    free block (params: type_id, clinic_id, kinds, start, end, span_start, span_end,
    first_day, last_day; see _FREE_SQL)."""
    with prepared_cursor() as db:
        db.execute(_cached_sql(_FREE_SQL), params)
        rows: list[tuple[Any, ...]] = db.fetchall()
        return rows


_cached_sql = cache(_sql)

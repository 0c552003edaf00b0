"""Metadata filters: the request syntax, its validation, and the SQL each retriever applies inside search.

A filter maps a metadata key to a value (equality), a list (any of), or an object of operators
``{"in": [...], "gt"|"gte"|"lt"|"lte": bound}``. Bounds are numbers, or ISO-8601 dates / date-times,
which are compared as ISO strings, so store dates in one ISO form (e.g. ``"2024-03-01"``).
A document whose value has another type (text where a number is wanted) simply doesn't match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ColumnElement, case, false, literal, null, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean

from citeline.storage.models import Document

FilterValue = str | int | float | bool
Operator = Literal["eq", "in", "gt", "gte", "lt", "lte"]
RANGE_OPERATORS: tuple[Operator, ...] = ("gt", "gte", "lt", "lte")


class FilterOperators(BaseModel):
    """Operators on one metadata key; all given operators must hold."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    in_: list[FilterValue] | None = Field(default=None, alias="in", min_length=1, max_length=1000)
    gt: float | str | None = None
    gte: float | str | None = None
    lt: float | str | None = None
    lte: float | str | None = None

    @model_validator(mode="after")
    def _check(self) -> FilterOperators:
        bounds = [getattr(self, op) for op in RANGE_OPERATORS if getattr(self, op) is not None]
        if self.in_ is None and not bounds:
            raise ValueError("give at least one of in, gt, gte, lt, lte")
        for bound in bounds:
            if isinstance(bound, str) and not _is_iso_date(bound):
                raise ValueError(f"range bound {bound!r} is neither a number nor an ISO-8601 date")
        return self


Filters = dict[str, FilterValue | list[FilterValue] | FilterOperators]


@dataclass(frozen=True, slots=True)
class Condition:
    """One test on one metadata key, the form every retriever receives."""

    key: str
    op: Operator
    value: Any  # FilterValue, or a tuple of them for "in"


def conditions_from(filters: Filters) -> tuple[Condition, ...]:
    """Normalise request filters into conditions (scalar -> eq, list -> in, object -> its operators)."""
    out: list[Condition] = []
    for key, spec in filters.items():
        if isinstance(spec, FilterOperators):
            if spec.in_ is not None:
                out.append(Condition(key, "in", tuple(spec.in_)))
            out.extend(
                Condition(key, op, getattr(spec, op))
                for op in RANGE_OPERATORS
                if getattr(spec, op) is not None
            )
        elif isinstance(spec, list):
            out.append(Condition(key, "in", tuple(spec)))
        else:
            out.append(Condition(key, "eq", spec))
    return tuple(out)


def condition_clause(condition: Condition) -> ColumnElement[bool]:
    """SQL on the documents table that is true where the condition holds."""
    if condition.op == "eq":
        return _equals(condition.key, condition.value)
    if condition.op == "in":
        values = list(condition.value)
        return or_(*(_equals(condition.key, v) for v in values)) if values else false()
    return _compare(condition.key, condition.op, condition.value)


def _is_iso_date(text: str) -> bool:
    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            parse(text)
            return True
        except ValueError:
            continue
    return False


class json_kind(FunctionElement[bool]):
    """True when metadata[key] is a JSON value of ``kind`` ("number", "string" or "boolean")."""

    type = Boolean()
    inherit_cache = True

    def __init__(self, key: str, kind: str) -> None:
        self.member = key
        self.kind = kind
        super().__init__()


_SQLITE_TYPES = {"number": "('integer', 'real')", "string": "('text')", "boolean": "('true', 'false')"}


@compiles(json_kind, "sqlite")
def _json_kind_sqlite(element: json_kind, compiler: SQLCompiler, **kw: Any) -> str:
    path = compiler.process(literal('$."' + element.member.replace('"', '""') + '"'), **kw)
    column = compiler.process(Document.__table__.c.metadata, **kw)
    return f"(json_type({column}, {path}) IN {_SQLITE_TYPES[element.kind]})"


@compiles(json_kind, "postgresql")
def _json_kind_postgresql(element: json_kind, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(Document.__table__.c.metadata, **kw)
    key = compiler.process(literal(element.member), **kw)
    return f"(json_typeof({column} -> {key}) = '{element.kind}')"


def _typed(key: str, kind: str) -> ColumnElement[Any]:
    """metadata[key] as a SQL value when it is a JSON ``kind``, else NULL (so comparisons are false).

    CASE keeps Postgres from casting a value of the wrong type (which would be an error, not a miss).
    """
    element = Document.metadata_[key]
    value = {"number": element.as_float, "string": element.as_string, "boolean": element.as_boolean}[kind]()
    return case((json_kind(key, kind), value), else_=null())


def _equals(key: str, value: FilterValue) -> ColumnElement[bool]:
    if isinstance(value, bool):
        return _typed(key, "boolean") == value
    if isinstance(value, int | float):
        return _typed(key, "number") == float(value)
    return _typed(key, "string") == value


def _compare(key: str, op: Operator, bound: float | str) -> ColumnElement[bool]:
    operand = _typed(key, "string" if isinstance(bound, str) else "number")
    if op == "gt":
        return operand > bound
    if op == "gte":
        return operand >= bound
    if op == "lt":
        return operand < bound
    return operand <= bound

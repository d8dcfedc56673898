"""Internal topics a batch at a time: NDJSON to typed Arrow columns and polars projections.

The sink's other path decodes every record with pydantic (`streams.codec.decode`) and projects
it with `analytics.rows.rows_for`: right for the topics outside systems write, ~20 µs a record.
The topics in `TOPICS` are written by Omnistream's own stages and agents (the writer in their
`streams.topics` entry), which built each event as a pydantic model before `encode` wrote it.
For those the sink reads a partition's polled values at once with pyarrow's JSON reader, typed
by the events' own models, checks in columns what pydantic would check record by record, and
builds each fact table's frame with polars expressions: the same rows as `rows_for`, as the
property test in tests/unit/test_columnar.py holds it to.

The reader refuses what strict pydantic refuses in shape and type: bad JSON, a field the model
lacks (nested ones too), a number where a string belongs, a float or a bool for an int. The
checks add the rest: required fields present, literals, bounds, lengths, patterns, the event
type, datetimes written as pydantic writes UTC ones. Anything refused raises `UnreadableError`, and
the caller decodes that batch record by record, so a bad record is skipped and counted as before.
`fraud.alerts` stays on that path: its evidence is free-form JSON the row re-serialises. So does
`fulfilment.decisions`: its maps (`network_versions`, `snapshot_offsets`, the candidates'
`criteria`) have free keys, which Arrow's JSON reader cannot type (it reads objects as structs
of known fields). So does `customers.erasures`: a few records a day. So do polls smaller than
MIN_RECORDS, which the set-up cost of a call makes cheaper one by one.
"""

from __future__ import annotations

import io
import types
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types as at
import polars as pl
import pyarrow as pa
import pyarrow.json as pj
from pydantic import AwareDatetime, BaseModel, StringConstraints
from pydantic.fields import FieldInfo

from analytics.rows import SAGA_MILESTONES
from analytics.store import arrow_schemas
from streams.base import Event, UtcDatetime
from streams.topics import (
    CUSTOMERS_MERGES,
    CUSTOMERS_PURCHASES,
    INVENTORY_AVAILABILITY,
    INVENTORY_HOLD_ANSWERS,
    INVENTORY_LEDGER,
    LOYALTY_LEDGER,
    LOYALTY_TIERS,
    ORDERS_STATUS,
    PRICING_USES,
    PRICING_VARIANCES,
    TopicSpec,
)

TOPICS: tuple[TopicSpec, ...] = (
    INVENTORY_LEDGER, INVENTORY_AVAILABILITY, INVENTORY_HOLD_ANSWERS, ORDERS_STATUS, LOYALTY_LEDGER, LOYALTY_TIERS,
    CUSTOMERS_PURCHASES, CUSTOMERS_MERGES, PRICING_USES, PRICING_VARIANCES,
)
# A call costs ~4 ms before its first record (reader set-up, ~90 column checks) and ~5 µs a record
# after, against ~10-12 µs a record per record (decode, rows_for, arrow_rows): smaller polls go
# record by record. A backlog polls 1,000s a partition; at 2,000 events/s a poll brings a few dozen.
MIN_RECORDS = 1_000
# How pydantic writes an aware datetime once `streams.base.UtcDatetime` has made it UTC.
UTC_TEXT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"
UTC_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"
UTC_VALIDATOR = get_args(UtcDatetime)[1]  # checked by UTC_TEXT: it made the datetime UTC before it was written
Frames = dict[str, pl.DataFrame]
Projection = Callable[[pl.DataFrame], Frames]


class UnreadableError(ValueError):
    """A batch the columnar path refuses; decode it record by record instead."""


def reads(spec: TopicSpec, records: int) -> bool:
    """Whether `records` values of `spec` read faster in columns than one by one."""
    return records >= MIN_RECORDS and spec in TOPICS


def project(spec: TopicSpec, values: Sequence[bytes | None], projected_at: datetime,
            max_bytes: int) -> tuple[Frames, list[float]]:
    """Each table's typed frame for one topic's record values, and every event's occurred_at
    (epoch seconds, in record order); `UnreadableError` if any record is not as its writer makes it."""
    if any(value is None or len(value) > max_bytes for value in values):
        raise UnreadableError("a null or oversized record")
    try:
        events = _checked(spec, _read(spec, values))
        frames: Frames = {}
        for model in spec.events:
            of_type = events.filter(pl.col("type") == _type_of(model))
            for table, frame in PROJECTIONS[model.__name__](of_type).items():
                frames[table] = _typed(table, frame, projected_at)
        occurred_s = events.get_column("occurred_at").dt.epoch("us") / 1e6
    except (pa.ArrowException, pl.exceptions.PolarsError) as exc:  # bad JSON, a wrong type, an int32 overflow
        raise UnreadableError(str(exc)) from None
    return {table: frame for table, frame in frames.items() if frame.height}, occurred_s.to_list()


def _read(spec: TopicSpec, values: Sequence[bytes | None]) -> pl.DataFrame:
    data = b"\n".join(value or b"" for value in values)
    options = pj.ParseOptions(explicit_schema=_schema(spec), unexpected_field_behavior="error")
    table = pj.read_json(io.BytesIO(data), pj.ReadOptions(use_threads=False, block_size=len(data) + 1), options)
    if table.num_rows != len(values):  # the reader skips blank lines
        raise UnreadableError(f"{table.num_rows} objects in {len(values)} records")
    return pl.DataFrame(table)


def _checked(spec: TopicSpec, events: pl.DataFrame) -> pl.DataFrame:
    """The events with their datetimes parsed, if every record passes its model's checks."""
    verdicts = _verdicts(spec)
    if not all(events.select(v.alias(str(n)) for n, v in enumerate(verdicts)).row(0)):
        raise UnreadableError("a record its model refuses")
    stamps = [name for name, info in _fields(spec).items() if _is_datetime(info.annotation)]
    return events.with_columns(pl.col(stamps).str.to_datetime(UTC_FORMAT, time_unit="us", time_zone="UTC"))


@cache
def _verdicts(spec: TopicSpec) -> list[pl.Expr]:
    """One true-or-false per check, over the whole batch: every type known, and each row passes the
    checks of its type's model (the items of its lists of models too) and has no field of another."""
    verdicts = [pl.col("type").is_in([_type_of(model) for model in spec.events]).fill_null(False).all()]
    for model in spec.events:
        of_type = pl.col("type") == _type_of(model)
        others = [pl.col(name).is_null() for name in _fields(spec) if name not in model.model_fields]
        verdicts += [(check | ~of_type).fill_null(False).all() for check in [*others, *_checks(model, pl.col)]]
        for name, info in model.model_fields.items():
            inner = _list_model(info.annotation)
            if inner is not None:
                items = pl.col(name).filter(of_type).explode()
                verdicts += [check.fill_null(False).all() for check in _checks(inner, items.struct.field)]
    return verdicts


def _checks(model: type[BaseModel], column: Callable[[str], pl.Expr]) -> list[pl.Expr]:
    """What strict pydantic checks of `model` beyond JSON types, as predicates on `column(field)`
    (TypeError if the model checks something these do not: a validator, an unknown constraint)."""
    decorators = model.__pydantic_decorators__
    if decorators.model_validators or decorators.field_validators or decorators.validators:
        raise TypeError(f"{model.__name__} has validators the columnar path cannot run")
    return [check for name, info in model.model_fields.items() for check in _field_checks(column(name), info)]


def _field_checks(column: pl.Expr, info: FieldInfo) -> list[pl.Expr]:
    """A field's checks; a null passes all but the first, which a field that cannot be None has."""
    annotation = info.annotation
    item = _list_item(annotation)
    size = column.list.len() if item is not None else column.str.len_chars()
    literals = _literals(annotation)
    checks = [column.is_in(literals)] if literals else []
    checks += [column.str.contains(UTC_TEXT)] if _is_datetime(annotation) else []
    for rule in [*info.metadata, *_inner_metadata(annotation)]:
        checks += _rule(rule, column, size)
    if item is not None and _list_model(annotation) is None:  # a list of plain values: each one checked
        each = _field_checks(pl.element(), FieldInfo.from_annotation(item))
        checks += [column.list.eval(check).list.all() for check in each]
    present = [] if _optional(annotation) else [column.is_not_null()]
    return present + [check | column.is_null() for check in checks]


def _rule(rule: Any, column: pl.Expr, size: pl.Expr) -> list[pl.Expr]:
    if rule == UTC_VALIDATOR:
        return []
    if isinstance(rule, at.Ge | at.Gt | at.Le | at.Lt):
        bound = getattr(rule, type(rule).__name__.lower())
        return [{at.Ge: column >= bound, at.Gt: column > bound, at.Le: column <= bound,
                 at.Lt: column < bound}[type(rule)]]
    if isinstance(rule, StringConstraints | at.MinLen | at.MaxLen):
        low, high = getattr(rule, "min_length", None), getattr(rule, "max_length", None)
        pattern = getattr(rule, "pattern", None)
        return ([size >= low] if low is not None else []) + ([size <= high] if high is not None else []) + (
            [column.str.contains(pattern)] if isinstance(pattern, str) else [])
    raise TypeError(f"no columnar check for {rule!r}")


def _typed(table: str, frame: pl.DataFrame, projected_at: datetime) -> pl.DataFrame:
    """The table's columns in its order and types (a column the frame lacks is null), as `arrow_rows`."""
    frame = frame.with_columns(pl.lit(projected_at).alias("projected_at"))
    return frame.select(
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype, strict=True).alias(name)
        for name, dtype in _polars_schema(table).items()
    )


# --- the projections, one per event type (`analytics.rows` has the per-record twins) ----------

def _lines(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    return frame.explode(name).unnest(name)


def _units(name: str = "lines") -> pl.Expr:
    return pl.col(name).list.eval(pl.element().struct.field("quantity")).list.sum()


def _order_status(frame: pl.DataFrame) -> Frames:
    status = frame.with_columns(units=_units(), lines=pl.col("lines").list.len())
    milestones = status.filter(pl.col("status").is_in(sorted(SAGA_MILESTONES))).with_columns(
        milestone=pl.col("status"), node=pl.col("fulfilment_node"))
    return {"fct_order_status": status, "fct_fulfillment": milestones}


def _hold_answer(frame: pl.DataFrame) -> Frames:
    blank_is_null = [pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in ("order_id", "node")]
    return {"fct_holds": frame.with_columns(blank_is_null)}


PROJECTIONS: dict[str, Projection] = {
    "StockChanged": lambda f: {"fct_stock_movements": f},
    "AvailabilityChanged": lambda f: {"fct_availability": f},
    "NetworkAvailabilityChanged": lambda f: {},
    "HoldAnswered": _hold_answer,
    "OrderStatusChanged": _order_status,
    "PointsPosted": lambda f: {"fct_loyalty_entries": _lines(f, "entries")},
    "TierChanged": lambda f: {"fct_tier_changes": f},
    "PurchaseRecorded": lambda f: {"fct_customer_purchases": _lines(f, "lines")},
    "CustomersMerged": lambda f: {"fct_customer_merges": f},
    "PromotionUsed": lambda f: {"fct_promotion_uses": f},
    "PricingVariance": lambda f: {"fct_pricing_variances": f},
}


# --- schemas, from the events' pydantic models and the tables' SQL ----------------------------

@cache
def _fields(spec: TopicSpec) -> dict[str, FieldInfo]:
    """Every field of the topic's events; one name has one type across them."""
    fields: dict[str, FieldInfo] = {}
    for model in spec.events:
        for name, info in model.model_fields.items():
            if name in fields and _arrow_type(fields[name].annotation) != _arrow_type(info.annotation):
                raise TypeError(f"{spec.name}: {name} has two types")
            fields.setdefault(name, info)
    return fields


@cache
def _schema(spec: TopicSpec) -> pa.Schema:
    return pa.schema([(name, _arrow_type(info.annotation)) for name, info in _fields(spec).items()])


@cache
def _polars_schema(table: str) -> pl.Schema:
    return pl.DataFrame(arrow_schemas()[table].empty_table()).schema


def _arrow_type(annotation: Any) -> pa.DataType:
    """The JSON reader's type for a field: datetimes as text, parsed after their format is checked."""
    inner = _list_model(annotation)
    if inner is not None:
        return pa.list_(pa.struct([(n, _arrow_type(i.annotation)) for n, i in inner.model_fields.items()]))
    item = _list_item(annotation)
    if item is not None:
        return pa.list_(_arrow_type(item))
    plain = _without_none(annotation)
    if _literals(plain) or plain is str or _is_datetime(plain):
        return pa.string()
    if plain in (int, float, bool):
        return {int: pa.int64(), float: pa.float64(), bool: pa.bool_()}[plain]
    raise TypeError(f"no columnar type for {annotation!r}")


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _without_none(rest[0]) if len(rest) == 1 else annotation
    if hasattr(annotation, "__metadata__"):  # Annotated[...]: the constraints are checked in columns
        return _without_none(get_args(annotation)[0])
    return annotation


def _inner_metadata(annotation: Any) -> list[Any]:
    """The constraints of an optional field (`Id | None`), which pydantic leaves inside the union."""
    if not _optional(annotation):
        return []
    return [rule for arg in get_args(annotation) for rule in getattr(arg, "__metadata__", ())]


def _optional(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


def _literals(annotation: Any) -> list[str]:
    plain = _without_none(annotation)
    return [str(value) for value in get_args(plain)] if get_origin(plain) is Literal else []


def _is_datetime(annotation: Any) -> bool:
    plain = _without_none(annotation)
    return plain is AwareDatetime or (isinstance(plain, type) and issubclass(plain, datetime))


def _list_model(annotation: Any) -> type[BaseModel] | None:
    item = _list_item(annotation)
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


def _list_item(annotation: Any) -> Any:
    """The item annotation of a list field (a model, or a plain value such as `NodeId`), else None."""
    plain = _without_none(annotation)
    return get_args(plain)[0] if get_origin(plain) is list else None


def _type_of(model: type[Event]) -> str:
    return str(model.model_fields["type"].default)

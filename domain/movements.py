"""Which stock movements a source event causes: one per line, ids derived from the event."""

from __future__ import annotations

from collections.abc import Iterable
from functools import singledispatch

from domain.ids import derived_id
from streams.base import Event
from streams.holds import CommitHold, PlaceHold, PlaceHolds, ReleaseHold
from streams.inventory import MovementKind, StockMovement
from streams.pos import PosReturn, PosSale, PosVoid
from streams.stock import StockCounted, StockDamaged, StockReceived, TransferReceived, TransferShipped

# (sku, node, kind, quantity) before ids are attached.
Line = tuple[str, str, MovementKind, int]


BATCH_MAX = 200  # places per batch: ~70 KB, well under the record size limit


def batch_places(commands: list[Event]) -> list[Event]:
    """Merge each SKU's consecutive places into one `PlaceHolds` record.

    Only a SKU's own order matters (each SKU is its own state), so a run of places of one SKU
    is kept together even when other SKUs' commands came in between, and ends at any other
    command of the same SKU: per SKU, the order of every command is unchanged.
    """
    out: list[list[Event] | Event] = []
    open_run: dict[str, list[Event]] = {}
    for command in commands:
        sku: str = command.sku  # type: ignore[attr-defined]  # every SKU-log command has one
        if isinstance(command, PlaceHold):
            run = open_run.get(sku)
            if run is not None and len(run) < BATCH_MAX:
                run.append(command)
                continue
            open_run[sku] = [command]
            out.append(open_run[sku])
        else:
            open_run.pop(sku, None)
            out.append(command)
    return [_as_record(item) for item in out]


def _as_record(item: list[Event] | Event) -> Event:
    if not isinstance(item, list):
        return item
    if len(item) == 1:
        return item[0]
    first = item[0]
    return PlaceHolds(
        event_id=derived_id(first.event_id, f"batch{len(item)}"), occurred_at=first.occurred_at,
        source_node=first.source_node, sku=first.sku, holds=item,  # type: ignore[attr-defined]
    )


def sku_commands_for(event: Event) -> list[Event]:
    """What goes on the SKU logs for `event`: hold commands as they are, else its movements."""
    if isinstance(event, PlaceHold | CommitHold | ReleaseHold):
        return [event]
    return list(movements_for(event))


def movements_for(event: Event) -> list[StockMovement]:
    """The movements of `event`, numbered so that a replay yields the very same ids."""
    return [
        _with_transfer(event, n, StockMovement(
            event_id=f"{event.event_id}:{n}",
            occurred_at=event.occurred_at,
            source_node=node,
            sku=sku,
            node=node,
            kind=kind,
            quantity=quantity,
            cause_event_id=event.event_id,
            cause_type=getattr(event, "type", type(event).__name__),
        ))
        for n, (sku, node, kind, quantity) in enumerate(_lines(event))
    ]


def _with_transfer(event: Event, n: int, movement: StockMovement) -> StockMovement:
    """Transfer movements carry the transfer id, the eta (in transit) or the expected units (receipt)."""
    if isinstance(event, TransferShipped):
        return movement.model_copy(update={"transfer_id": event.transfer_id, "eta": event.eta})
    if isinstance(event, TransferReceived):
        return movement.model_copy(
            update={"transfer_id": event.transfer_id, "expected": event.lines[n].quantity_expected}
        )
    return movement


@singledispatch
def _lines(event: Event) -> Iterable[Line]:
    # Identity and pricing have no stock effect; online orders reach the SKU logs as holds,
    # through the order saga (domain/orders.py), not as movements.
    return ()


@_lines.register
def _(event: PosSale) -> Iterable[Line]:
    return [(line.sku, event.source_node, "sale", -line.quantity) for line in event.lines]


@_lines.register
def _(event: PosReturn) -> Iterable[Line]:
    # Returned goods go back at the store where they are handed in, whoever sold them.
    return [
        (line.sku, event.source_node, "return" if line.condition == "sellable" else "return_damaged", line.quantity)
        for line in event.lines
    ]


@_lines.register
def _(event: PosVoid) -> Iterable[Line]:
    return [(line.sku, event.source_node, "void", line.quantity) for line in event.lines]


@_lines.register
def _(event: StockReceived) -> Iterable[Line]:
    return [(line.sku, event.source_node, "receipt", line.quantity) for line in event.lines]


@_lines.register
def _(event: StockCounted) -> Iterable[Line]:
    return [(line.sku, event.source_node, "count", line.counted) for line in event.lines]


@_lines.register
def _(event: StockDamaged) -> Iterable[Line]:
    return [(line.sku, event.source_node, "damage", line.quantity) for line in event.lines]


@_lines.register
def _(event: TransferShipped) -> Iterable[Line]:
    out: list[Line] = [(line.sku, event.from_node, "transfer_out", -line.quantity) for line in event.lines]
    return out + [(line.sku, event.to_node, "transit_in", line.quantity) for line in event.lines]


@_lines.register
def _(event: TransferReceived) -> Iterable[Line]:
    # Every line, even one with nothing received: it closes that part of the transit.
    return [(line.sku, event.to_node, "transfer_in", line.quantity_received) for line in event.lines]

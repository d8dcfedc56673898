"""The order saga: an online order with several lines becomes one hold per SKU, all or nothing. Pure.

An order's lines live on different SKU logs (different partitions, maybe different workers),
so no single decision can take all of them. The saga, keyed by the order, asks for one hold
per SKU (quantities of the same SKU on several lines summed first) and waits for the answers:

- every hold granted: the order is `accepted` (its one clear answer);
- any hold rejected: the order is `rejected` with that line's reason, and every other hold is
  released (a compensating release; a hold not yet answered is released after it is placed,
  because both travel on the same SKU log in send order);
- later: a cancellation releases the cancelled units (partly, if only some are cancelled);
  shipment or pick-up commits the holds; a pick-up hold that expires is a `no_show`, a delivery
  hold that expires is `hold_expired`; a hold released because a till sold its units is a
  `stock_conflict` (the order is flagged, its other holds kept: docs/inventory.md).

An order placed without a node is sourced (`domain/order_sourcing.py`): the plan's holds (stock
per SKU and node, and one capacity hold per shipment) are placed the same way. A refused hold
means the snapshot was stale: the attempt's holds are released and the order decided again
without that option, up to the profile's attempts. A node that rejects its part, or picks
short, has that part released and re-sourced elsewhere; a pick-up order is never moved to
another store: it `waiting`s for the customer or a transfer. A granted hold the order does not
know (a plan lost in a crash and decided differently) is released.

Exactly once on at-least-once delivery: every command the saga sends stays in the order's
`outbox` until the authority's answer names its command id; a redelivered input (its offset
at or below the one the order last applied from that topic) re-sends the outbox and the
status history. Commands are idempotent at the authority (by hold id and command id), status
events by their `<order id>:<status>` id.
"""

from domain.orders.saga import decide
from domain.orders.state import (
    FINAL,
    HoldState,
    Line,
    OrderState,
    SagaCommand,
    SagaInput,
    SagaStatus,
    StatusEntry,
    Step,
    TtlFor,
    history,
    hold_id_for,
    resend,
)

__all__ = [
    "FINAL", "HoldState", "Line", "OrderState", "SagaCommand", "SagaInput", "SagaStatus", "StatusEntry", "Step",
    "TtlFor", "decide", "history", "hold_id_for", "resend",
]

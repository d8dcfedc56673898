"""Puts an ExpireHolds command on the log of every owned SKU whose oldest hold ran out.

Expiry is decided by the command's time when the agent applies it, so a replay decides the
same way. While no worker owns a partition, nothing expires there; the worker that takes it
over rebuilds its index from the table and expires everything overdue on its first tick.
"""

from __future__ import annotations

import logging
import uuid

from domain.hold_expiry import ExpiryIndex
from runtime.app import app, clock, settled
from runtime.publish import publish
from streams.holds import ExpireHolds
from streams.topics import INVENTORY_MOVEMENTS
from tables.stock import owned_stock

log = logging.getLogger("omnistream.expiry")
expiry_index = ExpiryIndex()  # apply_movements notes every SKU it changes


@app.timer(interval=1.0)
async def expire_holds() -> None:
    if not settled():
        return  # the table is not yet whole: an index built now would miss the partitions coming in
    if not expiry_index.valid:
        expiry_index.rebuild(owned_stock())
        log.info("expiry index rebuilt: %d SKUs with open holds", len(expiry_index.earliest))
    now = clock.now()
    for sku in expiry_index.due(now):
        command = ExpireHolds(event_id=f"exp-{uuid.uuid4().hex}", occurred_at=now, source_node="hq", sku=sku, as_of=now)
        await publish(INVENTORY_MOVEMENTS, command)
        expiry_index.earliest.pop(sku, None)  # noted again when the command is applied

"""Availability as the outside world reads it: per position and network-wide. Pure."""

from __future__ import annotations

from datetime import datetime

from domain.stock import SkuStock
from streams.inventory import AvailabilityChanged, InboundLot, NetworkAvailabilityChanged


def availability(stock: SkuStock, nodes: set[str], at: datetime, cause_id: str) -> list[AvailabilityChanged]:
    out = []
    for node in sorted(nodes):
        p = stock.position(node)
        out.append(AvailabilityChanged(
            event_id=f"{cause_id}:{node}"[:160], occurred_at=at, source_node=node, sku=stock.sku, node=node,
            on_hand=p.on_hand, held=p.held, safety=p.safety, atp=p.atp, in_transit=p.in_transit,
            inbound=sorted(
                (InboundLot(transfer_id=tid, quantity=lot.quantity, eta=lot.eta) for tid, lot in p.inbound.items()),
                key=lambda lot: (lot.eta, lot.transfer_id),
            ),
        ))
    return out


def network_availability(stock: SkuStock, at: datetime, cause_id: str) -> NetworkAvailabilityChanged:
    positions = stock.positions.values()
    return NetworkAvailabilityChanged(
        event_id=f"{cause_id}:network"[:160], occurred_at=at, source_node="hq", sku=stock.sku,
        on_hand=sum(p.on_hand for p in positions), held=sum(p.held for p in positions),
        atp=sum(p.atp for p in positions), nodes_with_atp=sum(1 for p in positions if p.atp > 0),
        in_transit=sum(p.in_transit for p in positions),
    )

"""`/stock/{sku}/`: every node's position of a SKU, answered by the worker that owns it.

A malformed SKU (not `streams.base.Sku`) is a 400. An unknown SKU is a 404: "unknown" means the
owning worker's stock table has no row for it, no position at any node and no hold (nothing was
ever received, counted, moved or held for it); a SKU whose units all left still has its
positions (at zero) and answers 200. `?by=<ISO time>` adds each node's ATP by then.
"""

from __future__ import annotations

from datetime import UTC, datetime

from faust.web import Request, Response, View

from runtime.app import app
from tables.stock import get_stock
from views.body import bad_path
from views.owner import forward, is_mine


@app.page("/stock/{sku}/")
class StockView(View):
    async def get(self, request: Request, sku: str) -> Response:
        if (malformed := bad_path(self, sku=sku)) is not None:
            return malformed
        if not is_mine(sku):
            return await forward(self, request, sku)
        by = request.query.get("by")
        try:
            moment = datetime.fromisoformat(by.replace("Z", "+00:00")) if by else None
        except ValueError:
            return self.json({"error": f"by={by!r}: give an ISO 8601 time, e.g. 2026-11-28T12:00:00Z"}, status=400)
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        stock = get_stock(sku)
        if not stock.positions and not stock.holds:
            return self.json({"error": f"unknown SKU {sku}: no stock row on its owning worker"}, status=404)
        nodes = {}
        for node, p in sorted(stock.positions.items()):
            view = {**p.model_dump(mode="json", exclude={"inbound"}), "atp": p.atp, "in_transit": p.in_transit}
            if p.inbound:
                view["inbound"] = [
                    {"transfer_id": tid, "quantity": lot.quantity, "eta": lot.eta.isoformat()}
                    for tid, lot in sorted(p.inbound.items(), key=lambda item: item[1].eta)
                ]
            if moment is not None:
                view["atp_by"] = p.atp_by(moment)
            nodes[node] = view
        return self.json(
            {
                "sku": sku,
                "total_on_hand": stock.total_on_hand,
                "total_atp": sum(p.atp for p in stock.positions.values()),
                "total_in_transit": sum(p.in_transit for p in stock.positions.values()),
                "nodes": nodes,
                "applied_through_offset": stock.watermark,
            }
        )

"""`/stock/{sku}`: every node's position of a SKU, answered by the worker that owns it."""

from __future__ import annotations

from faust.web import Request, Response, View

from app import app
from tables.stock import get_stock
from views.owner import forward, is_mine


@app.page("/stock/{sku}/")
class StockView(View):
    async def get(self, request: Request, sku: str) -> Response:
        if not is_mine(sku):
            return await forward(self, request, sku)
        stock = get_stock(sku)
        return self.json(
            {
                "sku": sku,
                "total_on_hand": stock.total_on_hand,
                "total_atp": sum(p.atp for p in stock.positions.values()),
                "nodes": {node: {**p.model_dump(), "atp": p.atp} for node, p in sorted(stock.positions.items())},
                "applied_through_offset": stock.watermark,
            }
        )

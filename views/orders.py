"""`/orders/{order_id}/`: an online order's saga state, answered by the worker that owns it."""

from __future__ import annotations

from faust.web import Request, Response, View

from runtime.app import app
from tables.orders import get_order, orders_table
from views.body import bad_path
from views.owner import forward, is_mine


@app.page("/orders/{order_id}/")
class OrderView(View):
    async def get(self, request: Request, order_id: str) -> Response:
        if (malformed := bad_path(self, order_id=order_id)) is not None:
            return malformed
        if not is_mine(order_id, orders_table):
            return await forward(self, request, order_id, table=orders_table)
        state = get_order(order_id)
        if state is None:
            return self.json({"error": f"no order {order_id} (not placed, or not yet seen)"}, status=404)
        return self.json(
            {
                "order_id": state.order_id,
                "status": state.status,
                "delivery": state.delivery,
                "fulfilment_node": state.node,
                "placed_at": state.placed_at.isoformat(),
                "holds_expire_at": state.expires_at.isoformat(),
                "lines": [line.model_dump() for line in state.lines.values()],
                "history": [entry.model_dump(mode="json") for entry in state.history],
                "waiting_for_answers": len(state.outbox),
            }
        )

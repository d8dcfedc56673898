"""The HTTP API's request bodies and path parameters as typed models: what each POST takes, and its bounds.

One model per body (strict types, extra="forbid"), read by `views/body.py` and described by the
OpenAPI document (`views/api_spec.py`). Identifiers use the patterns the topics use
(`streams/base.py`), so a request that passes here cannot fail as an event later; times to live
are finite, positive and bounded (a zero or negative ttl is refused, never published).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from streams.base import Cents, Id, NodeId, Quantity, Sku
from streams.pos import IdentifierKind

MAX_TTL_S = 30 * 86_400  # a hold's time to live: at most 30 days
MAX_LEASE_VALID_S = 7 * 86_400
Ttl = Annotated[float, Field(gt=0, le=MAX_TTL_S, allow_inf_nan=False,
                             description="seconds to live: finite, > 0, at most 30 days")]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Label = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Coupon = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
BasketId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$")]
LeaseNo = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{8,32}$")]


class Body(BaseModel):
    """A request body: frozen, unknown fields refused, no coercion ("2" is not a quantity)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class HoldRequest(Body):
    """`POST /holds/`: promise `quantity` units of `sku` at `node` to `order_id` for `ttl_s` seconds."""

    hold_id: Id
    order_id: Id
    sku: Sku
    node: NodeId
    quantity: Quantity
    ttl_s: Ttl = 900.0


class CommitHoldRequest(Body):
    """`POST /holds/commit/`: the promised units left (node and quantity together: units gone without a hold)."""

    hold_id: Id
    sku: Sku
    cause: Literal["sale", "shipment", "pickup"]
    node: NodeId | None = None
    quantity: Quantity | None = None


class ReleaseHoldRequest(Body):
    """`POST /holds/release/`: the promise is off (a quantity releases only that many units)."""

    hold_id: Id
    sku: Sku
    reason: Reason
    quantity: Quantity | None = None


class HoldPointsRequest(Body):
    """`POST /wallets/{customer_id}/holds/`: reserve `points` for a transaction for `ttl_s` seconds."""

    request_id: Id
    points: int = Field(gt=0, le=10_000_000)
    ttl_s: Ttl = 300.0


class CapturePointsRequest(Body):
    """`POST /wallets/{customer_id}/holds/{request_id}/capture/`: an empty object (or no body)."""


class VoidPointsRequest(Body):
    """`POST /wallets/{customer_id}/holds/{request_id}/void/`: why the held points go back."""

    reason: Reason = "abandoned"


class ResolveRequest(Body):
    """`POST /customers/resolve/`: an identifier (raw, in the body only) to its customer id."""

    kind: IdentifierKind
    value: str = Field(min_length=1, max_length=320)


class BasketLineRequest(Body):
    line_no: int = Field(ge=0, le=10_000)
    sku: Sku
    quantity: Quantity


class PriceBasketRequest(Body):
    """`POST /baskets/price/`: a basket to price; with `hold` (checkout) its budget and coupon uses held."""

    basket_id: BasketId
    lines: list[BasketLineRequest] = Field(min_length=1, max_length=500)
    channel: Literal["web", "app", "store"] = "web"
    node: NodeId = "web"
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "EUR"
    tier: Label | None = None
    region: Label | None = None
    customer_id: Id | None = None
    coupon_codes: list[Coupon] = Field(default_factory=list, max_length=20)
    shipping_cents: Cents = 0
    hold: bool = False
    ttl_s: Ttl | None = None
    offline: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The body as `domain.pricing.answer.basket_from` reads it (unset optionals left out)."""
        return self.model_dump(exclude_none=True)


class LeaseRequest(Body):
    """`POST /pricing/leases/`: a slice of a promotion's budget held for one store's tills offline."""

    store: NodeId
    promotion_id: Id
    money_cents: Cents = 0
    uses: int = Field(default=0, ge=0, le=10_000_000)
    valid_s: float = Field(default=86_400.0, gt=0, le=MAX_LEASE_VALID_S, allow_inf_nan=False)
    lease_no: LeaseNo | None = None


class CartLine(Body):
    sku: Sku
    quantity: Quantity
    unit_cents: int = Field(default=0, ge=0, le=100_000_000)


class Destination(Body):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    postcode: str = Field(default="", max_length=16)


class OptionsRequest(Body):
    """`POST /fulfilment/options/`: the ways to fulfil a cart now; with `hold_ttl_s` the best one is held."""

    lines: list[CartLine] = Field(min_length=1, max_length=100)
    ship_to: Destination | None = None
    pickup_node: NodeId | None = None
    hold_ttl_s: float | None = Field(default=None, gt=0, le=3_600, allow_inf_nan=False)


# ---------------------------------------------------------------- path parameters

PATH_PARAMETERS: dict[str, Any] = {"sku": Sku, "hold_id": Id, "order_id": Id, "customer_id": Id, "request_id": Id}
_ADAPTERS = {name: TypeAdapter(kind) for name, kind in PATH_PARAMETERS.items()}


def path_error(**values: str) -> str | None:
    """Why a path parameter is malformed (the first one), or None if all are well formed."""
    for name, value in values.items():
        adapter = _ADAPTERS[name]
        try:
            adapter.validate_python(value)
        except ValueError:
            pattern = adapter.json_schema().get("pattern", "")
            return f"{name} {value[:64]!r} is malformed: it must match {pattern}"
    return None


def path_schema(name: str) -> dict[str, Any]:
    return _ADAPTERS[name].json_schema()

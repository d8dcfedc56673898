"""Fulfilment's contract: the network and its costs as data, sourcing decisions, store responses.

The network (nodes, cost tables, sourcing profiles) is versioned data on one compacted topic,
keyed `<kind>/<id>@<version>` so compaction keeps every version and a replay can use the
tables as they stood at any moment (`effective_from`). Decisions explain themselves: every
eligible and eliminated node, the scored candidates and the winner.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from streams.base import Cents, Event, Id, NodeId, Quantity, Record, Sku, UtcDatetime

NodeKind = Literal["store", "warehouse", "dark_store", "head_office"]
Method = Literal["ship", "same_day", "pickup"]  # what a node does for an online order
PromiseClass = Literal["standard", "express", "same_day"]
Criterion = Literal["promise", "shipments", "cost", "distance", "warehouse_share"]
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"


class OpeningHours(Record):
    """One weekday's opening (0 = Monday), local time of the node; `24:00` closes at midnight."""

    weekday: int = Field(ge=0, le=6)
    opens: str = Field(pattern=HHMM)
    closes: str = Field(pattern=HHMM)


class SlotCapacity(Record):
    """What a node can pick and pack for one method per one-hour slot."""

    method: Method
    per_hour: int = Field(ge=0, le=100_000)
    unit: Literal["orders", "units"] = "orders"


class NodeDefined(Event):
    """A node of the network as of `effective_from`: where it is, when it is open, what it does."""

    type: Literal["fulfilment.node_defined"] = "fulfilment.node_defined"
    node_id: NodeId
    version: int = Field(ge=1)
    effective_from: UtcDatetime
    kind: NodeKind
    name: str = Field(default="", max_length=120)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    postcode: str = Field(default="", max_length=16)
    timezone: str = Field(default="Europe/Amsterdam", max_length=64)
    hours: list[OpeningHours] = Field(default_factory=list, max_length=14)
    methods: list[Method] = Field(default_factory=list, max_length=3)
    capacity: list[SlotCapacity] = Field(default_factory=list, max_length=3)
    prep_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)  # from capacity slot start to ready
    protected_units: int = Field(default=0, ge=0, le=100_000)  # per SKU, kept for walk-in customers
    active: bool = True


class WeightBand(Record):
    up_to_g: int = Field(gt=0)
    cents: Cents


class DistanceBand(Record):
    """Carrier price of one parcel up to `up_to_km`, by weight."""

    up_to_km: float = Field(gt=0)
    by_weight: list[WeightBand] = Field(min_length=1, max_length=20)
    transit_days: int = Field(ge=0, le=14)


class CostsDefined(Event):
    """The cost tables as of `effective_from`. Money in the currency's minor unit (cents)."""

    type: Literal["fulfilment.costs_defined"] = "fulfilment.costs_defined"
    version: int = Field(ge=1)
    effective_from: UtcDatetime
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    shipping: list[DistanceBand] = Field(min_length=1, max_length=20)
    handling_order_cents: dict[NodeKind, Cents]
    handling_unit_cents: dict[NodeKind, Cents]
    same_day_base_cents: Cents
    same_day_cents_per_km: Cents
    same_day_radius_km: float = Field(gt=0, le=500)
    split_penalty_cents: Cents
    unit_weight_g: int = Field(default=500, gt=0)
    pick_units_per_hour: dict[NodeKind, int]  # labour: units a person picks and packs per hour
    express_within_days: int = Field(default=1, ge=0, le=7)  # the promise of each class, in days
    standard_within_days: int = Field(default=3, ge=0, le=14)


class ProfileDefined(Event):
    """A sourcing profile: which nodes may serve each method and how plans are compared."""

    type: Literal["fulfilment.profile_defined"] = "fulfilment.profile_defined"
    profile_id: Id
    version: int = Field(ge=1)
    status: Literal["draft", "active"]
    description: str = Field(default="", max_length=500)
    mode: Literal["ranked", "weighted"] = "ranked"
    criteria: list[Criterion] = Field(min_length=1, max_length=5)  # ranked: first decides, ties go on
    weights: dict[Criterion, float] = Field(default_factory=dict)  # weighted: cost-equivalent cents per unit
    nodes_for: dict[Method, list[NodeKind]]
    max_split: int = Field(default=3, ge=1, le=5)
    min_shipment_cents: Cents = 0  # no shipment of a split plan worth less
    check_budget: int = Field(default=2_000, ge=1, le=1_000_000)  # candidate plans scored at most
    max_attempts: int = Field(default=3, ge=1, le=10)  # decisions per order before a clear rejection

    @model_validator(mode="after")
    def _mode_has_what_it_needs(self) -> ProfileDefined:
        if self.mode == "weighted" and not self.weights:
            raise ValueError("a weighted profile needs weights")
        return self


NetworkEvent = NodeDefined | CostsDefined | ProfileDefined


def network_key(event: NetworkEvent) -> str:
    """`<kind>/<id>@<version>`: compaction keeps each version, dropping only re-sent copies."""
    match event:
        case NodeDefined():
            return f"node/{event.node_id}@{event.version}"
        case CostsDefined():
            return f"costs/default@{event.version}"
        case ProfileDefined():
            return f"profile/{event.profile_id}@{event.version}"


class PlannedLine(Record):
    sku: Sku
    quantity: Quantity


class Shipment(Record):
    """Part of a plan: what one node sends (or hands over), in which capacity slot, and its cost."""

    node: NodeId
    method: Method
    lines: list[PlannedLine] = Field(min_length=1, max_length=500)
    slot_start: UtcDatetime
    ready_at: UtcDatetime
    promised_at: UtcDatetime
    km: float = Field(ge=0)
    cost_cents: int = Field(ge=0)
    capacity_units: int = Field(ge=1)


class Candidate(Record):
    """A plan scored: its nodes and the value of every criterion (promise: 0 met, 1 missed)."""

    nodes: list[NodeId]
    criteria: dict[str, float]
    score: float | None = None  # weighted mode only
    rank: int = Field(ge=1)


class Elimination(Record):
    node: NodeId
    reason: Literal["closed", "out_of_radius", "no_capacity", "not_enough_atp", "protected_stock",
                    "method_not_served", "kind_not_allowed", "excluded", "inactive", "too_far_for_promise"]
    skus: list[Sku] = Field(default_factory=list, max_length=500)  # for the ATP reasons
    detail: str = Field(default="", max_length=200)


class FulfilmentDecided(Event):
    """One sourcing decision for an order: the plan, or a clear rejection, and why."""

    type: Literal["fulfilment.decided"] = "fulfilment.decided"
    order_id: Id
    attempt: int = Field(ge=1)
    outcome: Literal["planned", "rejected", "pinned", "waiting"]
    reason: str = Field(default="", max_length=500)
    method: Method
    promise: PromiseClass
    profile_id: str
    profile_version: int = Field(ge=0)
    costs_version: int = Field(ge=0)
    network_versions: dict[str, int] = Field(default_factory=dict)  # node -> version used
    snapshot_offsets: dict[str, int] = Field(default_factory=dict)  # `<topic>:<partition>` -> offset read
    shipments: list[Shipment] = Field(default_factory=list, max_length=5)
    candidates: list[Candidate] = Field(default_factory=list, max_length=20)  # the best, ranked
    candidates_scored: int = Field(default=0, ge=0)
    eliminated: list[Elimination] = Field(default_factory=list, max_length=1_000)
    # `node` or `sku@node` ruled out by earlier attempts
    excluded: list[str] = Field(default_factory=list, max_length=100)
    retries: int = Field(default=0, ge=0)
    cost_cents: int = Field(default=0, ge=0)
    km: float = Field(default=0, ge=0)
    decide_ms: float = Field(default=0, ge=0)


class StoreResponded(Event):
    """A node's answer to an assignment: it rejects it whole, or it picked fewer units than planned."""

    type: Literal["fulfilment.store_responded"] = "fulfilment.store_responded"
    order_id: Id
    node: NodeId
    response: Literal["rejected", "short_pick"]
    lines: list[PlannedLine] = Field(default_factory=list, max_length=500)  # short: the units missing
    reason: str = Field(min_length=1, max_length=200)


class TransferSuggested(Event):
    """Move units of a SKU from a node with too many days of cover to one that sells it faster."""

    type: Literal["inventory.transfer_suggested"] = "inventory.transfer_suggested"
    suggestion_id: Id
    sku: Sku
    from_node: NodeId
    to_node: NodeId
    quantity: Quantity
    from_on_hand: int
    to_on_hand: int
    from_daily_sales: float = Field(ge=0)
    to_daily_sales: float = Field(ge=0)
    from_cover_days_before: float
    from_cover_days_after: float
    to_cover_days_before: float
    to_cover_days_after: float
    as_of: UtcDatetime
    reason: str = Field(default="", max_length=300)


class ProposedOption(Record):
    """One way to fulfil a cart, as the fulfilment-options endpoint ranks them."""

    method: Method
    promise: PromiseClass
    nodes: list[NodeId]
    promised_at: UtcDatetime
    cost_cents: int
    hold_ids: list[str] = Field(default_factory=list)

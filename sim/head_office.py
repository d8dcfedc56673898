"""Head office and customer accounts: the price book's catalogue, price changes, promotions and identifier links."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sim import catalogue
from sim.state import DayState, Emission, Promotion
from streams.base import Event
from streams.customers import CustomerIdentifierLinked
from streams.pricing import PriceChanged, PromotionChanged
from streams.topics import CUSTOMER_IDENTIFIERS, PRICING_CHANGES

HEAD_OFFICE = catalogue.HEAD_OFFICE
PROMOTION_LENGTH = timedelta(days=3)
PERCENTS_OFF = (10, 15, 20, 25, 30)


def publish_catalogue(day: DayState) -> Iterator[Emission]:
    """At opening, with the opening stock: every SKU's category, the promotion groups and the
    day's promotions, re-stamped with the day's ids and clock."""
    start = day.clock
    skus = [item.sku for item in day.network.catalogue]
    events: list[Event] = [*catalogue.products(skus, start), *catalogue.groups(start), *catalogue.promotions(start)]
    for event in events:
        event_id, at = day.stamp(timedelta(0))
        stamped = event.model_copy(update={"event_id": event_id, "occurred_at": at})
        yield PRICING_CHANGES, PRICING_CHANGES.key_for(stamped), stamped


def price_changed(day: DayState) -> Emission:
    """A SKU repriced centrally, or at one store, from now on."""
    rng = day.rng
    sku = day.network.pick_item(rng).sku
    node = rng.choice(day.network.stores).node_id if rng.random() < 0.15 else None
    old = day.price(sku, node or "")
    new = max(49, round(old * rng.uniform(0.85, 1.15) / 10) * 10 - 1)  # shelf prices end in 9
    event_id, at = day.stamp()
    event = PriceChanged(
        event_id=event_id,
        occurred_at=at,
        source_node=HEAD_OFFICE,
        sku=sku,
        price_cents=new,
        effective_from=at,
        node=node,
    )
    day.prices[(sku, node or "")] = new
    return PRICING_CHANGES, PRICING_CHANGES.key_for(event), event


def promotion_changed(day: DayState) -> Emission:
    """A new promotion on a few SKUs, or an earlier one ended early."""
    rng = day.rng
    if day.promotions and rng.random() < 0.3:
        ended = day.promotions.pop(rng.choice(list(day.promotions)))
        return _promotion(ended, False, *day.stamp())
    event_id, at = day.stamp()
    skus = tuple(dict.fromkeys(day.network.pick_item(rng).sku for _ in range(rng.randint(3, 15))))
    promotion = Promotion(f"pr-{event_id}", skus, rng.choice(PERCENTS_OFF), at, at + PROMOTION_LENGTH)
    day.promotions[promotion.promotion_id] = promotion
    return _promotion(promotion, True, event_id, at)


def _promotion(promotion: Promotion, active: bool, event_id: str, at: datetime) -> Emission:
    event = PromotionChanged(
        event_id=event_id,
        occurred_at=at,
        source_node=HEAD_OFFICE,
        promotion_id=promotion.promotion_id,
        skus=list(promotion.skus),
        percent_off=promotion.percent_off,
        starts_at=promotion.starts_at,
        ends_at=promotion.ends_at,
        active=active,
    )
    return PRICING_CHANGES, PRICING_CHANGES.key_for(event), event


def identifier_linked(day: DayState) -> Emission | None:
    """A channel learns that two of a customer's identifiers belong together."""
    rng = day.rng
    customer = day.network.customers[rng.randrange(len(day.network.customers))]
    if len(customer.identifiers) < 2:
        return None
    known_as, identifier = rng.sample(customer.identifiers, 2)
    channel = rng.choice(("store", "web", "app"))
    event_id, at = day.stamp()
    event = CustomerIdentifierLinked(
        event_id=event_id,
        occurred_at=at,
        source_node=customer.home_store if channel == "store" else channel,
        known_as=known_as,
        identifier=identifier,
        channel=channel,
    )
    return CUSTOMER_IDENTIFIERS, CUSTOMER_IDENTIFIERS.key_for(event), event

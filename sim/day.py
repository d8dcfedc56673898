"""One simulated retail day: opening stock and the price book, then a seeded mix of every channel's events."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from itertools import accumulate, chain, islice

from sim.backroom import (
    opening_stock,
    stock_counted,
    stock_damaged,
    supplier_delivery,
    transfer_received,
    transfer_shipped,
)
from sim.config import SimConfig
from sim.fraud import FraudCase
from sim.fraud_scenarios import plan_fraud
from sim.head_office import identifier_linked, price_changed, promotion_changed, publish_catalogue
from sim.network import build_network
from sim.online import device_seen, order_cancelled, order_fulfilled, order_placed
from sim.state import DayState, Emission
from sim.tills import pos_return, pos_void, sale

Builder = Callable[[DayState], Emission | None]

# The channel mix after opening: relative odds of what happens next. Transfers also emit
# their receipt when the clock passes their eta, so they show up about twice as often. Orders
# leave (shipped or picked up) nearly as often as they are placed, so most of a day's orders
# are fulfilled by its end; a draw with no open order left falls back like any other.
MIX: tuple[tuple[Builder, float], ...] = (
    (sale, 52.0),
    (order_placed, 14.0),
    (order_fulfilled, 12.0),
    (identifier_linked, 6.0),
    (device_seen, 4.0),
    (pos_return, 5.0),
    (transfer_shipped, 3.5),
    (order_cancelled, 2.5),
    (stock_counted, 2.0),
    (price_changed, 2.0),
    (pos_void, 1.5),
    (stock_damaged, 1.5),
    (supplier_delivery, 1.5),
    (promotion_changed, 0.8),
)
BUILDERS = tuple(builder for builder, _ in MIX)
CUMULATIVE_ODDS = tuple(accumulate(odds for _, odds in MIX))


def simulate(
    config: SimConfig, labels: list[FraudCase] | None = None, identity_key: bytes = b""
) -> Iterator[Emission]:
    """Exactly `config.events` (topic, key, event) triples; the same config, the same triples.
    The fraud cases sent in full are appended to `labels` as they complete; `identity_key`
    hashes the cards and identifiers they are matched on, as identity resolution will."""
    day = open_day(config, identity_key)
    if day.fraud is not None and labels is not None:
        day.fraud.cases = labels
    yield from islice(_day(day), config.events)


def open_day(config: SimConfig, identity_key: bytes = b"") -> DayState:
    """The network and the morning's state. Seeded streams of their own: resizing the day keeps
    the network, and fraud on or off leaves the normal traffic's choices alone."""
    network = build_network(config, random.Random(f"{config.seed}:network"))
    prices = {(item.sku, ""): item.price_cents for item in network.catalogue}
    return DayState(config, random.Random(f"{config.seed}:day"), network, config.start, prices=prices,
                    fraud=plan_fraud(config, identity_key))


def _day(day: DayState) -> Iterator[Emission]:
    yield from opening_stock(day)
    for emission in chain(publish_catalogue(day), iter(lambda: _next(day), None)):
        day.pricing.publish(emission[2])  # the tills' book takes each price book event as it is published
        if day.fraud is not None:
            day.fraud.observe(emission)
        yield emission


def _next(day: DayState) -> Emission:
    """A due transfer receipt first, then a due step of a fraud case; otherwise a draw from
    the mix, falling back to a sale and then to a supplier delivery when the draw is not
    possible yet (no receipt to void)."""
    shipped = day.arrived()
    if shipped is not None:
        return transfer_received(day, shipped)
    fraud = day.fraud.next(day) if day.fraud is not None else None
    if fraud is not None:
        return fraud
    builder = day.rng.choices(BUILDERS, cum_weights=CUMULATIVE_ODDS)[0]
    return builder(day) or sale(day) or supplier_delivery(day)

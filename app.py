"""The composition root (`faust -A app worker`): the runtime, then every agent and view.

Nothing imports this module. An import error in an agent or a view stops the worker, instead
of leaving it running without them, which autodiscovery would do.
"""
# ruff: noqa: I001 (the runtime first, then what it runs: the order says what depends on what)

from __future__ import annotations

from runtime.app import app
import runtime.cluster  # noqa: F401  (the watch on the Kafka cluster: /health's `kafka`, omnistream_kafka_*)

import agents.advance_wallets  # noqa: F401
import agents.apply_movements  # noqa: F401
import agents.expire_holds  # noqa: F401
import agents.fraud  # noqa: F401
import agents.identities  # noqa: F401
import agents.open_capacity  # noqa: F401
import agents.order_saga  # noqa: F401
import agents.route_movements  # noqa: F401
import agents.settle_promotions  # noqa: F401
import agents.wallets  # noqa: F401
import agents.watch_network  # noqa: F401
import agents.watch_price_book  # noqa: F401
import views.access  # noqa: F401  (the guard before every route)
import views.customers  # noqa: F401
import views.fulfilment  # noqa: F401
import views.health  # noqa: F401
import views.holds  # noqa: F401
import views.leases  # noqa: F401
import views.openapi  # noqa: F401
import views.orders  # noqa: F401
import views.pricing  # noqa: F401
import views.stock  # noqa: F401
import views.wallets  # noqa: F401

__all__ = ["app"]

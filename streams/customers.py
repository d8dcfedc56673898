"""What channels publish about who a customer is."""

from __future__ import annotations

from typing import Literal

from streams.base import Event
from streams.pos import CustomerRef


class CustomerIdentifierLinked(Event):
    """A channel learned that `identifier` belongs to the customer known as `known_as`.

    Raw identifiers travel on this ingest topic only; identity resolution hashes them.
    """

    type: Literal["customer.identifier_linked"] = "customer.identifier_linked"
    known_as: CustomerRef
    identifier: CustomerRef
    channel: Literal["store", "web", "app"]

"""Who may call which HTTP route: clients, their scopes and tokens, the route policy, rate buckets.

Pure: no web framework, no clock. The worker's middleware (views/access.py) asks `authorize`
for every request and `Bucket.take` for the rate-limited routes; the dashboard asks the same.

Tokens are never kept in clear: a client's entry holds SHA-256 digests, and a presented token
is hashed and compared to each with `hmac.compare_digest` (constant time). A client may hold
several tokens at once, which is how a token is rotated (add the new one, move the callers,
remove the old one).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

SCOPES = ("till", "web", "app", "backoffice", "operator")
CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
OPEN = frozenset[str]()  # a route anyone who reaches the port may call (health, metrics, the API document)


def digest(token: str) -> str:
    """The SHA-256 hex digest a client entry stores instead of its token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Client:
    """A caller of the HTTP API: its scopes, the store a till acts for, its token digests."""

    name: str
    scopes: frozenset[str]
    token_digests: tuple[str, ...]
    store: str | None = None  # a `till` client acts for this store only
    rate_per_s: float | None = None  # None: the worker's default (OMNI_HTTP_RATE_PER_S)

    def holds_token(self, token: str) -> bool:
        presented = digest(token)
        matched = False
        for stored in self.token_digests:  # every digest compared: the time does not tell which matched
            matched |= hmac.compare_digest(presented, stored)
        return matched

    def acts_for(self, node: str | None) -> bool:
        """May this client act for `node`? A till only for its own store; other scopes for any."""
        if self.scopes - {"till"}:
            return True
        return node is not None and node == self.store


class ClientsError(ValueError):
    """The clients file or setting is malformed: the message says where."""


@dataclass(frozen=True)
class Clients:
    by_name: dict[str, Client] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.by_name)

    def get(self, name: str) -> Client | None:
        return self.by_name.get(name)

    def merged(self, other: Clients, where: str = "the clients") -> Clients:
        """Both sets. A name in both is refused: merging would give one token the scopes and
        stores meant for another (a web-only legacy token gaining a till's rights)."""
        twice = sorted(set(self.by_name) & set(other.by_name))
        if twice:
            raise ClientsError(f"{where}: client {twice[0]!r} is configured twice (one entry per client, "
                               "all its tokens in that entry)")
        return Clients({**self.by_name, **other.by_name})


RESERVED = frozenset({"peer"})  # the workers' own client (OMNI_PEER_TOKEN): no one else may be configured as it


def _client(name: Any, scopes: Any, digests: Any, store: Any, rate: Any, where: str) -> Client:
    if not isinstance(name, str) or not CLIENT_ID.match(name):
        raise ClientsError(f"{where}: client name {name!r} must be 1-64 of A-Z a-z 0-9 . _ : -")
    if name in RESERVED:
        raise ClientsError(f"{where}: client name {name!r} is reserved for the workers (OMNI_PEER_TOKEN)")
    scopes = frozenset(scopes or ())
    unknown = scopes - set(SCOPES)
    if not scopes or unknown:
        raise ClientsError(f"{where}: client {name!r} needs scopes among {', '.join(SCOPES)} (got {sorted(scopes)})")
    if "till" in scopes and not store:
        raise ClientsError(f"{where}: till client {name!r} needs the store it acts for")
    if not digests or not all(isinstance(d, str) and re.fullmatch(r"[0-9a-f]{64}", d) for d in digests):
        raise ClientsError(f"{where}: client {name!r} needs token_sha256 digests (64 hex characters)")
    if rate is not None and not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
        raise ClientsError(f"{where}: client {name!r}: rate_per_s must be a positive number")
    return Client(name, scopes, tuple(digests), store or None, None if rate is None else float(rate))


def clients_from_json(text: str, where: str = "clients file") -> Clients:
    """The clients file: {"clients": [{"client", "scopes", "store"?, "token_sha256": [..], "rate_per_s"?}]}."""
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise ClientsError(f"{where}: not JSON ({err})") from err
    entries = doc.get("clients") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ClientsError(f'{where}: expected {{"clients": [...]}}')
    out: dict[str, Client] = {}
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            raise ClientsError(f"{where}: entry {i} is not an object")
        digests = e.get("token_sha256")
        digests = [digests] if isinstance(digests, str) else digests
        c = _client(e.get("client"), e.get("scopes"), digests, e.get("store"), e.get("rate_per_s"), f"{where} #{i}")
        out = Clients(out).merged(Clients({c.name: c}), where).by_name
    return Clients(out)


def clients_from_env(value: str, where: str = "OMNI_CLIENT_TOKENS") -> Clients:
    """`client:token:scope+scope[:store]` entries, comma separated (tokens hashed on reading)."""
    out = Clients()
    for i, entry in enumerate(p.strip() for p in value.split(",") if p.strip()):
        parts = entry.split(":")
        if len(parts) not in (3, 4):
            raise ClientsError(f"{where} entry {i}: expected client:token:scope+scope[:store]")
        name, token, scopes = parts[0], parts[1], parts[2].split("+")
        if not token:
            raise ClientsError(f"{where} entry {i}: client {name!r} has an empty token")
        c = _client(name, scopes, [digest(token)], parts[3] if len(parts) == 4 else None, None, f"{where} #{i}")
        out = out.merged(Clients({name: c}), where)
    return out


def clients_from_legacy(pairs: dict[str, str]) -> Clients:
    """OMNI_LOYALTY_TOKENS (`client:token` pairs, deprecated): each client gets the `web` scope."""
    return Clients({n: _client(n, ["web"], [digest(t)], None, None, "OMNI_LOYALTY_TOKENS")
                    for n, t in pairs.items() if t})


# ---------------------------------------------------------------- the route policy


@dataclass(frozen=True)
class Rule:
    """Who may call a route: any of `scopes` (empty: open); `changes` routes are audited;
    `limited` routes spend the client's rate bucket; `customer_data` routes show a customer or an order;
    `node_field` names the body field of the store the request acts for."""

    scopes: frozenset[str]
    changes: bool = False
    limited: bool = False
    customer_data: bool = False
    node_field: str | None = None  # the body field naming the store acted for: a till must name its own
    node_optional: bool = False  # a till may leave it out (the view then checks the store it acts on)


def _r(scopes: str, **kw: Any) -> Rule:
    return Rule(frozenset(scopes.split()), **kw)


ALL = "till web app backoffice operator"
# (method, route pattern as registered) -> rule. A route missing here is refused to everyone
# (403), and tests/unit/test_every_route_has_an_owner.py fails: every new route needs an entry.
POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/health"): Rule(OPEN),
    ("GET", "/metrics"): Rule(OPEN),
    ("GET", "/openapi.json"): Rule(OPEN),
    ("GET", "/stock/{sku}/"): _r(ALL),
    ("GET", "/pricing/book/"): _r(ALL),
    ("POST", "/holds/"): _r("till web operator", changes=True, limited=True, node_field="node"),
    ("POST", "/holds/commit/"): _r("till web operator", changes=True, limited=True, node_field="node",
                                   node_optional=True),
    ("POST", "/holds/release/"): _r("till web operator", changes=True, limited=True),
    ("GET", "/holds/{sku}/{hold_id}/"): _r("till web backoffice operator", customer_data=True),
    ("GET", "/orders/{order_id}/"): _r("web app backoffice operator", customer_data=True),
    ("GET", "/orders/{order_id}/sourcing/"): _r("web backoffice operator", customer_data=True),
    ("POST", "/fulfilment/options/"): _r("web app operator", changes=True, limited=True),
    ("POST", "/baskets/price/"): _r("till web app operator", changes=True, limited=True, customer_data=True,
                                    node_field="node"),
    ("POST", "/pricing/leases/"): _r("till operator", changes=True, limited=True, node_field="store"),
    ("GET", "/wallets/{customer_id}/"): _r(ALL, customer_data=True),
    ("POST", "/wallets/{customer_id}/holds/"): _r("till web app operator", changes=True, limited=True),
    ("POST", "/wallets/{customer_id}/holds/{request_id}/capture/"): _r("till web app operator", changes=True,
                                                                        limited=True),
    ("POST", "/wallets/{customer_id}/holds/{request_id}/void/"): _r("till web app operator", changes=True,
                                                                     limited=True),
    ("POST", "/customers/resolve/"): _r("till web app backoffice operator", changes=True, limited=True,
                                        customer_data=True),
}


@dataclass(frozen=True)
class Verdict:
    status: int  # 200 allowed, 401 no valid token, 403 outside the scope
    reason: str = ""
    client: Client | None = None
    rule: Rule | None = None

    @property
    def allowed(self) -> bool:
        return self.status == 200


def node_refusal(verdict: Verdict, body: Any) -> str | None:
    """Why the verdict's client may not act for the store its request body names, or None.
    A body that is not a JSON object names no store: the view refuses it as malformed, so only
    a till (which must name its store) is refused here."""
    client, rule = verdict.client, verdict.rule
    if client is None or rule is None or rule.node_field is None:
        return None
    node = body.get(rule.node_field) if isinstance(body, dict) else None
    if node is None and rule.node_optional and isinstance(body, dict):
        return None
    if client.acts_for(node if isinstance(node, str) else None):
        return None
    return (f"client {client.name!r} acts for {client.store} only, and this request's `{rule.node_field}` is "
            f"{node if isinstance(node, str) else '(missing)'}")


_NOBODY = digest("")


def authorize(clients: Clients, method: str, route: str, client_name: str, token: str) -> Verdict:
    """May the caller naming itself `client_name` with `token` call `method route`?"""
    rule = POLICY.get((method, route))
    if rule is None and method in ("HEAD", "OPTIONS"):  # Faust's HEAD runs the GET view: the same rule
        rule = POLICY.get(("GET", route)) or POLICY.get(("POST", route))
    if rule is None:
        return Verdict(403, f"{method} {route} has no access rule: refused to every client")
    if not rule.scopes:
        return Verdict(200, rule=rule)
    if not len(clients):
        return Verdict(401, "no client tokens are configured on this worker (OMNI_CLIENTS_FILE or "
                            "OMNI_CLIENT_TOKENS): every protected route is refused", rule=rule)
    client = clients.get(client_name) if client_name else None
    if not client_name or not token:
        return Verdict(401, "send X-Client: <client> and Authorization: Bearer <token>", rule=rule)
    if client is None:
        hmac.compare_digest(digest(token), _NOBODY)  # as long as a known client's check: names are not probed
        return Verdict(401, f"client {client_name!r} without a valid token", rule=rule)
    if not client.holds_token(token):
        return Verdict(401, f"client {client_name!r} without a valid token", rule=rule)
    if not client.scopes & rule.scopes:
        return Verdict(403, f"client {client.name!r} has scopes {sorted(client.scopes)}; {method} {route} needs "
                            f"one of {sorted(rule.scopes)}", client, rule)
    return Verdict(200, "", client, rule)


# ---------------------------------------------------------------- rate limits


@dataclass
class Bucket:
    """A token bucket: `rate` requests a second on average, up to `burst` at once."""

    rate: float
    burst: float
    level: float = -1.0
    at: float = 0.0

    def take(self, now: float) -> float:
        """0.0 if a request may go now (and spend one), else the seconds until one may."""
        if self.level < 0:
            self.level, self.at = self.burst, now
        self.level = min(self.burst, self.level + max(0.0, now - self.at) * self.rate)
        self.at = now
        if self.level >= 1.0:
            self.level -= 1.0
            return 0.0
        return (1.0 - self.level) / self.rate

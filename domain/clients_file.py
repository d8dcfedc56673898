"""Changes to the clients file (domain.access's format): add, rotate, revoke a client; list without secrets.

Pure: each function takes the parsed document and returns a new one; a token is kept only as
its digest (`domain.access.digest`). Every result is checked with `clients_from_json`, so a
change can never write a file the worker would refuse at start. `ops.tokens` reads and writes.
"""

from __future__ import annotations

import json
from typing import Any

from domain.access import SCOPES, ClientsError, clients_from_json, digest

Doc = dict[str, Any]


def empty() -> Doc:
    return {"clients": []}


def parse(text: str, where: str = "clients file") -> Doc:
    """The document in `text`, checked; an empty text is an empty file."""
    if not text.strip():
        return empty()
    clients_from_json(text, where)
    doc: Doc = json.loads(text)
    return doc


def dump(doc: Doc) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _checked(doc: Doc) -> Doc:
    clients_from_json(json.dumps(doc), "the changed clients file")
    return doc


def _entries(doc: Doc) -> list[dict[str, Any]]:
    return [dict(e) for e in doc.get("clients", [])]


def add(doc: Doc, client: str, scopes: list[str], token: str, store: str | None = None,
        rate_per_s: float | None = None) -> Doc:
    """A new client holding `token`; a client already there is refused (rotate it instead)."""
    if any(e.get("client") == client for e in _entries(doc)):
        raise ClientsError(f"client {client!r} is already in the file: rotate or revoke it")
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ClientsError(f"unknown scopes {sorted(unknown)}: choose among {', '.join(SCOPES)}")
    entry: dict[str, Any] = {"client": client, "scopes": sorted(set(scopes)), "token_sha256": [digest(token)]}
    if store:
        entry["store"] = store
    if rate_per_s is not None:
        entry["rate_per_s"] = rate_per_s
    return _checked({**doc, "clients": [*_entries(doc), entry]})


def rotate(doc: Doc, client: str, token: str) -> Doc:
    """`client` also holds `token`; its old tokens stay valid until revoked (move the callers first)."""
    entries = _entries(doc)
    found = [e for e in entries if e.get("client") == client]
    if not found:
        raise ClientsError(f"no client {client!r} in the file")
    digests = found[0]["token_sha256"]
    found[0]["token_sha256"] = [*([digests] if isinstance(digests, str) else digests), digest(token)]
    return _checked({**doc, "clients": entries})


def revoke(doc: Doc, client: str, digest_prefix: str | None = None) -> Doc:
    """Without `digest_prefix`: the client is removed. With it: only its tokens whose digest starts
    so (at least 8 hex characters, one or more tokens; the client keeps at least one)."""
    entries = _entries(doc)
    found = [e for e in entries if e.get("client") == client]
    if not found:
        raise ClientsError(f"no client {client!r} in the file")
    if digest_prefix is None:
        return _checked({**doc, "clients": [e for e in entries if e.get("client") != client]})
    if len(digest_prefix) < 8:
        raise ClientsError("give at least 8 characters of the digest (`list` shows them)")
    digests = found[0]["token_sha256"]
    digests = [digests] if isinstance(digests, str) else digests
    kept = [d for d in digests if not d.startswith(digest_prefix.lower())]
    if len(kept) == len(digests):
        raise ClientsError(f"client {client!r} has no token whose digest starts {digest_prefix!r}")
    if not kept:
        raise ClientsError(f"that is every token of {client!r}: revoke the client instead (no --digest)")
    found[0]["token_sha256"] = kept
    return _checked({**doc, "clients": entries})


def listing(doc: Doc) -> list[dict[str, Any]]:
    """Each client without secrets: scopes, store, rate, and the first 12 characters of each digest."""
    clients = clients_from_json(json.dumps(doc))
    return [{"client": c.name, "scopes": sorted(c.scopes), "store": c.store, "rate_per_s": c.rate_per_s,
             "tokens": [d[:12] for d in c.token_digests]} for c in sorted(clients.by_name.values(),
                                                                          key=lambda c: c.name)]

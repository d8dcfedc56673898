"""The demo's HTTP API clients: minted on its first run, one per caller, kept under .run/demo.

The worker reads the digests (`clients.json`, written as `python -m ops.tokens add` writes it);
the demo keeps the tokens themselves beside it (`tokens.json`, mode 0600) so a second run can
call the services the first one started, and a curl headers file per client for the commands
it prints (`curl -H @.run/demo/demo-web.headers ...`). A local demo's secrets, never a deployment's.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from domain import clients_file
from domain.access import ClientsError, clients_from_json
from ops import tokens as token_file
from settings import REPO_ROOT

DIR = REPO_ROOT / ".run" / "demo"
CLIENTS_FILE = DIR / "clients.json"
TOKENS_FILE = DIR / "tokens.json"
WEB, TILL_STORE, DASHBOARD = "demo-web", "st-001", "demo-dashboard"
TILL = f"demo-till-{TILL_STORE}"
CLIENTS: dict[str, tuple[list[str], str | None]] = {  # client -> (scopes, store)
    WEB: (["web"], None),  # the demo's own calls: the web checkout's holds, wallets, baskets, orders
    TILL: (["till"], TILL_STORE),  # the till story's till: leases for its store
    DASHBOARD: (["backoffice"], None),  # the dashboard's reads of the worker, and the person's login
}


@dataclass(frozen=True)
class DemoClients:
    tokens: dict[str, str]
    fresh: bool  # minted on this run: services started before must restart to know them

    def env(self, client: str) -> dict[str, str]:
        """What a process calling as `client` needs (OMNI_HTTP_CLIENT/TOKEN)."""
        return {"OMNI_HTTP_CLIENT": client, "OMNI_HTTP_TOKEN": self.tokens[client]}


def ensure() -> DemoClients:
    """The demo's clients: the saved ones when the clients file still accepts every token, else new ones."""
    saved = _saved()
    if saved is not None:
        return DemoClients(saved, fresh=False)
    minted = {client: token_file.mint() for client in CLIENTS}
    doc = clients_file.empty()
    for client, (scopes, store) in CLIENTS.items():
        doc = clients_file.add(doc, client, scopes, minted[client], store)
    token_file.write(CLIENTS_FILE, doc)
    _private(TOKENS_FILE, json.dumps(minted, indent=2) + "\n")
    for client, token in minted.items():
        _private(DIR / f"{client}.headers", f"X-Client: {client}\nAuthorization: Bearer {token}\n")
    return DemoClients(minted, fresh=True)


def _saved() -> dict[str, str] | None:
    try:
        known = clients_from_json(CLIENTS_FILE.read_text(), str(CLIENTS_FILE))
        saved = json.loads(TOKENS_FILE.read_text())
    except (OSError, ValueError, ClientsError):
        return None
    for client in CLIENTS:
        entry = known.get(client)
        if not isinstance(saved, dict) or entry is None or not entry.holds_token(str(saved.get(client, ""))):
            return None
    return {client: str(saved[client]) for client in CLIENTS}


def _private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, 0o600)

"""The clients file's CLI: mint, rotate and revoke HTTP API client tokens; list clients without secrets.

    python -m ops.tokens add CLIENT --scopes till[,web] [--store store-0042] [--rate 50] [--file PATH]
    python -m ops.tokens rotate CLIENT [--file PATH]
    python -m ops.tokens revoke CLIENT [--digest PREFIX] [--file PATH]
    python -m ops.tokens list [--file PATH]

`add` and `rotate` print the new token once, on stdout: only its SHA-256 digest is written. The
file (default OMNI_CLIENTS_FILE) is written whole to a temporary file and renamed, mode 0600.
Workers read it at start: restart them (one at a time) after a change.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

from domain import clients_file
from domain.access import ClientsError
from settings import Settings

TOKEN_BYTES = 32


def mint() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def read(path: Path) -> clients_file.Doc:
    return clients_file.parse(path.read_text(), str(path)) if path.exists() else clients_file.empty()


def write(path: Path, doc: clients_file.Doc) -> None:
    """The whole file, mode 0600, replaced at once: a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # A new file only (never one planted there, nor a link to one): O_EXCL and O_NOFOLLOW.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(clients_file.dump(doc))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    os.chmod(path, 0o600)


def add_client(path: Path, client: str, scopes: list[str], store: str | None = None,
               rate_per_s: float | None = None) -> str:
    """Adds `client` to the file at `path` and returns its new token (the only time it is seen)."""
    token = mint()
    write(path, clients_file.add(read(path), client, scopes, token, store, rate_per_s))
    return token


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    file = args.file or Settings.from_env().clients_file
    if not file:
        print("no clients file: give --file PATH or set OMNI_CLIENTS_FILE", file=sys.stderr)
        return 2
    path = Path(file)
    try:
        if args.command == "add":
            scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
            print(add_client(path, args.client, scopes, args.store, args.rate))
        elif args.command == "rotate":
            token = mint()
            write(path, clients_file.rotate(read(path), args.client, token))
            print(token)
        elif args.command == "revoke":
            write(path, clients_file.revoke(read(path), args.client, args.digest))
        else:
            for entry in clients_file.listing(read(path)):
                print(json.dumps(entry))
    except ClientsError as err:
        print(f"{path}: {err}", file=sys.stderr)
        return 1
    if args.command in ("add", "rotate"):
        print(f"{args.client}: token printed above, written to {path} as its SHA-256 only; "
              "restart the workers to load it", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops.tokens", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="a new client and its first token")
    add.add_argument("client")
    add.add_argument("--scopes", required=True, help="comma separated: till, web, app, backoffice, operator")
    add.add_argument("--store", help="the store a till client acts for (required with till)")
    add.add_argument("--rate", type=float, help="requests/s on the rate-limited routes (default OMNI_HTTP_RATE_PER_S)")
    rotate = commands.add_parser("rotate", help="one more token for a client; its old ones stay valid")
    rotate.add_argument("client")
    revoke = commands.add_parser("revoke", help="remove a client, or one of its tokens (--digest)")
    revoke.add_argument("client")
    revoke.add_argument("--digest", help="the start of the token's digest, as `list` shows it")
    commands.add_parser("list", help="clients, scopes, stores and digest prefixes: no secrets")
    for sub in (add, rotate, revoke, commands.choices["list"]):
        sub.add_argument("--file", help="the clients file (default OMNI_CLIENTS_FILE)")
    return parser


if __name__ == "__main__":
    sys.exit(main())

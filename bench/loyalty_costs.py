"""What one wallet command costs in Omnistream's own code, without Kafka or Faust: decode, load, apply, save, post.

Timed in this process on the agent's code paths (`agents/wallets.py`: the codec,
`domain.wallet_log.apply`, the wallet's JSON, `posting`), for a wallet that already holds
`lots` lots. The worker's measured CPU per command minus this sum is what the Faust and
Kafka client machinery costs per command.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bench.hold_costs import _us
from bench.loyalty_workload import earns, holds
from domain.wallet import Wallet
from domain.wallet_log import apply, posting
from streams.codec import decode, encode
from streams.topics import LOYALTY_COMMANDS

MAX_BYTES = 1 << 20


def wallet_with(lots: int, now: datetime) -> Wallet:
    """Customer 0 of run "cost" after `lots` earns of 1,000 points, as the agent leaves it."""
    wallet: Wallet | None = None
    for offset, command in enumerate(earns("cost", 0, lots, 1, 1_000, now)):
        earn = decode(LOYALTY_COMMANDS, command.value, MAX_BYTES)
        wallet = apply(wallet or Wallet(customer_id=earn.customer_id), earn, offset).wallet
    assert wallet is not None
    return wallet


def costs_us(lots: int, repeat: int = 200) -> dict[str, dict[str, float]]:
    """Microseconds per step of an earn and of a hold, on a wallet with `lots` lots; and its size."""
    now = datetime.now(UTC)
    wallet = wallet_with(max(lots, 1), now)
    raw_wallet = wallet.model_dump_json(exclude_defaults=True).encode()
    offset = wallet.applied_offset + 1
    commands = {"earn": next(earns("cost", lots, 1, 1, 1_000, now)).value, "hold": holds("cost", 0, 1, 1, now)[0].value}
    result: dict[str, dict[str, float]] = {}
    for kind, raw in commands.items():
        command = decode(LOYALTY_COMMANDS, raw, MAX_BYTES)
        out = apply(wallet, command, offset)
        steps: dict[str, Callable[[], object]] = {
            "decode": lambda raw=raw: decode(LOYALTY_COMMANDS, raw, MAX_BYTES),  # type: ignore[misc]
            "load wallet": lambda: Wallet.model_validate_json(raw_wallet),
            "apply": lambda command=command: apply(wallet, command, offset),  # type: ignore[misc]
            "save wallet": lambda out=out: out.wallet.model_dump_json(exclude_defaults=True).encode(),  # type: ignore[misc]
            "encode posting + answer": lambda command=command, out=out: (  # type: ignore[misc]
                encode(p) if out.entries and (p := posting(command, out)) is not None else b"",
                encode(out.answer) if out.answer else b""),
        }
        costs = {name: round(_us(step, repeat), 1) for name, step in steps.items()}
        costs["total"] = round(sum(costs.values()), 1)
        costs["wallet bytes"] = len(raw_wallet)
        result[kind] = costs
    return result


def describe(kind: str, costs: dict[str, float]) -> str:
    parts = ", ".join(f"{name} {value:.0f}" for name, value in costs.items() if name not in ("total", "wallet bytes"))
    return f"{kind} {costs['total']:.0f} us ({parts}); wallet {costs['wallet bytes'] / 1000:.1f} KB"

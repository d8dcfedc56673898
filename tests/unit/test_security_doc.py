"""docs/security.md's route table is the route policy of domain/access.py, row for row."""

from __future__ import annotations

from pathlib import Path

from domain.access import POLICY, SCOPES

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def policy_rows() -> list[str]:
    rows = []
    for (method, route), rule in POLICY.items():
        scopes = ", ".join(s for s in SCOPES if s in rule.scopes) or "open"
        flags = [name for name, on in (("audited", rule.changes), ("rate-limited", rule.limited),
                                       ("customer data", rule.customer_data)) if on]
        rows.append(f"| `{method} {route}` | {scopes} | {', '.join(flags) or '-'} |")
    return rows


def test_the_route_table_of_the_security_doc_is_the_policy() -> None:
    text = DOC.read_text()
    table = text.split("<!-- routes:begin -->")[1].split("<!-- routes:end -->")[0].strip().splitlines()[2:]
    assert table == policy_rows()

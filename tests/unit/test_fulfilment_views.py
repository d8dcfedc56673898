"""Fulfilment's views on an in-memory DuckDB: node kinds from the network, the daily summary, re-sourcings."""

from __future__ import annotations

from streams.pos import PosSale, SaleLine, Tender
from tests.unit.fulfilment_factories import AT, ledger, model, node_defined, placed, project


def sale(node: str) -> PosSale:
    return PosSale(event_id=f"s-{node}", occurred_at=AT, source_node=node, receipt_id="r1", terminal_id="t1",
                   cashier_id="k1", lines=[SaleLine(line_no=1, sku="SKU-001", quantity=1, unit_price_cents=500)],
                   tenders=[Tender(method="card", amount_cents=500)])


def test_a_nodes_kind_comes_from_the_network_and_is_guessed_from_its_id_only_when_never_defined() -> None:
    con = model()
    project(con, [
        node_defined("store-0042", "store", name="Utrecht Centraal"), sale("store-0042"),
        node_defined("dc-north", "warehouse"), ledger(1, "SKU-001", "dc-north", "receipt", 5, 5),
        node_defined("st-009", "dark_store"),  # its id says store; the network says otherwise
        node_defined("wh-02", "warehouse"), node_defined("wh-02", "dark_store", version=2),  # the highest version
        sale("st-001"), placed("or-1", node="wh-01"),  # never defined
    ])
    got = con.execute("select node, kind, kind_source, name from dim_node").fetchall()
    assert got == [
        ("dc-north", "warehouse", "network", ""),
        ("st-001", "store", "guessed", None),
        ("st-009", "dark_store", "network", ""),
        ("store-0042", "store", "network", "Utrecht Centraal"),
        ("web", "web", "guessed", None),
        ("wh-01", "warehouse", "guessed", None),
        ("wh-02", "dark_store", "network", ""),
    ]

"""The bench's write-unit rules (bench/units.py) on the template's own table and indexes."""

from __future__ import annotations

from bench.units import Indexes, item_size


def item(sk: str, size: int, **attributes: str) -> dict[str, dict[str, str]]:
    base = {"PK": {"S": "BIZ#b"}, "SK": {"S": sk}, **{k: {"S": v} for k, v in attributes.items()}}
    return {**base, "pad": {"S": "x" * (size - item_size(base) - len("pad"))}}


def test_a_new_item_outside_every_index_costs_a_unit_per_started_kilobyte() -> None:
    assert Indexes().write_units(None, item("A", 1024)) == 1
    assert Indexes().write_units(None, item("A", 1025)) == 2


def test_an_item_in_an_index_with_every_attribute_projected_pays_its_size_again() -> None:
    new = item("A", 3000, GSI1PK="p", GSI1SK="s")
    assert Indexes().write_units(None, new) == 3 + 3


def test_moving_an_index_key_is_a_delete_and_a_put_on_the_index() -> None:
    old, new = item("A", 2000, GSI1PK="p", GSI1SK="1"), item("A", 2000, GSI1PK="p", GSI1SK="2")
    assert Indexes().write_units(old, new) == 2 + 2 + 2


def test_an_unchanged_index_entry_costs_nothing_on_its_index() -> None:
    # GSI6 projects a few attributes: a change outside them does not rewrite its entry.
    old = item("A", 1500, GSI6PK="p", GSI6SK="s", status="open")
    new = {**old, "notes": {"S": "changed"}}
    assert Indexes().write_units(old, new) == 2

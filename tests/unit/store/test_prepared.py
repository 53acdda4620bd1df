"""`store.prepared.prepare`: the rows a page becomes, built without a database."""

from __future__ import annotations

import orjson

from syncline.domain.ids import record_id
from syncline.domain.permissions import Access, Grant, Relation
from syncline.domain.records import Upsert, record_hash
from syncline.store.permissions import access_digest, item_tuples
from syncline.store.prepared import prepare

SYNC = "6f1b7a52-3c1e-5e0a-9d43-2a1c5b7e9f10"


def test_prepare_builds_what_the_store_writes():
    """Each item gets its record id, hash, JSON fields, access digest and tuples, as the
    store's own functions compute them; the page notes the drives and groups it names."""
    grants = (Grant(Relation.VIEWER, "group:eng@example.com"), Grant(Relation.OWNER, "user:a@x"))
    item = Upsert("f1", {"name": "a", "size": 3}, False, ("p1",), Access(grants, "d1"))

    page = prepare(SYNC, [item, Upsert("f2", {})])

    first, second = page.items
    rid = record_id(SYNC, "f1")
    assert (rid, record_hash(item.data)) == (first.record_id, first.hash)
    assert {"name": "a", "size": 3} == orjson.loads("{" + first.fields + "}")
    assert access_digest(item) == first.access_hash
    assert tuple(item_tuples(SYNC, rid, item)) == first.tuples
    assert (None, (), "") == (second.access_hash, second.tuples, second.fields)
    assert frozenset({"d1"}) == page.containers
    assert frozenset({"eng@example.com"}) == page.groups


def test_a_repeated_item_keeps_its_last_version():
    """An upstream page that lists an item twice yields one row, with the later data."""
    page = prepare(SYNC, [Upsert("f", {"v": 1}), Upsert("g", {}), Upsert("f", {"v": 2})])

    assert ["f", "g"] == [item.external_id for item in page.items]
    assert '"v":2' == page.items[0].fields

"""The chain's verifier on raw rows, pure: its fast encoding (orjson) and its exact one (json, as the events were
hashed) agree on what verifies, every break is listed, and a retired key's stretch never follows a newer one's."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.core import chain

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(), lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
field_text = st.text(max_size=30)
events = st.lists(st.tuples(field_text, field_text, json_values), min_size=1, max_size=8)


def _rows(items, keys_per_event):
    """Raw rows of a chain hashed the way portal.core.audit.record hashes (the independent model)."""
    rows, previous = [], chain.GENESIS
    for sequence, ((action, label, data), key) in enumerate(zip(items, keys_per_event), start=1):
        fields = {"occurred_at": "2026-12-01T10:00:00.000001+00:00", "actor": "system", "action": action,
                  "target_type": "t", "target_id": str(sequence), "target_label": label, "data": data}
        digest = chain.event_hash(previous, fields, chain.chain_key(key))
        rows.append((sequence, fields["occurred_at"], "system", action, "t", str(sequence), label,
                     json.dumps(data), previous, digest))
        previous = digest
    return rows


@settings(max_examples=150, deadline=None)
@given(events)
def test_any_chain_hashed_as_recorded_verifies(items):
    result = chain.verify_rows(_rows(items, ["k"] * len(items)), ["k"], chain.GENESIS)
    assert result.broken == [] and result.checked == len(items)


@settings(max_examples=100, deadline=None)
@given(events, st.data())
def test_a_changed_field_breaks_that_event_only(items, data):
    rows = _rows(items, ["k"] * len(items))
    at = data.draw(st.integers(0, len(rows) - 1))
    row = list(rows[at])
    row[6] = row[6] + "x"  # the target label
    rows[at] = tuple(row)
    assert chain.verify_rows(rows, ["k"], chain.GENESIS).broken == [chain.BrokenLink(at + 1, chain.HASH)]


def test_every_removed_and_rewritten_event_is_listed():
    rows = _rows([("a", "", {"i": i}) for i in range(8)], ["k"] * 8)
    del rows[5]  # event 6: the link of event 7 breaks
    rows[1] = rows[1][:7] + ('{"i": 99}',) + rows[1][8:]  # event 2 rewritten
    assert chain.verify_rows(rows, ["k"], chain.GENESIS).broken == [
        chain.BrokenLink(2, chain.HASH), chain.BrokenLink(7, chain.LINK)]


def test_stretches_of_retired_keys_verify_in_order_only():
    keys = ["old", "new"]
    assert chain.verify_rows(_rows([("a", "", {})] * 4, ["old", "old", "new", "new"]), keys, chain.GENESIS
                             ).broken == []
    back = chain.verify_rows(_rows([("a", "", {})] * 4, ["old", "new", "old", "new"]), keys, chain.GENESIS)
    assert back.broken == [chain.BrokenLink(3, chain.HASH)]

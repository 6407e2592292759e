"""json_safe converts lists and string-keyed objects without a JSON round trip; the
result must be exactly what the round trip through Django's encoder gives."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.services.common import json_safe

LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.dates(),
    st.datetimes(),
    st.uuids(),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
        st.dictionaries(st.integers(), inner, max_size=3),
    ),
    max_leaves=15,
)


@settings(deadline=None, max_examples=300)
@given(VALUES)
def test_json_safe_is_the_json_round_trip(value):
    expected = json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    got = json_safe(value)
    assert got == expected
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)

"""The parent/worker channel: values round-trip as plain data; the parent refuses anything else."""
from __future__ import annotations

import math
import struct

import pytest

from measure import wire


@pytest.mark.parametrize("value", [
    None, True, 0, -7, 2**100, -(2**70), 1.5, "text", [1, [2, 3]], (1, (2, "x")), {"a": [1, 2]}, {1: "one", (2, 3): None},
    {3, 1, 2}, frozenset({"a", "b"}), b"\x00\xff", bytearray(b"ab"), 1 + 2j, {"$not_a_tag": 1, "b": 2},
])
def test_plain_values_round_trip(value):
    back = wire.decode_value(wire.encode_value(value))
    assert back == value and type(back) in (type(value), bytes)


def test_non_finite_floats_round_trip():
    assert wire.decode_value(wire.encode_value(float("inf"))) == float("inf")
    assert math.isnan(wire.decode_value(wire.encode_value(float("nan"))))


def test_sets_encode_in_a_deterministic_order():
    assert wire.encode_value({3, 1, 2}) == wire.encode_value({2, 3, 1}) == {"$set": [1, 2, 3]}


def test_arbitrary_objects_are_not_plain_data():
    with pytest.raises(wire.WireError, match="type object"):
        wire.encode_value(object())


def test_the_parent_never_unpickles_what_the_worker_sends():
    import fractions
    encoded = wire.encode_value(fractions.Fraction(1, 3), allow_pickle=True)
    assert "$pickle" in encoded
    with pytest.raises(wire.WireError, match="forbidden tag"):
        wire.decode_value(encoded)


def test_unknown_tags_are_refused():
    with pytest.raises(wire.WireError):
        wire.decode_value({"$eval": "__import__('os')"})


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def test_frames_split_across_reads_are_reassembled():
    r = wire.FrameReader()
    data = frame(b'{"t":"a"}') + frame(b'{"t":"b","x":1}')
    assert r.feed(data[:5]) == []
    assert r.feed(data[5:]) == [{"t": "a"}, {"t": "b", "x": 1}]


@pytest.mark.parametrize("body", [b"not json", b"[1,2]", b'{"x":1}', b'{"t":NaN}', b"\xff\xfe"])
def test_malformed_frames_are_refused(body):
    with pytest.raises(wire.WireError):
        wire.FrameReader().feed(frame(body))


def test_oversized_frame_lengths_are_refused_before_reading_the_body():
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.FrameReader().feed(struct.pack(">I", wire.MAX_FRAME + 1))


def test_huge_ints_travel_as_hex_beyond_the_decimal_digit_limit():
    big = 7 ** 20000  # about 16,900 decimal digits: str() would refuse it under Python's default limit
    assert wire.encode_value(big) == {"$int": hex(big)}
    assert wire.decode_value(wire.encode_value(big)) == big
    assert wire.encode_value(2**63) == 2**63


def test_a_malformed_int_tag_is_refused():
    with pytest.raises(wire.WireError):
        wire.decode_value({"$int": "12345"})

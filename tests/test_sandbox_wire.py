"""The wire between grader and sandbox carries data, never code, and survives hostile bytes."""

import io
import os
import pickle
import struct

import numpy as np
import pytest

from rnncore.grading.sandbox import wire


def roundtrip(value, keep=None, resolve=None):
    kept = {}

    def keep_fn(obj):
        kept[id(obj)] = obj
        return id(obj)

    frame = wire.encode({"op": "x"}, {"v": value}, "sandbox", keep or keep_fn)
    r, w = os.pipe()
    try:
        wire.write_all(w, frame)
        reader = wire.FrameReader(r)
        while (got := reader.frame()) is None:
            assert reader.fill()
    finally:
        os.close(r)
        os.close(w)
    header, blobs = got
    return wire.decode(header, blobs, resolve or (lambda owner, i: wire.Ref(owner, i)))["v"], kept


def test_values_come_back_equal_and_of_the_same_types():
    rng = np.random.default_rng(3)
    value = {
        "x": rng.normal(size=(3, 4)),
        "ids": np.arange(6, dtype=np.int32).reshape(2, 3),
        "f32": np.ones(2, dtype=np.float32),
        "scalar": np.float64(2.5),
        "n": 7,
        "f": 0.1,
        "nan": float("nan"),
        "t": (1, [2, "three"], None, True),
        ("tuple", "key"): "value",
        "text": "héllo",
    }
    back, _ = roundtrip(value)
    assert back.keys() == value.keys()
    np.testing.assert_array_equal(back["x"], value["x"])
    assert back["ids"].dtype == np.int32 and back["f32"].dtype == np.float32
    assert isinstance(back["scalar"], np.float64) and back["scalar"] == 2.5
    assert type(back["n"]) is int and type(back["f"]) is float and np.isnan(back["nan"])
    assert back["t"] == (1, [2, "three"], None, True) and type(back["t"]) is tuple
    assert back[("tuple", "key")] == "value" and back["text"] == "héllo"


def test_a_fortran_ordered_or_non_contiguous_array_keeps_its_values():
    a = np.asfortranarray(np.arange(12.0).reshape(3, 4))[:, ::2]
    back, _ = roundtrip(a)
    np.testing.assert_array_equal(back, a)


def test_a_generator_travels_by_state_and_draws_the_same_numbers():
    rng = np.random.default_rng(42)
    rng.normal(size=5)
    back, _ = roundtrip(rng)
    assert back is not rng
    np.testing.assert_array_equal(back.normal(size=4), rng.normal(size=4))


def test_objects_that_are_not_data_stay_behind_a_reference():
    class Cache:
        pass

    cache, fn = Cache(), lambda x: x
    back, kept = roundtrip((cache, fn, np.array([object()], dtype=object)))
    assert all(isinstance(b, wire.Ref) for b in back)
    assert kept[back[0].id] is cache and kept[back[1].id] is fn


def frame_from(header: dict, blobs=()) -> bytes:
    return wire.pack(header, blobs)


def read(frame: bytes):
    r, w = os.pipe()
    try:
        os.write(w, frame)
        os.close(w)
        w = None
        reader = wire.FrameReader(r)
        while (got := reader.frame()) is None:
            if not reader.fill():
                raise EOFError
        header, blobs = got
        return wire.decode(header, blobs, lambda owner, i: wire.Ref(owner, i))
    finally:
        os.close(r)
        if w is not None:
            os.close(w)


def npy(array, **kwargs) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **kwargs)
    return buffer.getvalue()


def test_a_pickle_is_never_unpickled():
    evil = npy(np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError, match="not allowed"):
        read(frame_from({"$v": {"v": {"$nd": 0}}, "$blobs": 1}, [evil]))
    raw_pickle = pickle.dumps(print)
    with pytest.raises(wire.WireError):
        read(frame_from({"$v": {"v": {"$nd": 0}}, "$blobs": 1}, [raw_pickle]))


def test_a_lying_npy_header_is_refused_before_anything_is_allocated():
    # claims 10^12 float64 entries (8 TB) with 8 bytes of data
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    header += b" " * (118 - len(header)) + b"\n"
    lying = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\0" * 8
    with pytest.raises(wire.WireError, match="does not match"):
        read(frame_from({"$v": {"v": {"$nd": 0}}, "$blobs": 1}, [lying]))


@pytest.mark.parametrize(
    "tree",
    [
        [1, 2],  # an untagged list
        {"a": 1, "b": 2},  # an untagged object
        {"$eval": "__import__('os')"},
        {"$nd": 5},  # a blob that is not there
        {"$rng": {"bit_generator": "os.system", "state": {}}},
        {"$dict": [[{"$list": []}, 1]]},  # an unhashable key
        {"$ref": ["grader", "x"]},
    ],
)
def test_malformed_trees_raise_wire_errors(tree):
    with pytest.raises(wire.WireError):
        read(frame_from({"$v": {"v": tree}, "$blobs": 0}))


def test_deep_nesting_and_huge_frames_are_refused():
    deep = {"$list": []}
    for _ in range(wire.MAX_DEPTH + 5):
        deep = {"$list": [deep]}
    with pytest.raises(wire.WireError, match="deeply"):
        read(frame_from({"$v": {"v": deep}, "$blobs": 0}))
    reader = wire.FrameReader(0, limit=1000)
    reader.buffer += struct.pack(">Q", 10**9)
    with pytest.raises(wire.WireError, match="too large"):
        reader.frame()

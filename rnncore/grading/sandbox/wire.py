"""The wire between the grader and the sandbox: data only, never code or pickles.

A message is one frame::

    8-byte big-endian length of the header | header (UTF-8 JSON) |
    for each blob: 8-byte length | bytes

The header is a JSON object; the values it carries sit under its key
``"$v"``, each a JSON tree. Plain JSON carries ``None``, ``bool``, ``int``,
``float`` (NaN and infinities included) and ``str``; tagged objects
(one-key dicts whose key starts with ``$``) carry the rest:

``{"$nd": k}``      an ndarray, blob ``k`` holding its ``.npy`` bytes
``{"$np": k}``      a NumPy scalar (a 0-d ``.npy`` in blob ``k``)
``{"$list": [...]}``, ``{"$tuple": [...]}``, ``{"$dict": [[key, value], ...]}``
``{"$rng": {"bit_generator": name, "state": {...}}}``  a ``np.random.Generator``
``{"$ref": [owner, id]}``  an object that stays with its owner (``"sandbox"``:
the student's cache; ``"grader"``: a function or object of the grader's that
the student's code may call back)

Decoding never unpickles (``np.load(..., allow_pickle=False)``), refuses
object, structured and void dtypes, checks every ``.npy`` header against the
size of its blob *before* allocating, and bounds frames, blobs and nesting, so
a hostile peer can make the reader raise :class:`WireError`, nothing else.

This file imports only the standard library and NumPy: the sandbox loads it as
a plain module, without rnncore.
"""

from __future__ import annotations

import io
import json
import os
import struct

import numpy as np

MAX_FRAME = 512 * 1024 * 1024  # bytes in one message
MAX_BLOBS = 200_000
MAX_DEPTH = 64
_ALLOWED_KINDS = "biufcUS"  # bool, ints, floats, complex, str, bytes: no object or void
_LENGTH = struct.Struct(">Q")


class WireError(Exception):
    """A message that is malformed, too large or not data."""


class Ref:
    """An object that stays in its owner's process: ``owner`` is "sandbox" or "grader"."""

    __slots__ = ("owner", "id")

    def __init__(self, owner: str, id: int):
        self.owner, self.id = owner, id

    def __repr__(self) -> str:
        return f"<object kept by the {self.owner} #{self.id}>"


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array) if array.ndim else array, allow_pickle=False)
    return buffer.getvalue()


def _read_npy(blob: bytes) -> np.ndarray:
    """An ndarray from ``.npy`` bytes, its header checked before anything is allocated."""
    stream = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(stream)
        header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = header(stream)
    except Exception as err:  # noqa: BLE001 - any malformed header is one error to us
        raise WireError(f"bad .npy header: {err}") from None
    if dtype.kind not in _ALLOWED_KINDS or dtype.fields is not None:
        raise WireError(f"dtype {dtype} is not allowed on the wire")
    count = 1
    for size in shape:
        count *= int(size)
    if count * dtype.itemsize != len(blob) - stream.tell():
        raise WireError("the .npy header does not match the size of its data")
    return (
        np.frombuffer(blob, dtype=dtype, offset=stream.tell())
        .reshape(shape, order="F" if fortran else "C")
        .copy()
    )


class Encoder:
    """Turns a value into a JSON tree plus blobs; ``keep(obj) -> id`` stores what is not data."""

    def __init__(self, owner: str, keep):
        self.owner, self.keep, self.blobs = owner, keep, []

    def _blob(self, data: bytes) -> int:
        self.blobs.append(data)
        return len(self.blobs) - 1

    def tree(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise WireError("value nested too deeply")
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float)) and type(value) in (int, float):
            return value
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in _ALLOWED_KINDS or value.dtype.fields is not None:
                return {"$ref": [self.owner, self.keep(value)]}
            return {"$nd": self._blob(_npy_bytes(value))}
        if isinstance(value, np.generic) and np.dtype(type(value)).kind in _ALLOWED_KINDS:
            return {"$np": self._blob(_npy_bytes(np.asarray(value)))}
        if isinstance(value, Ref):
            return {"$ref": [value.owner, value.id]}
        if isinstance(value, np.random.Generator):
            bit_generator = value.bit_generator
            return {
                "$rng": {
                    "bit_generator": type(bit_generator).__name__,
                    "state": bit_generator.state,
                }
            }
        if type(value) is list:
            return {"$list": [self.tree(v, depth + 1) for v in value]}
        if type(value) is tuple:
            return {"$tuple": [self.tree(v, depth + 1) for v in value]}
        if type(value) is dict:
            return {
                "$dict": [
                    [self.tree(k, depth + 1), self.tree(v, depth + 1)] for k, v in value.items()
                ]
            }
        return {"$ref": [self.owner, self.keep(value)]}


class Decoder:
    """Turns a JSON tree plus blobs back into values; ``resolve(owner, id)`` maps references."""

    def __init__(self, blobs, resolve):
        self.blobs, self.resolve = blobs, resolve

    def _blob(self, k):
        if type(k) is not int or not 0 <= k < len(self.blobs):
            raise WireError("bad blob reference")
        return self.blobs[k]

    def value(self, tree, depth: int = 0):
        if depth > MAX_DEPTH:
            raise WireError("value nested too deeply")
        if tree is None or isinstance(tree, (bool, int, float, str)):
            return tree
        if type(tree) is list:  # plain JSON arrays are not produced by Encoder
            raise WireError("untagged list")
        if type(tree) is not dict or len(tree) != 1:
            raise WireError("untagged object")
        ((tag, body),) = tree.items()
        if tag == "$nd":
            return _read_npy(self._blob(body))
        if tag == "$np":
            array = _read_npy(self._blob(body))
            if array.ndim:
                raise WireError("a scalar must be 0-d")
            return array[()]
        if tag in ("$list", "$tuple"):
            if type(body) is not list:
                raise WireError(f"{tag} needs a list")
            items = [self.value(v, depth + 1) for v in body]
            return items if tag == "$list" else tuple(items)
        if tag == "$dict":
            if type(body) is not list:
                raise WireError("$dict needs a list of pairs")
            out = {}
            for pair in body:
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("$dict needs pairs")
                key = self.value(pair[0], depth + 1)
                try:
                    out[key] = self.value(pair[1], depth + 1)
                except TypeError:
                    raise WireError("unhashable dict key") from None
            return out
        if tag == "$rng":
            return _generator(body)
        if tag == "$ref":
            if type(body) is not list or len(body) != 2 or type(body[1]) is not int:
                raise WireError("bad reference")
            return self.resolve(str(body[0]), body[1])
        raise WireError(f"unknown tag {tag!r}")


def _generator(body) -> np.random.Generator:
    if type(body) is not dict:
        raise WireError("bad generator")
    name = body.get("bit_generator")
    if name not in ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937"):
        raise WireError(f"unknown bit generator {name!r}")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = body.get("state")
    except Exception as err:  # noqa: BLE001
        raise WireError(f"bad generator state: {err}") from None
    return np.random.Generator(bit_generator)


def pack(header: dict, blobs) -> bytes:
    """One frame from a header dict and its blobs."""
    text = json.dumps(header, allow_nan=True, separators=(",", ":")).encode()
    parts = [_LENGTH.pack(len(text)), text]
    for blob in blobs:
        parts += [_LENGTH.pack(len(blob)), blob]
    return b"".join(parts)


def encode(header: dict, values: dict, owner: str, keep) -> bytes:
    """A frame: ``header`` (plain JSON) with each of ``values`` encoded under its key."""
    encoder = Encoder(owner, keep)
    body = dict(header)
    body["$v"] = {key: encoder.tree(value) for key, value in values.items()}
    body["$blobs"] = len(encoder.blobs)
    return pack(body, encoder.blobs)


def decode(header: dict, blobs, resolve) -> dict:
    """The values a frame carries (what :func:`encode` put under its keys)."""
    trees = header.get("$v", {})
    if type(trees) is not dict:
        raise WireError("bad values")
    decoder = Decoder(blobs, resolve)
    return {str(k): decoder.value(v) for k, v in trees.items()}


class FrameReader:
    """Reads frames from a file descriptor, as they come, so the caller can poll with a deadline."""

    def __init__(self, fd: int, limit: int = MAX_FRAME):
        self.fd, self.limit, self.buffer = fd, limit, bytearray()

    def _need(self):
        """Bytes still missing for one whole frame (0: a frame is ready), or raise."""
        buf = self.buffer
        if len(buf) < 8:
            return 8 - len(buf)
        (size,) = _LENGTH.unpack_from(buf, 0)
        if size > self.limit:
            raise WireError("message too large")
        pos = 8 + size
        if len(buf) < pos:
            return pos - len(buf)
        try:
            header = json.loads(bytes(buf[8:pos]))
        except (ValueError, RecursionError) as err:
            raise WireError(f"bad header: {err}") from None
        if type(header) is not dict:
            raise WireError("header must be an object")
        count = header.get("$blobs", 0)
        if type(count) is not int or not 0 <= count <= MAX_BLOBS:
            raise WireError("bad blob count")
        for _ in range(count):
            if len(buf) < pos + 8:
                return pos + 8 - len(buf)
            (size,) = _LENGTH.unpack_from(buf, pos)
            if pos + 8 + size > self.limit:
                raise WireError("message too large")
            pos += 8 + size
            if len(buf) < pos:
                return pos - len(buf)
        return 0

    def fill(self) -> bool:
        """Read what is available once (after a poll said so); False at end of file."""
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def frame(self):
        """``(header, blobs)`` if a whole frame is buffered, else None."""
        if self._need():
            return None
        buf = self.buffer
        (size,) = _LENGTH.unpack_from(buf, 0)
        header = json.loads(bytes(buf[8 : 8 + size]))
        pos, blobs = 8 + size, []
        for _ in range(header.get("$blobs", 0)):
            (n,) = _LENGTH.unpack_from(buf, pos)
            blobs.append(bytes(buf[pos + 8 : pos + 8 + n]))
            pos += 8 + n
        del buf[:pos]
        return header, blobs


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]

"""The parent/worker channel: length-prefixed JSON frames, and a value codec.

Standard library only, and importable by itself: the worker copies this file beside itself and
runs under any CPython >= 3.9. Values travel as JSON with a few tagged forms for what JSON lacks
(tuples, sets, bytes, non-finite floats, dicts with non-string keys). The parent decodes with
``trusted=False``: anything unknown is a :class:`WireError`, never evaluated or unpickled. Only
inputs going *to* the worker may use the ``$pickle`` form (they come from the caller, not from a
candidate).

The protocol (the parent's side is measure/sandbox/session.py, the worker's worker.py and the
job and fork servers in workerlib.c). A worker is a job server: one start of the interpreter
(and of its emulator) for any number of jobs, each measured in a process the server forks from
the same state. On the shared channel (``>`` from the worker, ``<`` the parent's answers):

    < worker {mode}
    > ready {pid}                  < r   (the backend's log is sealed; the candidate may run)
    then for each job (the server's control pipe: < j, the server forks the job's process):
    < job {source, entry, n_inputs, repeat, warmup, start, canary}
    > started {pid}                      (the job's process)
    > start {what: setup}          < g   (perf: counters enabled)
    > end                          < d   (perf: counters disabled)
    > setup {status, ...}          < s   (the setup's counts are read; the next call's input written)
    then for each fork k of the fork server (with an auditing backend, k = 0 is the worker's own
    empty canary call, result {i: -1}), each a fresh fork:
    > start {what: call}           < g   (perf: counters enabled; they stay so until the exit)
    > result {i, r, status, ...}
    > reaped {k, pid, exit, signal}  (from the fork server)   < n   (read; the next call's input
                                                                      written; the directory may go)
                                                              < q   (instead: the job stops here)
    > done
    and on the server's own control pipe, which no job's process holds:
    > jobend {k, pid, exit, signal}  (the job's process reaped, every process it left killed, the
                                      directory emptied: the server waits for the next j)

A call has exactly one start (perf), at most one result, then its reaped frame; any other
order, or a frame the worker never sends, means the candidate wrote to the channel: the call is
``sandbox_violation``. Frames ``start``/``end`` exist only in perf mode. A call's input is the file
``input`` in the worker's directory, written by :meth:`_Worker.release` just before its fork.
"""
import base64
import json
import math
import os
import pickle
import struct

MAX_FRAME = 64 * 1024 * 1024
# First line of the message of a call that raised the built-in OverflowError (ENAMEL breaks a level
# on it). The worker writes it; any other traceback starts with "Traceback" or, cut short, "...".
OVERFLOW_MARK = "OverflowError raised by the call\n"
_BIG = 2 ** 64
_HEADER = struct.Struct(">I")


class WireError(ValueError):
    """A frame or value that does not follow the protocol."""


def _enc(value, allow_pickle):
    # The worker encodes a candidate's return value after its region has ended, so nothing here
    # may run the candidate's code: the type is read with type() (never isinstance(), which can
    # consult a __class__ property), and subclasses are read through the base type's own methods
    # (int.__index__, list.__iter__, dict.items, ...), never through methods they may override.
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if issubclass(t, str):
        return str.__str__(value)
    if issubclass(t, int):
        value = int.__index__(value)
        # beyond 64 bits, hexadecimal: decimal conversion of huge ints is quadratic and capped
        # (sys.set_int_max_str_digits); hex is linear and uncapped
        return value if -_BIG < value < _BIG else {"$int": hex(value)}
    if issubclass(t, float):
        value = float.__float__(value)
        if math.isfinite(value):
            return value
        return {"$float": repr(value)}
    if issubclass(t, list):
        return [_enc(v, allow_pickle) for v in list.__iter__(value)]
    if issubclass(t, tuple):
        return {"$tuple": [_enc(v, allow_pickle) for v in tuple.__iter__(value)]}
    if issubclass(t, (set, frozenset)):
        frozen = issubclass(t, frozenset)
        items = [_enc(v, allow_pickle) for v in (frozenset.__iter__ if frozen else set.__iter__)(value)]
        items.sort(key=lambda x: json.dumps(x, sort_keys=True))  # deterministic order
        return {"$frozenset" if frozen else "$set": items}
    if issubclass(t, bytes):
        return {"$bytes": base64.b64encode(bytes.__getitem__(value, slice(None))).decode("ascii")}
    if issubclass(t, bytearray):
        return {"$bytes": base64.b64encode(bytes(bytearray.__getitem__(value, slice(None)))).decode("ascii")}
    if issubclass(t, complex):
        return {"$complex": [_enc(_REAL.__get__(value), False), _enc(_IMAG.__get__(value), False)]}
    if issubclass(t, dict):
        items = list(dict.items(value))
        if all(type(k) is str for k, _ in items) and not any(k.startswith("$") for k, _ in items):
            return {k: _enc(v, allow_pickle) for k, v in items}
        return {"$dict": [[_enc(k, allow_pickle), _enc(v, allow_pickle)] for k, v in items]}
    if allow_pickle:
        return {"$pickle": base64.b64encode(pickle.dumps(value, protocol=4)).decode("ascii")}
    raise WireError("cannot send a value of type %s as plain data" % type.__dict__["__name__"].__get__(t))


_REAL, _IMAG = complex.__dict__["real"], complex.__dict__["imag"]


def encode_value(value, allow_pickle=False):
    """``value`` as JSON-compatible plain data; raises WireError for types that are not plain data."""
    return _enc(value, allow_pickle)


def _hashable(v):
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        raise WireError("a dict cannot be a set member or a dict key")
    return v


def decode_value(data, trusted=False):
    """Inverse of :func:`encode_value`. ``trusted=False`` refuses ``$pickle`` and unknown tags."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode_value(v, trusted) for v in data]
    if not isinstance(data, dict):
        raise WireError("unexpected JSON value of type %s" % type(data).__name__)
    if len(data) == 1:
        (tag, body), = data.items()
        if tag.startswith("$"):
            if tag == "$tuple":
                return tuple(decode_value(v, trusted) for v in _list(body))
            if tag in ("$set", "$frozenset"):
                items = [_hashable(decode_value(v, trusted)) for v in _list(body)]
                return set(items) if tag == "$set" else frozenset(items)
            if tag == "$bytes":
                return base64.b64decode(_str(body), validate=True)
            if tag == "$float":
                if body not in ("nan", "inf", "-inf"):
                    raise WireError("bad $float %r" % (body,))
                return float(body)
            if tag == "$int":
                text = _str(body)
                if not text.lstrip("-").startswith("0x"):
                    raise WireError("bad $int %r" % text[:40])
                return int(text, 16)
            if tag == "$complex":
                re_, im = _list(body)
                return complex(decode_value(re_), decode_value(im))
            if tag == "$dict":
                return {_hashable(decode_value(k, trusted)): decode_value(v, trusted)
                        for k, v in (_pair(p) for p in _list(body))}
            if tag == "$pickle" and trusted:
                return pickle.loads(base64.b64decode(_str(body)))
            raise WireError("unknown or forbidden tag %r" % tag)
    if any(k.startswith("$") for k in data):
        raise WireError("plain dict keys may not start with '$'")
    return {k: decode_value(v, trusted) for k, v in data.items()}


def _list(x):
    if not isinstance(x, list):
        raise WireError("expected a list, got %s" % type(x).__name__)
    return x


def _str(x):
    if not isinstance(x, str):
        raise WireError("expected a string, got %s" % type(x).__name__)
    return x


def _pair(x):
    if not isinstance(x, list) or len(x) != 2:
        raise WireError("expected a [key, value] pair")
    return x


def send(fd, message):
    """Write one frame: a 4-byte big-endian length, then the JSON text of ``message``."""
    body = json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if len(body) > MAX_FRAME:
        raise WireError("frame of %d bytes exceeds the %d-byte limit" % (len(body), MAX_FRAME))
    data = _HEADER.pack(len(body)) + body
    while data:
        n = os.write(fd, data)
        data = data[n:]


def parse_frame(body):
    """Decode a frame body strictly: UTF-8 JSON, an object with a string field ``t``."""
    try:
        msg = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WireError("frame is not valid JSON: %s" % exc)
    if not isinstance(msg, dict) or not isinstance(msg.get("t"), str):
        raise WireError("frame is not an object with a 't' field")
    return msg


def _no_constant(name):
    raise WireError("non-standard JSON constant %s" % name)


class FrameReader:
    """Accumulates bytes from a pipe and yields complete frames (for the parent's select loop)."""

    def __init__(self):
        self._buf = b""

    @property
    def buffered(self):
        """Bytes of an incomplete frame held back."""
        return len(self._buf)

    def feed(self, data):
        self._buf += data
        frames = []
        while len(self._buf) >= 4:
            (n,) = _HEADER.unpack(self._buf[:4])
            if n > MAX_FRAME:
                raise WireError("frame length %d exceeds the %d-byte limit" % (n, MAX_FRAME))
            if len(self._buf) < 4 + n:
                break
            frames.append(parse_frame(self._buf[4:4 + n]))
            self._buf = self._buf[4 + n:]
        return frames


def recv(fd):
    """Blocking read of one frame (worker side). Returns None at end of file."""
    head = _read_exact(fd, 4)
    if head is None:
        return None
    (n,) = _HEADER.unpack(head)
    if n > MAX_FRAME:
        raise WireError("frame too large")
    body = _read_exact(fd, n)
    if body is None:
        raise WireError("truncated frame")
    return parse_frame(body)


def _read_exact(fd, n):
    chunks, got = [], 0
    while got < n:
        b = os.read(fd, n - got)
        if not b:
            return None
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)

"""Read-only checks of a pickle's opcode stream, run before anything is unpickled (design D9).

:func:`scan_pickle` walks the opcodes with :mod:`pickletools`' opcode table (arguments are read,
no object is built) and models the unpickler's stack with one number per entry: the nesting
depth of the object that would sit there. It refuses a pickle whose MARK nesting or container
nesting exceeds :data:`MAX_DEPTH` — a tuple nested a few hundred thousand deep costs one byte
per level and crashes CPython's C stack when it is hashed as a dict key. Depths of objects
fetched from the memo are the ones recorded when they were stored; since an object fetched again
from the memo may not be modified in place (no pickler writes that), a container cannot grow
deeper after it was nested, and the depths are exact.

:class:`BoundedReader` caps every read at the bytes left in the file, so a length field that
claims gigabytes is refused instead of allocated.
"""

from __future__ import annotations

import pickletools
from collections.abc import Iterator
from typing import Any, BinaryIO

from amc_tf.errors import DatasetError, UnsafePickleError

#: Deepest MARK or container nesting admitted; RadioML pickles need 7.
MAX_DEPTH = 64

_MEMO_PUT = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_MEMO_GET = frozenset({"GET", "BINGET", "LONG_BINGET"})
_IN_PLACE = frozenset({"APPEND", "APPENDS", "SETITEM", "SETITEMS", "ADDITEMS", "BUILD"})


class BoundedReader:
    """File wrapper whose ``read``/``readinto`` refuse to ask for more bytes than remain."""

    def __init__(self, fh: BinaryIO, remaining: int) -> None:
        self._fh = fh
        self.remaining = remaining
        self._consumed = 0

    def tell(self) -> int:
        """Bytes read through this wrapper (opcode positions in messages)."""
        return self._consumed

    def _claim(self, n: int) -> int:
        if n is None or n < 0:
            return self.remaining
        if n > self.remaining:
            raise DatasetError(
                f"not a valid or complete pickle (a length field claims {n} bytes, only {self.remaining} remain)"
            )
        return n

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(self._claim(n))
        self._advance(len(data))
        return data

    def readinto(self, buf: Any) -> int:
        got = self._fh.readinto(memoryview(buf)[: self._claim(len(buf))])
        self._advance(got)
        return got

    def readline(self) -> bytes:
        line = self._fh.readline(self.remaining)
        self._advance(len(line))
        return line

    def _advance(self, n: int) -> None:
        self.remaining -= n
        self._consumed += n


def _skip_stringnl(fh: BoundedReader) -> None:
    """Consume a protocol-0 ``S'...'`` argument without decoding it (``pickletools`` would decode it
    as ASCII, which fails on the binary strings of Python-2 numpy pickles)."""
    if not fh.readline().endswith(b"\n"):
        raise ValueError("no newline found when trying to read stringnl")


def _opcodes(fh: BoundedReader) -> Iterator[tuple[pickletools.OpcodeInfo, Any, int]]:
    """(opcode, argument, byte offset) up to and including STOP, like :func:`pickletools.genops`."""
    while True:
        pos = fh.tell()
        code = fh.read(1)
        if not code:
            raise ValueError("pickle exhausted before seeing STOP")
        opcode = pickletools.code2op.get(code.decode("latin1"))
        if opcode is None:
            raise ValueError(f"unknown opcode {code!r} at byte {pos}")
        if opcode.arg is None:
            arg = None
        elif opcode.arg.name == "stringnl":
            arg = _skip_stringnl(fh)
        else:
            arg = opcode.arg.reader(fh)
        yield opcode, arg, pos
        if opcode.name == "STOP":
            return


_Entry = tuple[int, bool]  # (nesting depth, pushed by a memo GET or DUP)


def _pop(stack: list[_Entry], marks: list[int], count: int, pos: int) -> list[_Entry]:
    floor = marks[-1] if marks else 0
    if len(stack) - floor < count:
        raise DatasetError(f"not a valid or complete pickle (stack underflow at byte {pos})")
    popped = stack[len(stack) - count :]
    del stack[len(stack) - count :]
    return popped


def _depth_error(what: str, pos: int) -> UnsafePickleError:
    return UnsafePickleError(
        f"refused: {what} nests deeper than {MAX_DEPTH} levels at byte {pos} "
        "(deep nesting can crash the interpreter; nothing was executed)"
    )


def _invalid(message: str) -> DatasetError:
    return DatasetError(f"not a valid or complete pickle ({message})")


def scan_pickle(fh: BoundedReader) -> int:
    """Check the opcode stream of ``fh`` (read to the STOP opcode); return the deepest nesting seen.

    Raises:
        UnsafePickleError: MARK or container nesting deeper than :data:`MAX_DEPTH`, or an in-place
            operation (APPEND(S), SETITEM(S), ADDITEMS, BUILD) on an object fetched again from the
            memo: picklers never emit one, and it would let a container grow after being nested.
        DatasetError: not a pickle, truncated, or inconsistent (stack underflow, missing memo entry).
    """
    stack: list[_Entry] = []
    marks: list[int] = []  # stack heights at each open MARK
    memo: dict[int, int] = {}  # memo index -> depth of the stored object
    deepest = 0
    try:
        for opcode, arg, pos in _opcodes(fh):
            name = opcode.name
            floor = marks[-1] if marks else 0
            if name == "MARK":
                marks.append(len(stack))
                if len(marks) > MAX_DEPTH:
                    raise _depth_error("MARK", pos)
            elif name in _MEMO_PUT or name == "MEMOIZE":
                if len(stack) <= floor:
                    raise _invalid(f"memo store of an empty stack at byte {pos}")
                memo[len(memo) if name == "MEMOIZE" else arg] = stack[-1][0]
            elif name in _MEMO_GET:
                if arg not in memo:
                    raise _invalid(f"memo entry {arg} read before it is stored, byte {pos}")
                stack.append((memo[arg], True))
            elif name == "DUP":
                ((depth, _),) = _pop(stack, marks, 1, pos)
                stack += [(depth, True), (depth, True)]  # either copy may end up nested in the other
            elif name == "POP" and len(stack) == floor and marks:
                marks.pop()  # POP on an empty MARK frame discards the mark, as the unpickler does
            elif name == "POP_MARK":
                if not marks:
                    raise _invalid(f"POP_MARK without MARK at byte {pos}")
                del stack[marks.pop() :]
            else:
                before = opcode.stack_before
                if pickletools.markobject in before:
                    if not marks:
                        raise _invalid(f"{name} without MARK at byte {pos}")
                    items = stack[marks[-1] :]
                    del stack[marks.pop() :]
                    popped = _pop(stack, marks, before.index(pickletools.markobject), pos) + items
                else:
                    popped = _pop(stack, marks, len(before), pos)
                depths = [depth for depth, _ in popped]
                if name in _IN_PLACE:  # the target keeps its identity and gains the items' depth
                    if popped[0][1]:
                        raise UnsafePickleError(
                            f"refused {name} at byte {pos} on an object fetched again from the memo (or duplicated) "
                            "(nothing was executed)"
                        )
                    depth = max(depths[0], 1 + max(depths[1:], default=0))
                else:
                    depth = 1 + max(depths, default=-1)
                stack += [(depth, False)] * len(opcode.stack_after)
                if depth > MAX_DEPTH:
                    raise _depth_error("a container", pos)
                deepest = max(deepest, depth)
    except DatasetError:
        raise
    except (ValueError, OverflowError) as err:
        raise _invalid(str(err)) from None
    return deepest

"""The one progress style of the project: a bar for long loops on a terminal, plain lines in logs.

Everything the library says while it works goes to stderr through this module, so that stdout
stays for results (JSON, run ids). On a terminal a long loop redraws one bar line in place; in a
log or in CI (stderr not a TTY, or ``CI`` set) it prints a plain line at most every
``every_s`` seconds and at the end. One-off messages are plain ``label: message`` lines
(:func:`say`).
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

_BAR = 24


def _interactive(stream: TextIO) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("CI")


def say(label: str, message: str, *, stream: TextIO | None = None) -> None:
    """Print one plain ``label: message`` line on stderr."""
    print(f"{label}: {message}", file=stream or sys.stderr, flush=True)


class Progress:
    """Progress of a loop of known length.

    Args:
        label: What is running (the line prefix).
        total: Number of steps (>= 0).
        enabled: False silences it (library calls made from tests or other loops).
        every_s: Minimum seconds between plain lines (the bar redraws at most 10 times a second).
        unit: Unit word of the counter (``windows``, ``setups``, ...).
        stream: Where to write (default stderr).
    """

    def __init__(
        self,
        label: str,
        total: int,
        *,
        enabled: bool = True,
        every_s: float = 10.0,
        unit: str = "",
        stream: TextIO | None = None,
    ):
        if total < 0:
            raise ValueError(f"total must be >= 0, got {total}")
        self.label, self.total, self.enabled, self.every_s, self.unit = label, int(total), enabled, every_s, unit
        self.stream = stream or sys.stderr
        self.bar = _interactive(self.stream)
        self.done = 0
        self.start = time.perf_counter()
        self._last = -float("inf")
        self._note = ""
        self._shown = -1  # the count of the last plain line
        self._closed = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1, note: str = "") -> None:
        """Count ``n`` more steps done; ``note`` is shown after the counter."""
        self.done = min(self.total, self.done + n) if self.total else self.done + n
        self._note = note or self._note
        now = time.perf_counter()
        if not self.enabled or (now - self._last < (0.1 if self.bar else self.every_s) and self.done < self.total):
            return
        self._last = now
        self._write(final=False)

    def close(self) -> None:
        """Write the final line (once)."""
        if self.enabled and not self._closed:
            self._write(final=True)
        self._closed = True

    def _text(self) -> str:
        elapsed = time.perf_counter() - self.start
        unit = f" {self.unit}" if self.unit else ""
        pct = f" ({100.0 * self.done / self.total:.0f} %)" if self.total else ""
        per_s = self.done / elapsed if elapsed > 0 else 0.0
        rate = f", {per_s:,.0f}{unit}/s" if per_s >= 10 else f", {per_s:.2g}{unit}/s"
        rate = rate if self.done and self.unit else ""
        note = f", {self._note}" if self._note else ""
        return f"{self.done}/{self.total}{unit}{pct}, {elapsed:.1f} s{rate}{note}"

    def _write(self, *, final: bool) -> None:
        if self.bar:
            filled = int(_BAR * self.done / self.total) if self.total else _BAR
            line = f"\r{self.label} [{'#' * filled}{'.' * (_BAR - filled)}] {self._text()}\033[K"
            self.stream.write(line + ("\n" if final else ""))
            self.stream.flush()
        elif self.done != self._shown:
            self._shown = self.done
            say(self.label, self._text(), stream=self.stream)


__all__ = ["Progress", "say"]

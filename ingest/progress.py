"""One progress printer for every long phase (reading a source, the ONNX export, embedding).

On a terminal the phase is one live bar, rewritten in place; in a log (stderr not a
terminal) it is one plain line every `interval_s` seconds and a last line when the phase
ends, so a log file reads as a timeline instead of one line of several kilobytes.

    progress = Progress("embedding", total=len(texts), unit="chunks")
    for done in …:
        progress.update(done)
    progress.finish()
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 24
TTY_REDRAW_S = 0.2  # a live bar is redrawn at most this often
LOG_INTERVAL_S = 5.0  # a log gets one line this often


class Progress:
    def __init__(self, label: str, total: int | None = None, *, unit: str = "", stream: TextIO | None = None,
                 interval_s: float | None = None, tty: bool | None = None, clock=time.monotonic):
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream or sys.stderr
        self.tty = _is_tty(self.stream) if tty is None else tty
        self.interval_s = (TTY_REDRAW_S if self.tty else LOG_INTERVAL_S) if interval_s is None else interval_s
        self._clock = clock
        self.started = clock()
        self._last_print: float | None = None
        self.done = 0
        self.finished = False

    def update(self, done: int, *, total: int | None = None, detail: str = "") -> None:
        """`done` items so far; printed when the interval since the last line has passed
        (the first update of a log waits for one interval: a short phase prints only its end)."""
        self.done = done
        if total is not None:
            self.total = total
        now = self._clock()
        reference = self._last_print if self._last_print is not None else (None if self.tty else self.started)
        if reference is not None and now - reference < self.interval_s:
            return
        self._last_print = now
        self._write(self._line(now, detail), final=False)

    def finish(self, done: int | None = None, *, detail: str = "") -> None:
        if self.finished:
            return
        self.finished = True
        if done is not None:
            self.done = done
        now = self._clock()
        elapsed = now - self.started
        parts = [self._count()]
        if detail:
            parts.append(detail)
        parts.append(f"in {format_duration(elapsed)}")
        self._write(f"{self.label}: " + ", ".join(parts), final=True)

    def _line(self, now: float, detail: str) -> str:
        elapsed = now - self.started
        parts = [self._count()]
        if detail:
            parts.append(detail)
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self.total and rate > 0:
            parts.append(f"{rate:.1f}/s, ETA {format_duration((self.total - self.done) / rate)}")
        elif not self.total:
            parts.append(format_duration(elapsed))
        text = ", ".join(parts)
        if self.tty and self.total:
            filled = int(BAR_WIDTH * min(self.done, self.total) / self.total)
            return f"{self.label}: [{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {text}"
        return f"{self.label}: {text}"

    def _count(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.total:
            return f"{self.done}/{self.total}{unit} ({100 * self.done // self.total}%)"
        return f"{self.done}{unit}"

    def _write(self, line: str, *, final: bool) -> None:
        if self.tty:
            # \r then clear to the end of the line: a shorter line leaves nothing behind.
            self.stream.write("\r" + line + "\x1b[K" + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def note(message: str, stream: TextIO | None = None) -> None:
    """A one-off line about what is starting (e.g. a one-time export), on the same stream."""
    stream = stream or sys.stderr
    stream.write(message + "\n")
    stream.flush()


def format_duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

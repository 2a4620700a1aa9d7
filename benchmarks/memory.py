"""Peak resident memory of a block of code, above the RSS just before it.

A daemon thread samples the resident set size every ``interval`` seconds (default 5 ms)
with psutil, or from /proc/self/statm when psutil is missing; NumPy, BLAS and the compiled
parts of the peers release the GIL, so the sampler keeps running during a fit. The process'
high-water mark (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is read before and after as
a cross-check: its increase is a lower bound of the same peak (zero when the data loading
had already set a higher mark).

A peak shorter than the interval can be missed; the numbers are "at least" figures within
about one 5 ms burst of allocation.
"""
from __future__ import annotations

import os
import resource
import threading
import time

try:  # optional: fall back to /proc on Linux
    import psutil  # type: ignore
except ImportError:  # pragma: no cover - depends on the environment
    psutil = None

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes(pid: int | None = None) -> int:
    """Resident set size of this process (or of ``pid``)."""
    if psutil is not None:
        return psutil.Process(pid).memory_info().rss if pid else _SELF.memory_info().rss
    path = f"/proc/{pid or 'self'}/statm"
    with open(path) as fh:
        return int(fh.read().split()[1]) * _PAGE


def tree_rss_bytes(pid: int) -> int:
    """RSS of a process and all its descendants (e.g. Rscript and the R it starts)."""
    if psutil is None:
        return rss_bytes(pid)
    try:
        proc = psutil.Process(pid)
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total
    except psutil.Error:
        return 0


_SELF = psutil.Process() if psutil is not None else None


def maxrss_bytes() -> int:
    """ru_maxrss of this process in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakSampler:
    """``with PeakSampler() as s: ...`` then ``s.peak_above_baseline`` (bytes).

    ``measure`` is a callable returning the current RSS (default: this process).
    """

    def __init__(self, interval: float = 0.005, measure=None):
        self.interval = interval
        self.measure = measure or rss_bytes
        self.baseline = 0
        self.peak = 0
        self.maxrss_before = 0
        self.maxrss_after = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self):
        while not self._stop.is_set():
            try:
                v = self.measure()
            except Exception:  # the measured process may have gone
                break
            if v > self.peak:
                self.peak = v
            self._stop.wait(self.interval)

    def start(self):
        self.baseline = self.measure()
        self.peak = self.baseline
        self.maxrss_before = maxrss_bytes()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.peak = max(self.peak, self.measure())
        except Exception:
            pass
        self.maxrss_after = maxrss_bytes()
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def peak_above_baseline(self) -> int:
        return max(0, self.peak - self.baseline)

    @property
    def maxrss_increase(self) -> int:
        return max(0, self.maxrss_after - self.maxrss_before)


def now() -> float:
    return time.perf_counter()


_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _busy_cpu_seconds() -> float | None:
    """CPU seconds all processes of the machine have spent busy (from /proc/stat)."""
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = f[3] + (f[4] if len(f) > 4 else 0)
    return (sum(f[:8]) - idle) / _HZ


class OtherLoad:
    """How many cores *other* processes kept busy, on average, while a block ran:
    (machine busy CPU time - this process' CPU time) / wall time. Resolution is one clock
    tick (10 ms), so it only means something for blocks of a second or more."""

    def __enter__(self):
        self.busy0 = _busy_cpu_seconds()
        t = os.times()
        self.own0 = t.user + t.system
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        busy1 = _busy_cpu_seconds()
        t = os.times()
        own = t.user + t.system - self.own0
        if self.busy0 is None or busy1 is None or self.wall <= 0:
            self.value = None
        else:
            self.value = max(0.0, (busy1 - self.busy0 - own) / self.wall)
        return False


def wait_quiet(max_wait: float, threshold: float = 0.25, window: float = 0.5) -> dict:
    """Wait (at most ``max_wait`` seconds) until other processes keep fewer than
    ``threshold`` cores busy over a ``window``-second sample, so a fit does not start while
    the machine is shared. Returns how long it waited and the last load seen."""
    t0 = time.perf_counter()
    last = None
    while True:
        with OtherLoad() as ol:
            time.sleep(window)
        last = ol.value
        waited = time.perf_counter() - t0
        if last is None or last < threshold or waited >= max_wait:
            return {"waited": waited, "load_before": last}

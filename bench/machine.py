"""What else the machine was doing during a measurement.

Two cores are shared by the load generator, the server and PostgreSQL, and
other work on the same machine skews a run. Every measurement records how many
cores processes outside the benchmark used meanwhile, so a disturbed figure is
visible in the results instead of silently wrong.
"""

import os
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of it and its reaped children); user processes only."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if not Path(f"/proc/{entry}/cmdline").read_bytes():
                continue  # a kernel thread
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # ended while we looked
        fields = stat[stat.rindex(")") + 2 :].split()
        # After the command: state, ppid, ..., utime, stime, cutime, cstime (fields 14-17).
        ticks = sum(int(value) for value in fields[11:15])
        found[int(entry)] = (int(fields[1]), ticks / CLOCK_TICKS)
    return found


def _descendants(processes: dict[int, tuple[int, float]], roots: set[int]) -> set[int]:
    tree = set(roots)
    grew = True
    while grew:
        children = {pid for pid, (parent, _) in processes.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    return tree


class BackgroundMeter:
    """Cores used by processes that are neither ours nor descended from `roots`."""

    def __init__(self, roots: set[int]):
        self._roots = {os.getpid(), *roots}

    def start(self) -> None:
        self._before = _processes()
        self._started = time.monotonic()

    def stop(self) -> float:
        after = _processes()
        elapsed = time.monotonic() - self._started
        ours = _descendants(after, self._roots) | _descendants(self._before, self._roots)
        used = sum(
            cpu - self._before.get(pid, (0, 0.0))[1]
            for pid, (_, cpu) in after.items()
            if pid not in ours
        )
        # A process that ended was reaped into its parent's total with all its
        # CPU, including what it had used before the start: take that back out.
        used -= sum(
            cpu for pid, (_, cpu) in self._before.items() if pid not in after and pid not in ours
        )
        return max(0.0, used / elapsed) if elapsed else 0.0

"""Where the CPU went during a measurement.

Two cores are shared by the load generator, the server and PostgreSQL: what
each of them used per request says what bounds the throughput. And other work
on the same machine skews a run: every measurement records how many cores
processes outside the benchmark used meanwhile, so a disturbed figure is
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


OTHERS = "other processes"


class CpuMeter:
    """CPU seconds used during a measurement, per group of processes: each root
    given a name, with its descendants (the nearest named ancestor decides), and
    every other process as OTHERS. Kernel threads are left out."""

    def __init__(self, roots: dict[int, str]):
        self.roots = dict(roots)

    def start(self) -> None:
        self._before = _processes()
        self._started = time.monotonic()

    def stop(self) -> tuple[dict[str, float], float]:
        """(CPU seconds per group, seconds elapsed) since start()."""
        after = _processes()
        elapsed = time.monotonic() - self._started
        parents = {pid: parent for pid, (parent, _) in {**self._before, **after}.items()}
        used: dict[str, float] = {}
        for pid in parents:
            if pid in after:
                delta = after[pid][1] - self._before.get(pid, (0, 0.0))[1]
            else:
                # Ended: reaped into its parent's total with all its CPU,
                # including what it had used before the start. Take that out.
                delta = -self._before[pid][1]
            group = self._group(pid, parents)
            used[group] = used.get(group, 0.0) + delta
        return {group: max(0.0, seconds) for group, seconds in used.items()}, elapsed

    def _group(self, pid: int, parents: dict[int, int]) -> str:
        seen = set()
        while pid in parents and pid not in seen:
            if pid in self.roots:
                return self.roots[pid]
            seen.add(pid)
            pid = parents[pid]
        return self.roots.get(pid, OTHERS)

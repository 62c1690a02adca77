"""Peak memory of this process since it started its program.

``getrusage``'s ru_maxrss survives fork and exec on Linux, so a child started by a big benchmark
process reports the parent's peak; the kernel's VmHWM belongs to the address space exec created.
"""

from __future__ import annotations


def peak_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")

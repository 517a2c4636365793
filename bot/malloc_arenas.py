"""Fewer malloc arenas in the bot's process, so its worker threads do not each hoard memory.

glibc gives every thread that allocates its own arena (up to 8 per core), and memory freed in
one is not reused by another: the bot's handler, delivery and tick threads each grow an arena
of their own. Capped at two, as MALLOC_ARENA_MAX=2 would, `samverkan run` with 10,000 cases
peaked 20-25 MiB lower after a burst (bench/memory.py) at no measurable cost in CPU: the
threads mostly wait on SQLite and the network, so they seldom contend for an arena.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping

# mallopt's parameter number for the arena cap (malloc.h: M_ARENA_MAX).
M_ARENA_MAX = -8
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS, environ: Mapping[str, str] | None = None) -> bool:
    """Caps glibc's malloc arenas before the threads start; True when the cap was set.

    An operator's own MALLOC_ARENA_MAX is left alone, and where there is no glibc (musl,
    macOS) nothing happens.
    """
    env = os.environ if environ is None else environ
    if env.get("MALLOC_ARENA_MAX"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))

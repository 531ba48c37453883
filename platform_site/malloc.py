"""glibc's allocator, tuned from inside the process, so a run outside the image gets it too.

Two settings (docs/performance.md), both also in the image's environment:

- `MALLOC_ARENA_MAX` (default here 2): glibc gives each thread that allocates concurrently
  an arena of its own, up to 8 per core; with 16 threads per gunicorn worker, the memory
  freed after a burst of requests stays spread over many arenas and is seldom returned.
- `MALLOC_MMAP_THRESHOLD_` (default here 131072): glibc raises its mmap threshold after the
  first large free, so later large buffers come from the arenas and stay in the RSS after
  the request. A fixed threshold returns them to the system when freed.

glibc reads those variables once, when the process starts; `mallopt()` applies the same
values to a process already running (the gunicorn master, before it forks its workers, and
each worker again after the fork). A value set in the environment wins over the defaults.
Elsewhere than glibc (macOS, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

logger = logging.getLogger(__name__)

# <malloc.h>
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

DEFAULTS = {"MALLOC_ARENA_MAX": 2, "MALLOC_MMAP_THRESHOLD_": 128 * 1024}
_PARAMETERS = {"MALLOC_ARENA_MAX": M_ARENA_MAX, "MALLOC_MMAP_THRESHOLD_": M_MMAP_THRESHOLD}


def malloc_settings() -> dict[str, int]:
    """The values to apply: the environment's where set (and valid), else the defaults."""
    values = dict(DEFAULTS)
    for name in DEFAULTS:
        raw = os.environ.get(name, "").strip()
        if raw.isdigit() and int(raw) > 0:
            values[name] = int(raw)
    return values


def malloc_tune() -> dict[str, int]:
    """Apply malloc_settings() with mallopt(); what was applied ({} when not on glibc)."""
    libc_name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(libc_name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return {}
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    applied: dict[str, int] = {}
    for name, value in malloc_settings().items():
        if mallopt(_PARAMETERS[name], value) == 1:
            applied[name] = value
        else:
            logger.warning("mallopt(%s=%s) refused", name, value)
    # Later processes started from this one (manage.py commands, compilers) get them too.
    for name, value in applied.items():
        os.environ.setdefault(name, str(value))
    return applied

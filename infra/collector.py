"""Keep CPython's cyclic garbage collector off the imported heap while a stack program runs.

Why: importing pulumi-aws and pulumi-kubernetes (their generated `_inputs`/`outputs` classes, typing
generics, enums) leaves about a million long-lived objects, and the resource modules a program touches are
imported lazily *while it registers resources*. Registering a few hundred resources allocates enough
containers to trigger several full collections, and each one walks that whole imported heap again; the
interpreter walks it once more when it exits. None of it is garbage: in a prod preview this was 1.1-1.3 s of
collection during the program and 1.0-1.3 s of teardown, about half the time above the import floor.

What: `hold()` moves everything alive into the permanent generation (`gc.freeze`) and turns automatic
collection off for the rest of the process; `release_at_exit()` freezes again before the interpreter's own
final collection, so teardown frees by reference counting without re-walking the heap. Reference counting
still frees every object that is not in a reference cycle, so what accumulates is only the run's cyclic
garbage (asyncio futures, tracebacks, Output closures). Measured bound (bench/preview.py, docs/performance.md):
peak RSS of the prod preview 228 -> 250 MB (+10 %), of the generated 10x prod stack (about 1,300 resources)
315 -> 330 MB (+5 %); the growth is linear in the number of resources, about 70 KB each.

Only for processes that run one program and exit (the offline preview, `pulumi up` under the language
host); a long-lived process (a test session, the Automation API in a server) keeps the default collector.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
from typing import NoReturn

_held = False


def hold() -> None:
    """Freeze the heap imported so far and stop automatic cyclic collection for the rest of this process.

    `MLOPS_PLATFORM_GC=default` in the environment keeps CPython's default collector instead (for a machine
    short of memory, and for measuring the difference: bench/preview.py --collector both).
    """
    global _held
    if os.environ.get("MLOPS_PLATFORM_GC") == "default":
        return
    gc.freeze()
    gc.disable()
    if not _held:
        _held = True
        atexit.register(gc.freeze)  # runs before the interpreter's final collection: nothing left to walk


def exit_now(code: int) -> NoReturn:
    """Flush the standard streams and end the process with `code`, skipping the interpreter's teardown.

    Teardown would only free memory the OS reclaims anyway (module dicts, the whole imported heap); the
    preview has written its files (closed) and printed its output by then, and registers no atexit work
    that matters beyond flushing.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing left to flush
            stream.flush()
    os._exit(code)

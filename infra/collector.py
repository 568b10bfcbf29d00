"""Keep CPython's cyclic garbage collector off the imported heap while a stack program runs.

Why: importing pulumi-aws and pulumi-kubernetes (their generated `_inputs`/`outputs` classes, typing
generics, enums) leaves about a million long-lived objects, and the resource modules a program touches are
imported lazily *while it registers resources*. Registering a few hundred resources allocates enough
containers to trigger several full collections, and each one walks that whole imported heap again; the
interpreter walks it once more when it exits. None of it is garbage: in a prod preview this was 1.1-1.3 s of
collection during the program and 1.0-1.3 s of teardown, about half the time above the import floor.

What: `hold()` moves everything alive into the permanent generation (`gc.freeze`), turns automatic
collection off for the rest of the process and freezes again at exit (an atexit hook, which runs before the
interpreter's final collection), so nothing is walked again; the CLI also skips the teardown (`exit_now`),
while the language host's process ends normally. Reference counting
still frees every object that is not in a reference cycle, so what accumulates is only the run's cyclic
garbage (asyncio futures, tracebacks, Output closures). Measured bound (farm-bench, medians of 5; the same
process with MLOPS_PLATFORM_GC=default as the baseline; docs/performance.md): peak RSS of the prod preview
(321 resources) 222 -> 225 MB, of the generated 10x prod stack (1,329 resources) 304 -> 312 MB, i.e. under
10 KB per resource kept until exit; the prod preview before this change peaked at 228 MB (it also built a
botocore session).

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

"""Starting worker processes cheaply."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def empty_main_module() -> Iterator[None]:
    """Within the block `__main__` is an empty module. A spawned worker re-imports its parent's
    `__main__` (for `mfbench`, the whole CLI with torch and diffusers: seconds per worker); workers
    that need none of it start in a fraction of that when their pool starts them inside this block
    (a ProcessPoolExecutor starts them on `submit`)."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main

"""Runs in a spawned worker: which modules it has loaded (this module imports nothing heavy)."""

import sys


def loaded_modules() -> list[str]:
    return sorted(sys.modules)

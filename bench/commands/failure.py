"""How every `mfbench` command reports an error it cannot go on from."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.text import Text


def command_error(error: Exception | str, code: int = 1) -> typer.Exit:
    """Prints `error: MESSAGE` on stderr and returns the Exit to raise. The message is printed as is:
    rich markup would swallow bracketed parts such as a shape `[B, C, H, W]` or a path `runs/[x]`."""
    Console(stderr=True, soft_wrap=True, highlight=False).print(Text.assemble(("error: ", "red"), str(error)))
    return typer.Exit(code)

"""How to name this program in the commands Syncline prints for its user to copy."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def command_name() -> str:
    """How the user started this program: `syncline` when it is on PATH, else its path relative
    to the working directory (`.venv/bin/syncline`), so a printed command can be pasted."""
    invoked = Path(sys.argv[0])
    if invoked.name != "syncline" or invoked.parent == Path():
        return "syncline"
    on_path = shutil.which("syncline")
    if on_path is not None and Path(on_path).resolve() == invoked.resolve():
        return "syncline"
    try:
        return str(invoked.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(invoked)

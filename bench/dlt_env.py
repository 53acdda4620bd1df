"""dlt lives in its own virtualenv (bench/.venv-dlt), installed on first use, not in ours."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DLT_REQUIREMENT = "dlt[duckdb,sqlalchemy]==1.31.0"
VENV = Path(__file__).resolve().parent / ".venv-dlt"


def dlt_python() -> str:
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"installing {DLT_REQUIREMENT} into {VENV} (first run only)...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", DLT_REQUIREMENT, "requests"],
            check=True,
        )
    return str(python)

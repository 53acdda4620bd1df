"""`syncline api` and `syncline worker` refuse SQLite with a clear message instead of failing
later with "database is locked"."""

from __future__ import annotations

import pytest

from syncline.cli import main


@pytest.mark.parametrize("command", ["api", "worker"])
def test_distributed_commands_need_postgres(command, tmp_path, monkeypatch, capsys):
    """On a SQLite URL the command exits 2, names PostgreSQL, and creates no database file."""
    database = tmp_path / "syncline.db"
    monkeypatch.setenv("SYNCLINE_DATABASE_URL", f"sqlite:///{database}")

    with pytest.raises(SystemExit) as exit_:
        main([command])

    assert exit_.value.code == 2
    assert "needs PostgreSQL" in capsys.readouterr().err
    assert not database.exists()

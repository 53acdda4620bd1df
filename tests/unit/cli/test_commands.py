"""The command line a newcomer meets: help on every option, projects list and show, tokens as
Paragon's dashboard mints them, and a warning for webhook URLs that delivery would refuse."""

from __future__ import annotations

import argparse

import jwt
import pytest

from syncline.cli import build_parser, main


def _parsers(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(parser.prog, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += _parsers(child)
    return found


def test_every_option_and_argument_has_help():
    """Every option and positional argument of every command says what it is for."""
    missing = [
        f"{prog}: {action.dest}"
        for prog, parser in _parsers(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
        and not action.help
    ]

    assert [] == missing


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNCLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'syncline.db'}")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    captured = capsys.readouterr()
    return int(exit_.value.code or 0), captured.out, captured.err


def _created_id(out: str) -> str:
    line = next(line for line in out.splitlines() if line.startswith("project id:"))
    return line.split()[-1]


def test_projects_list_and_show(env, capsys):
    """`projects list` shows each project with its webhook URL; `projects show` shows one, its
    waiting events and its keys, never the webhook secret."""
    code, out, _ = _run(capsys, "projects", "list")
    assert (0, True) == (code, "no projects yet" in out)
    _, created, _ = _run(
        capsys, "projects", "create", "--name", "acme", "--webhook-url", "https://h.example/in"
    )
    project = _created_id(created)
    secret = next(line for line in created.splitlines() if "webhook secret" in line).split()[-1]

    _, listed, _ = _run(capsys, "projects", "list")
    code, shown, _ = _run(capsys, "projects", "show", project)
    missing, _, err = _run(capsys, "projects", "show", "00000000-0000-0000-0000-000000000000")

    row = next(line for line in listed.splitlines() if line.startswith(project))
    assert ["acme", "https://h.example/in"] == [row.split()[1], row.split()[-1]]
    assert 0 == code
    assert "https://h.example/in" in shown
    assert "0 pending, 0 held, 0 parked" in shown
    assert "BEGIN PUBLIC KEY" in shown
    assert secret not in shown
    assert 1 == missing
    assert "error: no project" in err


def test_token_mints_what_paragons_dashboard_mints(env, capsys):
    """`syncline token` signs `aud: dashboard.useparagon.com/<project>` by default."""
    _, created, _ = _run(capsys, "projects", "create")
    project = _created_id(created)

    code, out, _ = _run(capsys, "token", "--project", project, "--user", "user-42")
    claims = jwt.decode(out.strip(), options={"verify_signature": False})

    assert 0 == code
    assert (f"dashboard.useparagon.com/{project}", "user-42") == (claims["aud"], claims["sub"])


@pytest.mark.parametrize(
    "url", ["http://localhost:3000/api/webhooks", "http://127.0.0.1:9/in", "http://10.1.2.3/in"]
)
def test_a_webhook_url_delivery_would_refuse_is_warned_about(env, capsys, url):
    """`projects create` and `set-webhook` with a loopback or private URL still store it, but
    warn that deliveries fail until SYNCLINE_ALLOW_PRIVATE_WEBHOOKS=true."""
    code, created, err = _run(capsys, "projects", "create", "--webhook-url", url)
    project = _created_id(created)
    again, _, err_again = _run(
        capsys, "projects", "set-webhook", "--project", project, "--url", url
    )

    assert (0, 0) == (code, again)
    for warning in (err, err_again):
        assert "warning:" in warning
        assert "SYNCLINE_ALLOW_PRIVATE_WEBHOOKS=true" in warning


def test_no_warning_when_private_webhooks_are_allowed(env, capsys, monkeypatch):
    """With SYNCLINE_ALLOW_PRIVATE_WEBHOOKS=true a local receiver is not warned about."""
    monkeypatch.setenv("SYNCLINE_ALLOW_PRIVATE_WEBHOOKS", "true")

    code, _, err = _run(capsys, "projects", "create", "--webhook-url", "http://127.0.0.1:3000/x")

    assert (0, "") == (code, err)

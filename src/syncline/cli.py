"""The `syncline` command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from syncline import __version__
from syncline.auth import generate_signing_key, mint_user_token
from syncline.config import Settings
from syncline.crypto import SecretBox, generate_key
from syncline.domain.projects import Project
from syncline.errors import ConfigError, StoreError
from syncline.store import Database, Store
from syncline.store.migrate import upgrade
from syncline.webhooks.signing import generate_secret
from syncline.wiring import api, configure_logging, secret_key, serve, utcnow, worker


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None):
        overrides["port"] = args.port
    return Settings(**overrides)


def _key_path(settings: Settings, project_id: str) -> Path:
    return settings.data_dir() / "keys" / f"{project_id}.pem"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


async def _with_store(settings: Settings) -> tuple[Store, SecretBox]:
    await asyncio.to_thread(upgrade, settings.database_url)
    key = secret_key(
        settings.secret_key, settings.data_dir(), generate=settings.sqlite_path() is not None
    )
    return Store(Database(settings.database_url)), SecretBox(key)


async def _projects_create(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store, box = await _with_store(settings)
    try:
        signing = generate_signing_key(args.algorithm)
        project_id = str(uuid.uuid4())
        webhook_secret = generate_secret() if args.webhook_url else None
        project = Project(
            id=project_id,
            name=args.name,
            public_key_pem=signing.public_pem,
            webhook_url=args.webhook_url,
            webhook_secret_enc=box.encrypt(webhook_secret) if webhook_secret else None,
            created_at=utcnow(),
        )
        await store.save_project(project, utcnow())
    finally:
        await store.db.dispose()
    path = Path(args.key_out) if args.key_out else _key_path(settings, project_id)
    _write_private(path, signing.private_pem)
    print(f"project id:   {project_id}")
    print(f"private key:  {path}  (keep it secret: it signs your users' tokens)")
    if webhook_secret:
        print(f"webhook url:  {args.webhook_url}")
        print(f"webhook secret: {webhook_secret}")
    print(f"mint a token: syncline token --project {project_id} --user <user id>")
    return 0


async def _projects_set_webhook(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store, box = await _with_store(settings)
    try:
        project = await store.get_project(args.project)
        if project is None:
            print(f"error: no project {args.project}", file=sys.stderr)
            return 1
        secret = args.secret or generate_secret()
        updated = Project(
            id=project.id,
            name=project.name,
            public_key_pem=project.public_key_pem,
            webhook_url=args.url,
            webhook_secret_enc=box.encrypt(secret),
            created_at=project.created_at,
        )
        await store.save_project(updated, utcnow())
    finally:
        await store.db.dispose()
    print(f"webhook url:    {args.url}")
    print(f"webhook secret: {secret}")
    return 0


def _token(args: argparse.Namespace) -> int:
    settings = _settings(args)
    path = Path(args.key) if args.key else _key_path(settings, args.project)
    try:
        private_pem = path.read_text()
    except OSError:
        print(
            f"error: no private key at {path}; pass --key with the project's private key (PEM)",
            file=sys.stderr,
        )
        return 1
    token = mint_user_token(
        private_pem,
        args.project,
        args.user,
        host=args.host_claim,
        ttl=timedelta(seconds=args.ttl),
    )
    print(token)
    return 0


def _keys_generate(_args: argparse.Namespace) -> int:
    print(generate_key())
    return 0


def _long_running(
    main: Callable[[Settings], Coroutine[Any, Any, None]],
) -> Callable[[argparse.Namespace], int]:
    """A command that runs one of wiring's process mains (`serve`, `api`, `worker`)."""

    def command(args: argparse.Namespace) -> int:
        settings = _settings(args)
        configure_logging(settings.log_level)
        asyncio.run(main(settings))
        return 0

    return command


def _migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    upgrade(settings.database_url)
    print("database is at the newest schema")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from syncline.demo import run_demo

    configure_logging(os.environ.get("SYNCLINE_LOG_LEVEL", "warning"))
    return run_demo(port=args.port, sandbox_port=args.sandbox_port, workdir=Path(args.dir))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncline", description="Self-hosted, Paragon-compatible managed sync."
    )
    parser.add_argument("--version", action="version", version=f"syncline {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser(
        "serve", help="run API, scheduler, workers and webhooks in one process"
    )
    serve_cmd.add_argument("--host", help="listen address (SYNCLINE_HOST, default 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, help="listen port (SYNCLINE_PORT, default 8000)")
    serve_cmd.set_defaults(func=_long_running(serve))

    api_cmd = commands.add_parser(
        "api", help="run the HTTP API alone (distributed mode, beside `syncline worker`)"
    )
    api_cmd.add_argument("--host", help="listen address (SYNCLINE_HOST, default 127.0.0.1)")
    api_cmd.add_argument("--port", type=int, help="listen port (SYNCLINE_PORT, default 8000)")
    api_cmd.set_defaults(func=_long_running(api))

    worker_cmd = commands.add_parser(
        "worker", help="run syncs and deliver webhooks (distributed mode, any number of them)"
    )
    worker_cmd.set_defaults(func=_long_running(worker))

    migrate_cmd = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate_cmd.set_defaults(func=_migrate)

    projects = commands.add_parser("projects", help="manage projects").add_subparsers(
        dest="action", required=True
    )
    create = projects.add_parser("create", help="create a project with a new signing key pair")
    create.add_argument("--name", default="default")
    create.add_argument("--algorithm", choices=["RS256", "ES256"], default="RS256")
    create.add_argument("--webhook-url", help="where to send this project's webhooks")
    create.add_argument("--key-out", help="where to write the private key (PEM)")
    create.set_defaults(func=lambda a: asyncio.run(_projects_create(a)))
    webhook = projects.add_parser("set-webhook", help="set a project's webhook URL and secret")
    webhook.add_argument("--project", required=True)
    webhook.add_argument("--url", required=True)
    webhook.add_argument("--secret", help="whsec_... (generated when omitted)")
    webhook.set_defaults(func=lambda a: asyncio.run(_projects_set_webhook(a)))

    token = commands.add_parser("token", help="mint a user token for development")
    token.add_argument("--project", required=True)
    token.add_argument("--user", required=True)
    token.add_argument("--key", help="the project's private key (default: where create put it)")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.add_argument("--host-claim", default="useparagon.com", help="host part of aud")
    token.set_defaults(func=_token)

    keys = commands.add_parser("keys", help="secret keys").add_subparsers(
        dest="action", required=True
    )
    keygen = keys.add_parser("generate", help="print a new SYNCLINE_SECRET_KEY")
    keygen.set_defaults(func=_keys_generate)

    demo = commands.add_parser(
        "demo", help="run a sandbox Google Drive beside `syncline serve` and show the API"
    )
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--sandbox-port", type=int, default=8001)
    demo.add_argument("--dir", default="./syncline-demo", help="where the demo keeps its files")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except (ConfigError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 2
    except ValidationError as exc:
        print(f"error: invalid SYNCLINE_* setting:\n{exc}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    sys.exit(code or 0)

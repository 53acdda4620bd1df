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
from syncline.console import command_name
from syncline.crypto import SecretBox, generate_key
from syncline.domain.notifications import iso
from syncline.domain.projects import Project
from syncline.errors import ConfigError, StoreError
from syncline.store import Database, Store
from syncline.store.migrate import upgrade
from syncline.webhooks.destinations import ALLOW_SETTING, DestinationPolicy, DestinationRefused
from syncline.webhooks.signing import generate_secret
from syncline.wiring import api, configure_logging, secret_key, serve, utcnow, worker

PARAGON_DASHBOARD_HOST = "dashboard.useparagon.com"
"""The `aud` host Paragon's dashboard (and its example clients) put in user tokens."""


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


async def _warn_if_refused(url: str, settings: Settings) -> None:
    """Delivery refuses private destinations unless the operator allows them: say so now."""
    if settings.allow_private_webhooks or url == settings.webhook_url:
        return
    try:
        await DestinationPolicy().check(url)
    except DestinationRefused as exc:
        print(
            f"warning: {exc}.\n  The URL is stored all the same; deliveries to it fail (and are "
            f"retried) until the server runs with {ALLOW_SETTING}=true.",
            file=sys.stderr,
        )


async def _projects_create(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.webhook_url:
        await _warn_if_refused(args.webhook_url, settings)
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
        await store.create_project(project, utcnow())
    finally:
        await store.db.dispose()
    path = Path(args.key_out) if args.key_out else _key_path(settings, project_id)
    _write_private(path, signing.private_pem)
    cli = command_name()
    print(f"project id:     {project_id}")
    print(f"private key:    {path}  (keep it secret: it signs your users' tokens)")
    if webhook_secret:
        print(f"webhook url:    {args.webhook_url}")
        print(f"webhook secret: {webhook_secret}")
    else:
        print(f"webhook url:    none yet; events wait until: {cli} projects set-webhook ...")
    print(f"mint a token:   {cli} token --project {project_id} --user <user id>")
    return 0


async def _projects_set_webhook(args: argparse.Namespace) -> int:
    settings = _settings(args)
    await _warn_if_refused(args.url, settings)
    store, box = await _with_store(settings)
    try:
        if await store.get_project(args.project) is None:
            print(f"error: no project {args.project}", file=sys.stderr)
            return 1
        secret = args.secret or generate_secret()
        released = await store.set_webhook(args.project, args.url, box.encrypt(secret), utcnow())
    finally:
        await store.db.dispose()
    print(f"webhook url:    {args.url}")
    print(f"webhook secret: {secret}")
    if released:
        print(f"{released} event(s) held for want of a URL will now be delivered")
    return 0


async def _projects_list(args: argparse.Namespace) -> int:
    store, _ = await _with_store(_settings(args))
    try:
        found = await store.list_projects()
    finally:
        await store.db.dispose()
    if not found:
        print(f"no projects yet: {command_name()} projects create --webhook-url <url>")
        return 0
    print(f"{'id':36}  {'name':16}  {'created':24}  webhook url")
    for project in found:
        url = project.webhook_url or "(none)"
        print(f"{project.id:36}  {project.name[:16]:16}  {iso(project.created_at):24}  {url}")
    return 0


async def _projects_show(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store, _ = await _with_store(settings)
    try:
        project = await store.get_project(args.project)
        waiting = (await store.waiting_events()).get(args.project, {})
    finally:
        await store.db.dispose()
    if project is None:
        print(f"error: no project {args.project}", file=sys.stderr)
        return 1
    key = _key_path(settings, project.id)
    print(f"project id:     {project.id}")
    print(f"name:           {project.name}")
    print(f"created:        {iso(project.created_at)}")
    print(f"webhook url:    {project.webhook_url or '(none: events are held until one is set)'}")
    print(
        "waiting events: "
        + ", ".join(f"{waiting.get(s, 0)} {s}" for s in ("pending", "held", "parked"))
    )
    print(f"private key:    {key if key.exists() else '(not on this machine)'}")
    print("public key:")
    print(project.public_key_pem.rstrip())
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


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(settings.log_level)
    asyncio.run(serve(settings, greet=lambda found: print(welcome(settings, found), flush=True)))
    return 0


def _database(settings: Settings) -> str:
    path = settings.sqlite_path()
    return f"SQLite {path}" if path is not None else "PostgreSQL"


def welcome(settings: Settings, found: Sequence[Project]) -> str:
    """What `syncline serve` says first: where it listens, its docs, and what to do next."""
    base = f"http://{settings.host}:{settings.port}"
    cli = command_name()
    lines = [
        f"Syncline {__version__} on {base} ({_database(settings)})",
        f"  API docs: {base}/docs    health: {base}/healthz    try it: {cli} demo",
    ]
    if not found:
        lines += [
            "No project yet. Create one (it prints the project id and where its private key "
            "went), then mint a user token:",
            f"  {cli} projects create --webhook-url https://app.example.com/hooks",
            f"  {cli} token --project <project id> --user <your user id>",
        ]
    else:
        names = ", ".join(p.id for p in found[:3]) + (" ..." if len(found) > 3 else "")
        lines.append(
            f"  {len(found)} project(s): {names}; mint a user token with "
            f"{cli} token --project <project id> --user <your user id>"
        )
    return "\n".join(lines)


def _migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    upgrade(settings.database_url)
    print("database is at the newest schema")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from syncline.demo import run_demo

    configure_logging(os.environ.get("SYNCLINE_LOG_LEVEL", "warning"))
    return run_demo(
        port=args.port,
        sandbox_port=args.sandbox_port,
        receiver_port=args.receiver_port,
        workdir=Path(args.dir) if args.dir else None,
    )


def _sandbox(args: argparse.Namespace) -> int:
    from syncline.demo import sandbox_command

    return sandbox_command(
        args.action,
        integration=args.integration,
        name=getattr(args, "name", None),
        content=getattr(args, "content", None),
        rename=getattr(args, "rename", None),
        url=args.url,
        workdir=Path(args.dir) if args.dir else None,
    )


def _add_listen_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--host", help="listen address (SYNCLINE_HOST, default 127.0.0.1)")
    command.add_argument("--port", type=int, help="listen port (SYNCLINE_PORT, default 8000)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncline", description="Self-hosted, Paragon-compatible managed sync."
    )
    parser.add_argument("--version", action="version", version=f"syncline {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser(
        "serve", help="run API, scheduler, workers and webhooks in one process"
    )
    _add_listen_options(serve_cmd)
    serve_cmd.set_defaults(func=_serve)

    api_cmd = commands.add_parser(
        "api", help="run the HTTP API alone (distributed mode, beside `syncline worker`)"
    )
    _add_listen_options(api_cmd)
    api_cmd.set_defaults(func=_long_running(api))

    worker_cmd = commands.add_parser(
        "worker", help="run syncs and deliver webhooks (distributed mode, any number of them)"
    )
    worker_cmd.set_defaults(func=_long_running(worker))

    migrate_cmd = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate_cmd.set_defaults(func=_migrate)

    projects = commands.add_parser(
        "projects", help="create, list and show projects; set their webhook"
    ).add_subparsers(dest="action", required=True)
    create = projects.add_parser("create", help="create a project with a new signing key pair")
    create.add_argument("--name", default="default", help="a name to tell projects apart")
    create.add_argument(
        "--algorithm",
        choices=["RS256", "ES256"],
        default="RS256",
        help="signing algorithm of the project's key pair (default RS256, as Paragon's)",
    )
    create.add_argument(
        "--webhook-url", help="where to send this project's webhooks (can be set later)"
    )
    create.add_argument(
        "--key-out",
        help="where to write the private key (PEM; default: the data directory's keys/)",
    )
    create.set_defaults(func=lambda a: asyncio.run(_projects_create(a)))
    webhook = projects.add_parser("set-webhook", help="set a project's webhook URL and secret")
    webhook.add_argument("--project", required=True, help="the project id")
    webhook.add_argument("--url", required=True, help="the webhook endpoint (http or https)")
    webhook.add_argument("--secret", help="whsec_... (generated when omitted)")
    webhook.set_defaults(func=lambda a: asyncio.run(_projects_set_webhook(a)))
    listing = projects.add_parser("list", help="every project, with its webhook URL")
    listing.set_defaults(func=lambda a: asyncio.run(_projects_list(a)))
    show = projects.add_parser(
        "show", help="one project: webhook, waiting events, keys (never the webhook secret)"
    )
    show.add_argument("project", help="the project id")
    show.set_defaults(func=lambda a: asyncio.run(_projects_show(a)))

    token = commands.add_parser("token", help="mint a user token for development")
    token.add_argument("--project", required=True, help="the project id (goes into aud)")
    token.add_argument("--user", required=True, help="your user's id (the sub claim)")
    token.add_argument(
        "--key", help="the project's private key, PEM (default: where `projects create` put it)"
    )
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    token.add_argument(
        "--host-claim",
        default=PARAGON_DASHBOARD_HOST,
        help=f"host part of aud, <host>/<project> (default {PARAGON_DASHBOARD_HOST}, "
        "as Paragon's dashboard mints)",
    )
    token.set_defaults(func=_token)

    keys = commands.add_parser("keys", help="secret keys").add_subparsers(
        dest="action", required=True
    )
    keygen = keys.add_parser("generate", help="print a new SYNCLINE_SECRET_KEY")
    keygen.set_defaults(func=_keys_generate)

    demo = commands.add_parser(
        "demo",
        help="run a sandbox Google Drive and a webhook receiver beside `syncline serve`",
    )
    demo.add_argument("--port", type=int, help="API port (default 8000, or a free one)")
    demo.add_argument(
        "--sandbox-port", type=int, help="sandbox Drive port (default 8001, or a free one)"
    )
    demo.add_argument(
        "--receiver-port", type=int, help="webhook receiver port (default 8002, or a free one)"
    )
    demo.add_argument(
        "--dir",
        help="where the demo keeps its database and keys, cleared at each start "
        "(default ~/.local/share/syncline/demo)",
    )
    demo.set_defaults(func=_demo)

    sandbox = commands.add_parser(
        "sandbox",
        help="change the running demo's sandbox Drive, SharePoint site, OneDrive, Box or "
        "Dropbox: list, add, edit, delete files",
    )
    sandbox.add_argument(
        "--integration",
        choices=("googledrive", "sharepoint", "onedrive", "box", "dropbox"),
        default="googledrive",
        help="whose files to change (default googledrive)",
    )
    sandbox.add_argument(
        "--url", help="the sandbox's URL (default: the one the running demo wrote down)"
    )
    sandbox.add_argument("--dir", help="the demo's directory, if `syncline demo --dir` was used")
    actions = sandbox.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the sandbox user's files").set_defaults(func=_sandbox)
    add = actions.add_parser("add", help="create a text file")
    add.add_argument("name", help="the new file's name")
    add.add_argument("--content", default="", help="its text (default: a line naming it)")
    add.set_defaults(func=_sandbox)
    edit = actions.add_parser("edit", help="change a file's text or name")
    edit.add_argument("name", help="the file's name or id")
    edit.add_argument("--content", help="its new text (default: a line with the time)")
    edit.add_argument("--rename", help="a new name")
    edit.set_defaults(func=_sandbox)
    remove = actions.add_parser("delete", help="delete a file (Drive: move it to the trash)")
    remove.add_argument("name", help="the file's name or id")
    remove.set_defaults(func=_sandbox)
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
    except BrokenPipeError:
        # The reader went away (`syncline projects show P | head`): not an error of ours.
        # Point stdout at /dev/null so the flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code or 0)

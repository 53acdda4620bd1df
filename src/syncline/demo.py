"""`syncline demo`: a writable sandbox Google Drive, a sandbox Microsoft Graph (a SharePoint site
and a OneDrive), a sandbox Box, a sandbox Dropbox and a webhook receiver beside
`syncline serve`, with commands to try every part of the API; and `syncline sandbox`, which
changes their files."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from syncline.auth import generate_signing_key, mint_user_token
from syncline.config import Settings
from syncline.console import command_name
from syncline.crypto import generate_key
from syncline.domain.ids import record_id, sync_id
from syncline.errors import ConfigError
from syncline.sandbox import BackgroundServer, DriveState, create_drive_app, populate
from syncline.sandbox.box import BOX_PATHS, BoxControl, BoxState, box_env, create_box_app
from syncline.sandbox.box.samples import BoxSamples
from syncline.sandbox.box.samples import populate as populate_box
from syncline.sandbox.dropbox import (
    DROPBOX_PATHS,
    DropboxControl,
    DropboxState,
    create_dropbox_app,
    dropbox_env,
)
from syncline.sandbox.dropbox.samples import DropboxSamples
from syncline.sandbox.dropbox.samples import populate as populate_dropbox
from syncline.sandbox.googledrive.control import DriveControl
from syncline.sandbox.googledrive.settings import googledrive_env
from syncline.sandbox.kit.control import PREFIX, with_control
from syncline.sandbox.msgraph import GraphState, create_graph_app, graph_env
from syncline.sandbox.msgraph.control import GraphControl
from syncline.sandbox.msgraph.samples import GraphSamples
from syncline.sandbox.msgraph.samples import populate as populate_graph
from syncline.webhooks import WebhookVerificationError, verify
from syncline.webhooks.signing import generate_secret
from syncline.wiring import serve

__all__ = ["default_dir", "run_demo", "sandbox_command"]

DEMO_USER = "demo-user"
DRIVE_USER = "alice@example.com"
COLLEAGUE = "bob@example.com"
GRAPH_SCOPES = ("offline_access", "User.Read", "Files.Read.All", "Sites.Read.All",
                "GroupMember.Read.All")  # fmt: skip
GRAPH_PATHS = ("/v1.0/", "/common/", "/_download/")
"""The sandbox's one port serves Graph under these paths, Box under `BOX_PATHS`, Dropbox under
`DROPBOX_PATHS`, and Drive under every other."""
MARKER = ".syncline-demo"
"""A file in the demo directory: only a directory holding it is ever cleared."""
STATE_FILE = "demo.json"
"""Where a running demo writes its URLs, for `syncline sandbox`."""

_DEFAULT_PORTS = {"--port": 8000, "--sandbox-port": 8001, "--receiver-port": 8002}


def default_dir() -> Path:
    """`$XDG_DATA_HOME/syncline/demo` (`~/.local/share/syncline/demo`): outside any checkout."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "syncline" / "demo"


def _clear(workdir: Path) -> None:
    """Start from nothing: a second run must not meet the first one's syncs or keys."""
    if workdir.exists() and any(workdir.iterdir()) and not (workdir / MARKER).exists():
        raise ConfigError(
            f"{workdir} is not empty and is not a Syncline demo directory; the demo clears its "
            "directory at each start, so give it an empty or new one with --dir."
        )
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / MARKER).write_text("syncline demo data: cleared at each `syncline demo` start\n")


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _any_free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _choose_port(requested: int | None, flag: str, taken: set[int]) -> int:
    """The port asked for (it must be free), else the default, else any free one."""
    if requested is not None:
        if requested in taken or not _is_free(requested):
            raise ConfigError(
                f"port {requested} is already taken (by a running `syncline serve`, another "
                f"demo, or another program); choose another with {flag} <port>, or leave "
                f"{flag} out to have a free one picked."
            )
        return requested
    default = _DEFAULT_PORTS[flag]
    if default not in taken and _is_free(default):
        return default
    while (port := _any_free_port()) in taken:
        pass
    return port


@dataclass
class _Names:
    """Record ids of the sandboxes' files, to print names beside received events."""

    drive: DriveState
    graph: GraphState
    box: BoxState
    dropbox: DropboxState
    syncs: dict[str, str]
    """Sync id by integration."""

    def __post_init__(self) -> None:
        self._known: dict[str, str] = {}
        self.refresh()

    def refresh(self) -> None:
        for f in self.drive.visible_files(DRIVE_USER):
            self._known[record_id(self.syncs["googledrive"], f.id)] = f.name
        with self.graph.lock:
            items = list(self.graph.items.values())
        for item in items:
            for integration in ("sharepoint", "onedrive"):
                self._known[record_id(self.syncs[integration], item.id)] = item.name
        with self.box.lock:
            boxed = list(self.box.items.values())
        for entry in boxed:
            self._known[record_id(self.syncs["box"], entry.id)] = entry.name
        with self.dropbox.lock:
            dropped = list(self.dropbox.items.values())
        for dropped_item in dropped:
            self._known[record_id(self.syncs["dropbox"], dropped_item.id)] = dropped_item.name

    def of(self, rid: str) -> str:
        if rid not in self._known:
            self.refresh()
        return self._known.get(rid, "?")


def _receiver(secret: str, names: _Names) -> Starlette:
    """A webhook endpoint that checks each delivery's signature and prints it."""
    lock = threading.Lock()

    async def receive(request: Request) -> Response:
        body = await request.body()
        try:
            verify(secret, dict(request.headers), body)
        except WebhookVerificationError as exc:
            print(f"  webhook refused: {exc}", flush=True)
            return Response(status_code=400)
        event = orjson.loads(body)
        data = event.get("data") or {}
        detail = ""
        if "recordId" in data:
            detail = f"{names.of(data['recordId'])!r}  record {data['recordId']}"
        elif event.get("event") == "sync_complete":
            detail = f"{data.get('numRecords')} records; pull them with the records command"
        elif event.get("error"):
            detail = str(event["error"].get("message"))
        with lock:
            stamp = datetime.now().strftime("%H:%M:%S")  # noqa: DTZ005 - the reader's clock
            print(f"  [{stamp}] webhook {event.get('event'):15} {detail}", flush=True)
        return Response(status_code=204)

    return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])


def run_demo(
    *,
    port: int | None = None,
    sandbox_port: int | None = None,
    receiver_port: int | None = None,
    workdir: Path | None = None,
) -> int:
    """Run the demo until Ctrl+C. Ports left out default to 8000-8002, or free ones."""
    workdir = (workdir or default_dir()).expanduser().resolve()
    chosen: list[int] = []
    for requested, flag in (
        (port, "--port"),
        (sandbox_port, "--sandbox-port"),
        (receiver_port, "--receiver-port"),
    ):
        chosen.append(_choose_port(requested, flag, set(chosen)))
    api_port, drive_port, hooks_port = chosen
    _clear(workdir)

    drive = DriveState(token_ttl=3600.0)
    paths = populate(drive, user=DRIVE_USER, colleague=COLLEAGUE)
    access, refresh = drive.issue_tokens(DRIVE_USER)
    signing = generate_signing_key()
    project_id = str(uuid.uuid4())
    (workdir / "project.pem").write_text(signing.private_pem)
    token = mint_user_token(
        signing.private_pem,
        project_id,
        DEMO_USER,
        host="dashboard.useparagon.com",
        ttl=timedelta(hours=24),
    )
    graph = GraphState(token_ttl=3600.0, tenant_domain="example.com")
    samples = populate_graph(graph, user=DRIVE_USER, colleague=COLLEAGUE)
    box = BoxState(token_ttl=3600.0, enterprise="example.com")
    box_samples = populate_box(box, user=DRIVE_USER, colleague=COLLEAGUE)
    dropbox = DropboxState()
    dropbox_samples = populate_dropbox(dropbox, user=DRIVE_USER, colleague=COLLEAGUE)
    syncs = {
        integration: sync_id(project_id, DEMO_USER, integration, "files", "default")
        for integration in ("googledrive", "sharepoint", "onedrive", "box", "dropbox")
    }
    sid = syncs["googledrive"]
    secret = generate_secret()
    sandbox_app = with_control(
        _by_path(
            [
                (GRAPH_PATHS, create_graph_app(graph)),
                (BOX_PATHS, create_box_app(box)),
                (DROPBOX_PATHS, create_dropbox_app(dropbox)),
            ],
            default=create_drive_app(drive),
        ),
        {
            "googledrive": DriveControl(drive, DRIVE_USER),
            "sharepoint": GraphControl(graph, samples.library),
            "onedrive": GraphControl(graph, samples.onedrive),
            "box": BoxControl(box, DRIVE_USER),
            "dropbox": DropboxControl(dropbox, DRIVE_USER),
        },
    )
    hooks_app = _receiver(secret, _Names(drive, graph, box, dropbox, syncs))
    with (
        BackgroundServer(sandbox_app, port=drive_port) as sandbox,
        BackgroundServer(hooks_app, port=hooks_port) as hooks,
    ):
        settings = Settings(
            port=api_port,
            database_url=f"sqlite:///{workdir / 'syncline.db'}",
            project_id=project_id,
            signing_public_key=signing.public_pem,
            webhook_url=f"{hooks.url}/webhooks",
            webhook_secret=secret,
            secret_key=generate_key(),  # the directory is cleared at each start anyway
            log_level=os.environ.get("SYNCLINE_LOG_LEVEL", "warning"),
        )
        base = f"http://{settings.host}:{api_port}"
        (workdir / STATE_FILE).write_bytes(
            orjson.dumps({"api": base, "sandbox": sandbox.url, "receiver": hooks.url})
        )
        guide = _guide(
            base=base,
            sandbox=sandbox.url,
            receiver=hooks.url,
            workdir=workdir,
            token=token,
            sync=sid,
            credential=_credential(access, refresh),
            files={
                "text": record_id(sid, paths["README.txt"]),
                "doc": record_id(sid, paths["Projects/Q3 Planning/Q3 plan"]),
            },
            graph=_graph_steps(graph, samples, syncs, command_name()),
            box=_box_steps(box, box_samples, syncs["box"], command_name()),
            dropbox=_dropbox_steps(dropbox, dropbox_samples, syncs["dropbox"], command_name()),
        )
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                serve(
                    settings,
                    env={
                        **googledrive_env(sandbox.url),
                        **graph_env(sandbox.url),
                        **box_env(sandbox.url),
                        **dropbox_env(sandbox.url),
                    },
                    on_ready=lambda: print(guide, flush=True),
                )
            )
    return 0


def _by_path(routes: list[tuple[tuple[str, ...], ASGIApp]], *, default: ASGIApp) -> ASGIApp:
    """One ASGI app for the sandbox's port: each request to the first app whose path
    prefixes match it, else to `default` (Drive)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for prefixes, routed in routes:
                if scope["path"].startswith(prefixes):
                    await routed(scope, receive, send)
                    return
        await default(scope, receive, send)

    return app


def _credential(
    access: str, refresh: str, integration: str = "googledrive", scopes: tuple[str, ...] = ()
) -> str:
    expires = (datetime.now(UTC) + timedelta(seconds=3500)).isoformat()
    body: dict[str, object] = {
        "integration": integration,
        "accessToken": access,
        "refreshToken": refresh,
        "expiresAt": expires,
    }
    if scopes:
        body["scopes"] = list(scopes)  # Microsoft's refreshes name them
    return orjson.dumps(body).decode()


def _graph_steps(graph: GraphState, samples: GraphSamples, syncs: dict[str, str], cli: str) -> str:
    """Step 5 of the guide: connect and sync the SharePoint site and the OneDrive, and change
    the site's library."""
    auth = '-H "Authorization: Bearer $TOKEN"'
    json_ = "-H 'Content-Type: application/json'"
    lines = []
    for integration, configuration, paths in (
        ("sharepoint", {"siteId": samples.site}, samples.sharepoint_paths),
        ("onedrive", {}, samples.onedrive_paths),
    ):
        access, refresh = graph.issue_tokens(DRIVE_USER, GRAPH_SCOPES)
        enable: dict[str, object] = {"integration": integration, "pipeline": "files"}
        if configuration:
            enable["configuration"] = configuration
        sync, first = syncs[integration], next(p for p in paths if p.endswith(".txt"))
        lines += [
            f"  curl -s {auth} {json_} $API/api/credentials "
            f"-d {shlex.quote(_credential(access, refresh, integration, GRAPH_SCOPES))}",
            f"  curl -s {auth} {json_} $API/api/syncs -d {shlex.quote(orjson.dumps(enable).decode())}",
            f'  curl -s {auth} "$API/api/syncs/{sync}/records?pageSize=50"',
            f"  curl -s {auth} $API/api/syncs/{sync}/records/{record_id(sync, paths[first])}/content",
        ]
    sharepoint = syncs["sharepoint"]
    lines += [
        f"  {cli} sandbox --integration sharepoint add minutes.txt --content 'Minutes'",
        f"  curl -s -X POST {auth} $API/api/syncs/{sharepoint}/trigger",
    ]
    return "\n".join(lines)


def _files_steps(
    integration: str, tokens: tuple[str, str], sync: str, content: str, readable: str, cli: str
) -> str:
    """A provider's step of the guide: connect and sync the account, download the `content`
    item, ask whether the colleague may read the `readable` one, and change the account."""
    auth = '-H "Authorization: Bearer $TOKEN"'
    json_ = "-H 'Content-Type: application/json'"
    access, refresh = tokens
    enable = orjson.dumps({"integration": integration, "pipeline": "files"}).decode()
    check = orjson.dumps({"object": readable, "user": COLLEAGUE, "role": "can_read"}).decode()
    return "\n".join(
        [
            f"  curl -s {auth} {json_} $API/api/credentials "
            f"-d {shlex.quote(_credential(access, refresh, integration))}",
            f"  curl -s {auth} {json_} $API/api/syncs -d '{enable}'",
            f'  curl -s {auth} "$API/api/syncs/{sync}/records?pageSize=50"',
            f"  curl -s {auth} $API/api/syncs/{sync}/records/{content}/content",
            f"  curl -s {auth} {json_} $API/api/permissions/{sync}/check -d '{check}'",
            f"  {cli} sandbox --integration {integration} add memo.txt --content 'Memo'",
            f"  curl -s -X POST {auth} $API/api/syncs/{sync}/trigger",
        ]
    )


def _box_steps(box: BoxState, samples: BoxSamples, sync: str, cli: str) -> str:
    """Step 6: the Box account; the colleague reads a folder shared with a group."""
    renewal = record_id(sync, samples.paths["Contracts/Renewals/2025.txt"])
    return _files_steps("box", box.issue_tokens(DRIVE_USER), sync, renewal, renewal, cli)


def _dropbox_steps(dropbox: DropboxState, samples: DropboxSamples, sync: str, cli: str) -> str:
    """Step 7: the Dropbox account; a Paper document as Markdown, and a shared folder's file
    its editor reads."""
    paper = record_id(sync, samples.paths["Projects/Roadmap.paper"])
    brief = record_id(sync, samples.paths["Projects/Acme/brief.txt"])
    return _files_steps("dropbox", dropbox.issue_tokens(DRIVE_USER), sync, paper, brief, cli)


def _guide(
    *,
    base: str,
    sandbox: str,
    receiver: str,
    workdir: Path,
    token: str,
    sync: str,
    credential: str,
    files: dict[str, str],
    graph: str,
    box: str,
    dropbox: str,
) -> str:
    """What the demo prints once it is ready: working commands with real ids."""
    cli = command_name()
    auth = '-H "Authorization: Bearer $TOKEN"'
    json_ = "-H 'Content-Type: application/json'"

    def check(user: str) -> str:
        body = orjson.dumps({"object": files["text"], "user": user, "role": "can_read"}).decode()
        return f"curl -s {auth} {json_} $API/api/permissions/$SYNC/check -d '{body}'"

    return f"""
Syncline demo is running.
  API       {base}   (OpenAPI docs: {base}/docs)
  sandbox   {sandbox}   a Google Drive of {DRIVE_USER}, with Docs, PDFs and a shared drive;
            and Microsoft Graph: a SharePoint site "Marketing" and {DRIVE_USER}'s OneDrive;
            and Box: {DRIVE_USER}'s All Files, a folder shared with a "Legal" group;
            and Dropbox: {DRIVE_USER}'s Dropbox, a shared folder and a Paper document
  webhooks  {receiver}   events it receives are printed below, signatures checked
  data      {workdir}   (cleared at each start)

In another terminal:

  export API={base}
  export TOKEN={token}
  export SYNC={sync}

1. Connect the user's sandbox Google Drive (Syncline checks the tokens with Drive):
  curl -s {auth} {json_} $API/api/credentials -d {shlex.quote(credential)}

2. Enable the sync. The initial sync starts at once; sync_complete arrives below:
  curl -s {auth} {json_} $API/api/syncs -d '{{"integration":"googledrive","pipeline":"files"}}'

3. Status, records, content (README.txt, and a Google Doc as DOCX), who may read README.txt:
  curl -s {auth} $API/api/syncs/$SYNC
  curl -s {auth} "$API/api/syncs/$SYNC/records?pageSize=50"
  curl -s {auth} $API/api/syncs/$SYNC/records/{files["text"]}/content
  curl -s {auth} -o q3-plan.docx $API/api/syncs/$SYNC/records/{files["doc"]}/content
  {check(DRIVE_USER)}
  {check(COLLEAGUE)}
  curl -s {auth} $API/api/syncs/$SYNC/events

4. Change the Drive: the next incremental sync (every minute) sends record_created,
   record_updated and record_deleted below. To look now instead of within the minute:
   curl -s -X POST {auth} $API/api/syncs/$SYNC/trigger
  {cli} sandbox add hello.txt --content 'Hello'
  {cli} sandbox edit hello.txt --content 'Hello again'
  {cli} sandbox delete hello.txt
  {cli} sandbox list

5. SharePoint and OneDrive, the same way (connect, enable, records, a file's content):
{graph}

6. Box, the same way; {COLLEAGUE} reads 2025.txt through the "Legal" group:
{box}

7. Dropbox, the same way; the Paper document comes as Markdown, and {COLLEAGUE} reads
   brief.txt as an editor of the shared "Projects" folder:
{dropbox}

Press Ctrl+C to stop.
"""


def _sandbox_url(url: str | None, workdir: Path | None) -> str:
    if url:
        return url.rstrip("/")
    state = (workdir or default_dir()).expanduser() / STATE_FILE
    try:
        return str(orjson.loads(state.read_bytes())["sandbox"])
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"no running demo found ({state} is missing): start `syncline demo` first, "
            "or give the sandbox's address with --url"
        ) from exc


def sandbox_command(
    action: str,
    *,
    integration: str = "googledrive",
    name: str | None,
    content: str | None,
    rename: str | None,
    url: str | None,
    workdir: Path | None,
) -> int:
    """`syncline sandbox list|add|edit|delete`: change a file of the running demo's sandbox
    Drive, SharePoint site, OneDrive, Box or Dropbox."""
    files = f"{_sandbox_url(url, workdir)}{PREFIX}/{integration}/files"
    request: tuple[str, str, dict[str, str] | None]
    if action == "add":
        assert name is not None
        request = ("POST", files, {"name": name, "content": content or f"{name}\n"})
    elif action == "edit":
        assert name is not None
        text = content
        if text is None and rename is None:
            text = f"edited at {datetime.now(UTC).isoformat(timespec='seconds')}\n"
        changes = {"content": text, "name": rename}
        request = ("PATCH", f"{files}/{name}", {k: v for k, v in changes.items() if v is not None})
    elif action == "delete":
        assert name is not None
        request = ("DELETE", f"{files}/{name}", None)
    else:
        request = ("GET", files, None)
    method, target, payload = request
    try:
        response = httpx.request(method, target, json=payload, timeout=10)
    except httpx.HTTPError as exc:
        raise ConfigError(
            f"the sandbox at {target} does not answer ({exc}); is the demo up?"
        ) from exc
    if response.status_code >= 400:
        print(f"error: {response.json().get('error', response.text)}")
        return 1
    answer = response.json()
    if action == "list":
        for item in answer:
            print(f"{item['id']}  {item['mimeType']:45}  {item['name']}")
        return 0
    deleted = "moved to the trash" if integration in ("googledrive", "box") else "deleted"
    done = {"add": "created", "edit": "changed", "delete": deleted}[action]
    print(
        f"{answer['name']} {done} ({answer['id']}); its webhook follows the next incremental sync"
    )
    return 0

"""The composition root: the one place that builds concrete objects from Settings."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import structlog
import uvicorn
from fastapi import FastAPI

from syncline.api import Services, create_app
from syncline.api.routes.admin import AdminAPI
from syncline.auth import TokenVerifier, load_public_key_pem
from syncline.config import Settings
from syncline.connectors.pacing import Pace
from syncline.connectors.registry import Registry, builtin_registry
from syncline.connectors.transport import shared_client
from syncline.credentials import CredentialService, OAuthApp
from syncline.credentials.connect import ConnectFlow
from syncline.crypto import SecretBox, generate_key
from syncline.domain.cursors import CursorCodec
from syncline.domain.fairness import RunCaps
from syncline.domain.projects import Project
from syncline.engine.offload import PageWorkers, default_processes
from syncline.engine.runner import EngineSettings, SyncRunner
from syncline.errors import ConfigError
from syncline.permissions.evaluator import Evaluator
from syncline.scheduler import Scheduler
from syncline.services import SyncService
from syncline.store import Database, Store
from syncline.store.migrate import is_current, upgrade
from syncline.webhooks.destinations import DestinationPolicy, DestinationRefused
from syncline.webhooks.dispatcher import Dispatcher

log = structlog.get_logger("syncline")


def utcnow() -> datetime:
    return datetime.now(UTC)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(message)s")
    # One line per upstream request (and per migration step) would drown the log: ~1 KB per
    # idle run, every sync, every minute. Their warnings and errors still show.
    for noisy in ("httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
    )


def secret_key(settings_key: str | None, data_dir: Path, *, generate: bool) -> str:
    """`SYNCLINE_SECRET_KEY`, or (embedded mode only) one kept beside the SQLite database."""
    if settings_key:
        return settings_key
    if not generate:
        raise ConfigError(
            "SYNCLINE_SECRET_KEY is required (credentials are encrypted with it); "
            "create one with `syncline keys generate`."
        )
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    log.warning(
        "secret_key.generated",
        path=str(path),
        hint="set SYNCLINE_SECRET_KEY in production; losing this file loses the credentials",
    )
    return key


def oauth_apps(registry: Registry, env: Mapping[str, str]) -> dict[str, OAuthApp]:
    """Each integration's OAuth endpoints and client, from `SYNCLINE_<X>_*` or the defaults."""
    apps = {}
    for spec in registry:
        prefix = f"SYNCLINE_{spec.integration.upper()}_"
        apps[spec.integration] = OAuthApp(
            token_url=env.get(prefix + "TOKEN_URL", spec.default_token_url),
            client_id=env.get(prefix + "CLIENT_ID"),
            client_secret=env.get(prefix + "CLIENT_SECRET"),
            auth_url=env.get(prefix + "AUTH_URL", spec.default_auth_url),
            scope_on_refresh=None if spec.oauth is None else spec.oauth.scope_on_refresh,
            client_auth="body" if spec.oauth is None else spec.oauth.client_auth,
            body_format="form" if spec.oauth is None else spec.oauth.body_format,
        )
    return apps


def paces(registry: Registry, env: Mapping[str, str]) -> dict[str, Pace]:
    """Each paced integration's request rate (`ConnectorSpec.pace`), from
    `SYNCLINE_<X>_REQUESTS_PER_SECOND` and `SYNCLINE_<X>_REQUEST_BURST` or the spec's.

    Raises:
        ConfigError: a value that is not a positive number (a burst below 1).
    """
    found = {}
    for spec in registry:
        if spec.pace is None:
            continue
        prefix = f"SYNCLINE_{spec.integration.upper()}_"
        rate = env.get(prefix + "REQUESTS_PER_SECOND", str(spec.pace.rate))
        burst = env.get(prefix + "REQUEST_BURST", str(spec.pace.burst))
        try:
            found[spec.integration] = Pace(float(rate), float(burst))
        except ValueError:
            raise ConfigError(
                f"{prefix}REQUESTS_PER_SECOND must be a positive number and "
                f"{prefix}REQUEST_BURST a number of at least 1 (got {rate!r} and {burst!r})."
            ) from None
    return found


def api_urls(registry: Registry, env: Mapping[str, str]) -> dict[str, str]:
    return {
        spec.integration: env.get(
            f"SYNCLINE_{spec.integration.upper()}_API_URL", spec.default_api_url
        ).rstrip("/")
        for spec in registry
    }


def extra_urls(registry: Registry, env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Each integration's other origins (`ConnectorSpec.extra_urls`), from
    `SYNCLINE_<X>_<NAME>_URL` or the defaults."""
    return {
        spec.integration: {
            name: env.get(
                f"SYNCLINE_{spec.integration.upper()}_{name.upper()}_URL", default
            ).rstrip("/")
            for name, default in spec.extra_urls.items()
        }
        for spec in registry
        if spec.extra_urls
    }


class PublicKeys:
    """Project public keys by id, cached briefly so each request costs no query."""

    def __init__(self, store: Store, ttl: float = 30.0) -> None:
        self._store = store
        self._ttl = ttl
        self._cache: dict[str, tuple[float, str | None]] = {}

    async def __call__(self, project_id: str) -> str | None:
        hit = self._cache.get(project_id)
        if hit is not None and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        project = await self._store.get_project(project_id)
        key = None if project is None else project.public_key_pem
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[project_id] = (time.monotonic(), key)
        return key


@dataclass
class Runtime:
    """Everything one Syncline process runs."""

    settings: Settings
    db: Database
    store: Store
    box: SecretBox
    http: httpx.AsyncClient
    runner: SyncRunner
    scheduler: Scheduler
    dispatcher: Dispatcher
    app: FastAPI

    async def close(self) -> None:
        self.runner.workers.close()
        await self.http.aclose()
        await self.db.dispose()


async def build_runtime(
    settings: Settings,
    *,
    embedded: bool,
    env: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Runtime:
    env = os.environ if env is None else env
    if embedded and (path := settings.sqlite_path()) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    store = Store(db)
    key = secret_key(settings.secret_key, settings.data_dir(), generate=embedded)
    box = SecretBox(key)
    await ensure_default_project(settings, store, box)

    http = shared_client(
        timeout=httpx.Timeout(60.0, connect=10.0),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
    )
    registry = builtin_registry()
    apps = oauth_apps(registry, env)
    credentials = CredentialService(
        store,
        box,
        http,
        apps,
        clock,
        registry=registry,
        api_urls=api_urls(registry, env),
        extra_urls=extra_urls(registry, env),
        allow_private_upstreams=settings.allow_private_upstreams,
        paces=paces(registry, env),
    )
    engine_settings = EngineSettings(
        lease_for=_seconds(settings.lease_seconds),
        full_interval=settings.full_interval,
        max_delete_fraction=settings.max_delete_fraction,
        membership_refresh=settings.membership_max_age,
    )
    processes = settings.parse_processes
    workers = PageWorkers(default_processes() if processes is None else processes)
    runner = SyncRunner(store, registry, credentials, clock, engine_settings, workers)
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    scheduler = Scheduler(
        store,
        runner,
        owner=owner,
        concurrency=settings.worker_concurrency,
        clock=clock,
        poll_interval=settings.scheduler_poll_seconds,
        caps=RunCaps(per_project=settings.project_concurrency, total=settings.max_running_syncs),
        grace=settings.shutdown_grace_seconds,
    )
    # The operator's own SYNCLINE_WEBHOOK_URL is trusted; URLs set any other way are checked.
    destinations = DestinationPolicy(
        allow_private=settings.allow_private_webhooks,
        trusted=frozenset(filter(None, [settings.webhook_url])),
    )
    dispatcher = Dispatcher(
        store,
        http,
        box,
        clock,
        destinations=destinations,
        block_after=settings.block_after,
        concurrency=settings.webhook_concurrency,
    )
    syncs = SyncService(store, registry, credentials, clock, wake=scheduler.wake)

    async def ready() -> bool:
        try:
            return await asyncio.to_thread(is_current, settings.database_url)
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False

    services = Services(
        store=store,
        syncs=syncs,
        verifier=TokenVerifier(settings.audiences()),
        public_key=PublicKeys(store),
        cursors=CursorCodec(key.encode()),
        connector=runner.connector,
        ready=ready,
        permissions=Evaluator(store.permissions),
        admin=(
            AdminAPI(settings.admin_token, box, destinations, clock)
            if settings.admin_token
            else None
        ),
        connect=ConnectFlow(store, box, http, registry, apps, credentials, clock),
        public_url=settings.public_url,
    )
    return Runtime(
        settings,
        db,
        store,
        box,
        http,
        runner,
        scheduler,
        dispatcher,
        create_app(services, max_inflight=settings.max_inflight_requests),
    )


async def ensure_default_project(settings: Settings, store: Store, box: SecretBox) -> None:
    """Create the project named by `SYNCLINE_PROJECT_ID` if it does not exist, or fill in its
    webhook if it has none. What an operator stored is never changed by starting a process: a
    setting that disagrees with it is ignored, with a warning that says how to change it."""
    pem = settings.signing_public_key
    if pem is None and settings.signing_public_key_file is not None:
        try:
            pem = settings.signing_public_key_file.read_text()
        except OSError as exc:
            raise ConfigError(
                f"SYNCLINE_SIGNING_PUBLIC_KEY_FILE cannot be read: {exc.strerror}"
            ) from exc
    if settings.project_id is None:
        if pem is not None:
            raise ConfigError("SYNCLINE_SIGNING_PUBLIC_KEY is set but SYNCLINE_PROJECT_ID is not.")
        return
    try:
        project_id = str(uuid.UUID(settings.project_id))
    except ValueError as exc:
        raise ConfigError("SYNCLINE_PROJECT_ID must be a UUID.") from exc
    if pem is not None:
        pem = load_public_key_pem(pem)
    if settings.webhook_url and not settings.webhook_secret:
        raise ConfigError("SYNCLINE_WEBHOOK_URL needs SYNCLINE_WEBHOOK_SECRET (whsec_...).")
    secret_enc = box.encrypt(settings.webhook_secret) if settings.webhook_secret else None
    existing = await store.get_project(project_id)
    if existing is None:
        if pem is None:
            raise ConfigError(
                "SYNCLINE_PROJECT_ID names no stored project: give SYNCLINE_SIGNING_PUBLIC_KEY "
                "or SYNCLINE_SIGNING_PUBLIC_KEY_FILE (the project's public signing key, PEM) to "
                "create it, or create one with `syncline projects create`."
            )
        project = Project(
            id=project_id,
            name="default",
            public_key_pem=pem,
            webhook_url=settings.webhook_url or None,
            webhook_secret_enc=secret_enc if settings.webhook_url else None,
            created_at=utcnow(),
        )
        if await store.create_project(project, utcnow()):
            log.info("project.created", project_id=project_id)
            return
        existing = await store.get_project(project_id)  # another process created it meanwhile
        assert existing is not None
    if pem is not None and pem != existing.public_key_pem:
        log.warning(
            "project.signing_key_ignored",
            project_id=project_id,
            hint="SYNCLINE_SIGNING_PUBLIC_KEY differs from the stored key, which is kept",
        )
    if not settings.webhook_url:
        return
    if existing.webhook_url is None:
        released = await store.set_webhook(project_id, settings.webhook_url, secret_enc, utcnow())
        log.info("project.webhook_set", project_id=project_id, released_events=released)
    elif existing.webhook_url != settings.webhook_url:
        log.warning(
            "project.webhook_url_ignored",
            project_id=project_id,
            stored=existing.webhook_url,
            hint="SYNCLINE_WEBHOOK_URL differs from the stored webhook URL, which is kept; "
            "change it with `syncline projects set-webhook`",
        )


async def warn_about_webhooks(store: Store, destinations: DestinationPolicy) -> None:
    """At start-up, say which projects cannot be sent their events, and how many wait."""
    waiting = await store.waiting_events()
    projects = await store.list_projects()
    refusals = await asyncio.gather(
        *(_refusal(destinations, p.webhook_url) for p in projects if p.webhook_url)
    )
    refused = dict(zip([p.id for p in projects if p.webhook_url], refusals, strict=True))
    for project in projects:
        counts = waiting.get(project.id, {})
        if project.webhook_url is None:
            log.warning(
                "project.no_webhook_url",
                project_id=project.id,
                waiting_events=sum(counts.values()),
                hint="events are kept until a URL is set: syncline projects set-webhook "
                f"--project {project.id} --url <url>",
            )
        elif (reason := refused.get(project.id)) is not None:
            log.warning(
                "project.webhook_url_refused",
                project_id=project.id,
                url=project.webhook_url,
                reason=reason,
                hint="deliveries fail and are retried until the URL changes, or until "
                "SYNCLINE_ALLOW_PRIVATE_WEBHOOKS=true allows a receiver on this machine or network",
            )
        if counts.get("parked"):
            log.warning(
                "project.parked_events",
                project_id=project.id,
                parked_events=counts["parked"],
                hint="they failed for longer than SYNCLINE_WEBHOOK_BLOCK_AFTER and are retried "
                "on their own; see WEBHOOK_DELIVERY_PARKED in each sync's event log",
            )


async def _refusal(destinations: DestinationPolicy, url: str) -> str | None:
    """Why deliveries to `url` would be refused, or None."""
    if not destinations.guards(url):
        return None
    try:
        await destinations.check(url)
    except DestinationRefused as exc:
        return str(exc)
    return None


@contextlib.asynccontextmanager
async def background(
    runtime: Runtime, stop: asyncio.Event | None = None
) -> AsyncIterator[asyncio.Event]:
    """Run the scheduler and the webhook dispatcher until the block exits."""
    stop = stop or asyncio.Event()
    tasks = [
        asyncio.create_task(runtime.scheduler.run(stop), name="scheduler"),
        asyncio.create_task(runtime.dispatcher.run(stop), name="dispatcher"),
    ]
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


async def serve(
    settings: Settings,
    *,
    env: Mapping[str, str] | None = None,
    on_ready: Callable[[], None] | None = None,
    greet: Callable[[list[Project]], None] | None = None,
) -> None:
    """`syncline serve`: API, scheduler, workers and webhook delivery in one process.

    `greet` is shown the stored projects before the server starts (the CLI prints what to do
    next); `on_ready` is called once it accepts requests.
    """
    limit_malloc_arenas()
    runtime = await build_runtime(settings, embedded=True, env=env)
    runtime.runner.workers.start()
    if greet is not None:
        greet(await runtime.store.list_projects())
    await warn_about_webhooks(runtime.store, runtime.dispatcher.destinations)
    released = await runtime.store.release_all_leases()
    if released:
        log.info("serve.leases_released", count=released)
    server = _http_server(runtime)
    _freeze_heap()
    _on_stop_signals("serve", server.request_stop)
    try:
        async with background(runtime):
            log.info("serve.starting", url=f"http://{settings.host}:{settings.port}")
            if on_ready is not None:
                asyncio.get_running_loop().call_later(0.5, on_ready)
            await server.serve()
    finally:
        await runtime.close()


async def api(settings: Settings, *, env: Mapping[str, str] | None = None) -> None:
    """`syncline api`: the HTTP API alone; `syncline worker` processes run the syncs."""
    _require_shared_database(settings, "api")
    limit_malloc_arenas()
    runtime = await build_runtime(settings, embedded=False, env=env)
    server = _http_server(runtime)
    _freeze_heap()
    _on_stop_signals("api", server.request_stop)
    try:
        log.info("api.starting", url=f"http://{settings.host}:{settings.port}")
        await server.serve()
    finally:
        await runtime.close()


async def worker(settings: Settings, *, env: Mapping[str, str] | None = None) -> None:
    """`syncline worker`: runs due syncs and delivers webhooks, beside any number of others."""
    _require_shared_database(settings, "worker")
    limit_malloc_arenas()
    runtime = await build_runtime(settings, embedded=False, env=env)
    runtime.runner.workers.start()
    await warn_about_webhooks(runtime.store, runtime.dispatcher.destinations)
    _freeze_heap()
    stop = asyncio.Event()
    _on_stop_signals("worker", stop.set)
    try:
        log.info("worker.started", owner=runtime.scheduler.owner)
        async with background(runtime, stop):
            await stop.wait()
    finally:
        await runtime.close()
        log.info("worker.stopped", owner=runtime.scheduler.owner)


def _require_shared_database(settings: Settings, command: str) -> None:
    # SQLite's writers are serialized inside one process; several processes would fail with
    # "database is locked" under load.
    if settings.sqlite_path() is not None:
        raise ConfigError(
            f"`syncline {command}` runs beside other processes and needs PostgreSQL: set "
            "SYNCLINE_DATABASE_URL=postgresql://... (or run `syncline serve` on SQLite)."
        )


def _http_server(runtime: Runtime) -> _Server:
    settings = runtime.settings
    config = uvicorn.Config(
        runtime.app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        lifespan="off",
    )
    return _Server(config)


_M_ARENA_MAX = -8
"""glibc's `mallopt` parameter for the number of malloc arenas (malloc.h)."""


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (as `MALLOC_ARENA_MAX` would), before any thread starts.

    glibc gives threads arenas of their own, up to eight per core; rows built on one thread
    and freed on another then leave them fragmented. A full sync's resident memory grew from
    220 to 290 MB that way, and stays at 220 MB with two arenas. False where the C library
    has no `mallopt` (musl, macOS): nothing to do there.
    """
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def _freeze_heap() -> None:
    # Everything built so far lives as long as the process: keep the cyclic collector off it, so
    # its full collections stay short and do not stall requests.
    gc.freeze()


def _on_stop_signals(process: str, stop: Callable[[], None]) -> None:
    """SIGTERM or SIGINT: stop in order (runs finish their page and give their sync back).
    A second one: leave at once; leases then lapse on their own and other workers take over."""
    stopping = False

    def on_signal() -> None:
        nonlocal stopping
        if stopping:
            log.warning("process.forced_exit", process=process)
            os._exit(1)
        stopping = True
        log.info("process.stopping", process=process)
        stop()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)


class _Server(uvicorn.Server):
    """uvicorn, minus its signal handling: the process owns SIGTERM and SIGINT (and exits 0)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def request_stop(self) -> None:
        self.should_exit = True


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)

"""Starting a process never changes what an operator stored about a project, and events that
cannot be sent for want of a webhook URL are kept until one is set."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from structlog.testing import capture_logs

from syncline.auth import generate_signing_key
from syncline.cli import main
from syncline.config import Settings
from syncline.crypto import SecretBox, generate_key
from syncline.domain.projects import Project
from syncline.store import Database, Store
from syncline.webhooks.destinations import DestinationPolicy
from syncline.webhooks.signing import generate_secret
from syncline.wiring import ensure_default_project, utcnow, warn_about_webhooks
from tests.support.harness import harness


@pytest.fixture
async def stored(database_url):
    """A store with one project whose webhook and name an operator set."""
    store = Store(Database(database_url))
    box = SecretBox(generate_key())
    signing = generate_signing_key()
    project = Project(
        str(uuid.uuid4()),
        "acme",
        signing.public_pem,
        "https://hooks.example.com/in",
        box.encrypt(generate_secret()),
        utcnow(),
    )
    await store.create_project(project, utcnow())
    yield store, box, project
    await store.db.dispose()


async def test_starting_with_the_project_id_keeps_what_was_stored(stored, database_url):
    """`SYNCLINE_PROJECT_ID` alone (as the README has you export it) leaves the stored name,
    key, webhook URL and secret exactly as they were."""
    store, box, project = stored
    settings = Settings(database_url=database_url, project_id=project.id)

    await ensure_default_project(settings, store, box)

    assert project == await store.get_project(project.id)


async def test_settings_that_disagree_with_the_store_are_ignored_with_a_warning(
    stored, database_url
):
    """A different `SYNCLINE_WEBHOOK_URL` or public key in the environment does not replace the
    stored ones; the log says each was ignored and how to change it."""
    store, box, project = stored
    settings = Settings(
        database_url=database_url,
        project_id=project.id,
        signing_public_key=generate_signing_key().public_pem,
        webhook_url="https://elsewhere.example.com/in",
        webhook_secret=generate_secret(),
    )

    with capture_logs() as logs:
        await ensure_default_project(settings, store, box)

    assert project == await store.get_project(project.id)
    events = {e["event"]: e for e in logs}
    assert "project.webhook_url_ignored" in events
    assert "set-webhook" in events["project.webhook_url_ignored"]["hint"]
    assert "project.signing_key_ignored" in events


async def test_the_environment_fills_a_webhook_that_is_unset(database_url):
    """A stored project without a webhook takes `SYNCLINE_WEBHOOK_URL` and its secret."""
    store = Store(Database(database_url))
    box = SecretBox(generate_key())
    project = Project(
        str(uuid.uuid4()), "p", generate_signing_key().public_pem, None, None, utcnow()
    )
    await store.create_project(project, utcnow())
    secret = generate_secret()
    settings = Settings(
        database_url=database_url,
        project_id=project.id,
        webhook_url="https://hooks.example.com/in",
        webhook_secret=secret,
    )
    try:
        await ensure_default_project(settings, store, box)
        filled = await store.get_project(project.id)
    finally:
        await store.db.dispose()

    assert filled is not None
    assert ("p", "https://hooks.example.com/in") == (filled.name, filled.webhook_url)
    assert filled.webhook_secret_enc is not None
    assert secret == box.decrypt(filled.webhook_secret_enc)


async def test_an_unknown_project_id_without_a_key_says_how_to_create_one(database_url):
    """`SYNCLINE_PROJECT_ID` naming no stored project, with no key to create it, is refused with
    a message naming both ways out."""
    store = Store(Database(database_url))
    settings = Settings(database_url=database_url, project_id=str(uuid.uuid4()))
    try:
        with pytest.raises(Exception, match="syncline projects create"):
            await ensure_default_project(settings, store, SecretBox(generate_key()))
    finally:
        await store.db.dispose()


async def test_events_without_a_webhook_url_are_kept_then_delivered_once_one_is_set(
    database_url, tmp_path, monkeypatch, capsys
):
    """With no webhook URL, events are held (not skipped), the sync's event log and a start-up
    warning say so; `syncline projects set-webhook` then releases them and they are delivered
    in order."""
    async with harness(database_url, tmp_path, webhook=False, allow_private_webhooks=True) as h:
        h.drive.add_file("a.txt")
        await h.connect()
        sync = await h.enable()
        await h.settle()
        h.drive.add_file("b.txt")
        await h.trigger(sync["id"])
        await h.settle()
        counts = await h.runtime.store.waiting_events()
        with capture_logs() as logs:
            await warn_about_webhooks(h.runtime.store, DestinationPolicy())
        log = (await h.api.get(f"/api/syncs/{sync['id']}/events", headers=h.auth())).json()

        monkeypatch.setenv("SYNCLINE_DATABASE_URL", database_url)
        monkeypatch.setenv("SYNCLINE_SECRET_KEY", h.runtime.settings.secret_key or "")
        monkeypatch.setenv("SYNCLINE_ALLOW_PRIVATE_WEBHOOKS", "true")
        url = f"{h.receiver_server.url}/webhooks"
        with pytest.raises(SystemExit) as exit_:
            await asyncio.to_thread(
                main,
                [
                    "projects",
                    "set-webhook",
                    "--project",
                    h.project_id,
                    "--url",
                    url,
                    "--secret",
                    h.receiver.secret,
                ],
            )
        printed = capsys.readouterr().out
        await h.deliver()

    assert {"held": 2} == counts[h.project_id]
    warning = next(e for e in logs if e["event"] == "project.no_webhook_url")
    assert (h.project_id, 2) == (warning["project_id"], warning["waiting_events"])
    assert {"WEBHOOK_DELIVERY_HELD"} <= {e["syncEvent"] for e in log["data"]}
    assert 0 == exit_.value.code
    assert "2 event(s) held for want of a URL will now be delivered" in printed
    assert [] == [d for d in h.receiver.deliveries if d["status"] != 204]
    assert ["sync_complete", "record_created"] == [e["event"] for e in h.receiver.events()]

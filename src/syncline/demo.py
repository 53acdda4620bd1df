"""`syncline demo`: a sandbox Google Drive beside `syncline serve`, and the curl to try it."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncline.auth import generate_signing_key, mint_user_token
from syncline.config import Settings
from syncline.sandbox import BackgroundServer, DriveState, create_drive_app, populate
from syncline.sandbox.settings import googledrive_env
from syncline.wiring import serve

DEMO_USER = "demo-user"
DRIVE_USER = "alice@example.com"


def run_demo(*, port: int, sandbox_port: int, workdir: Path) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    drive = DriveState(token_ttl=3600.0)
    populate(drive, user=DRIVE_USER)
    access, refresh = drive.issue_tokens(DRIVE_USER)
    signing = generate_signing_key()
    project_id = str(uuid.uuid4())
    (workdir / "project.pem").write_text(signing.private_pem)
    token = mint_user_token(signing.private_pem, project_id, DEMO_USER, ttl=timedelta(hours=24))

    with BackgroundServer(create_drive_app(drive), port=sandbox_port) as sandbox:
        settings = Settings(
            port=port,
            database_url=f"sqlite:///{workdir.resolve() / 'syncline.db'}",
            project_id=project_id,
            signing_public_key=signing.public_pem,
        )
        env = googledrive_env(sandbox.url)
        base = f"http://{settings.host}:{port}"
        expires = (datetime.now(UTC) + timedelta(seconds=3500)).isoformat()

        def explain() -> None:
            credential = (
                f'{{"integration":"googledrive","accessToken":"{access}",'
                f'"refreshToken":"{refresh}","expiresAt":"{expires}",'
                f'"accountEmail":"{DRIVE_USER}"}}'
            )
            auth = '-H "Authorization: Bearer $TOKEN"'
            print(
                f"""
Syncline demo is running: API {base}, sandbox Google Drive {sandbox.url} ({DRIVE_USER}).
Project {project_id}; its private key is in {workdir / "project.pem"}.

  export TOKEN={token}

1. Connect the user's (sandbox) Google Drive account:
  curl -s {auth} -H 'Content-Type: application/json' {base}/api/credentials -d {shlex.quote(credential)}

2. Enable a sync (the initial sync starts at once):
  curl -s {auth} -H 'Content-Type: application/json' {base}/api/syncs -d '{{"integration":"googledrive","pipeline":"files"}}'

3. Watch its status, then pull its records (use the id from step 2):
  curl -s {auth} {base}/api/syncs/<id>
  curl -s {auth} '{base}/api/syncs/<id>/records?pageSize=50'
  curl -s {auth} {base}/api/syncs/<id>/events

Press Ctrl+C to stop.""",
                flush=True,
            )

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(settings, env=env, on_ready=explain))
    return 0

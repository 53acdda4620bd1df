"""One Syncline measurement in a fresh process: enable a sync and time it to sync_complete.

Prints one JSON line: {seconds, records, rss_mb}.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import orjson

from syncline.auth import generate_signing_key, mint_user_token
from syncline.config import Settings
from syncline.crypto import generate_key
from syncline.wiring import build_runtime


async def initial(database_url: str, drive_url: str, access: str, refresh: str) -> dict[str, float]:
    signing = generate_signing_key()
    project = str(uuid.uuid4())
    settings = Settings(
        database_url=database_url,
        project_id=project,
        signing_public_key=signing.public_pem,
        secret_key=generate_key(),
        log_level="warning",
    )
    env = {
        "SYNCLINE_GOOGLEDRIVE_API_URL": drive_url,
        "SYNCLINE_GOOGLEDRIVE_TOKEN_URL": f"{drive_url}/token",
        "SYNCLINE_GOOGLEDRIVE_CLIENT_ID": "sandbox-client",
        "SYNCLINE_GOOGLEDRIVE_CLIENT_SECRET": "sandbox-secret",
    }
    runtime = await build_runtime(settings, embedded=True, env=env)
    headers = {"Authorization": f"Bearer {mint_user_token(signing.private_pem, project, 'u')}"}
    transport = httpx.ASGITransport(app=runtime.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://syncline") as api:
        expires = (datetime.now(UTC) + timedelta(hours=12)).isoformat()
        await api.post(
            "/api/credentials",
            headers=headers,
            json={
                "integration": "googledrive",
                "accessToken": access,
                "refreshToken": refresh,
                "expiresAt": expires,
            },
        )
        started = time.perf_counter()
        sync = (
            await api.post(
                "/api/syncs",
                headers=headers,
                json={"integration": "googledrive", "pipeline": "files"},
            )
        ).json()
        while await runtime.scheduler.tick():
            await runtime.scheduler.idle()
        seconds = time.perf_counter() - started
        status = (await api.get(f"/api/syncs/{sync['id']}", headers=headers)).json()
    await runtime.close()
    assert status["status"] == "IDLE", status
    return {"seconds": seconds, "records": status["summary"]["totalRecords"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["initial"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--drive", required=True)
    parser.add_argument("--access", required=True)
    parser.add_argument("--refresh", required=True)
    args = parser.parse_args()
    result = asyncio.run(initial(args.db, args.drive, args.access, args.refresh))
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()

"""Credentials: connected accounts and their encrypted tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, insert, or_, select, update

from syncline.domain.credentials import Credential, CredentialStatus
from syncline.domain.syncs import Sync, SyncStatus
from syncline.store.database import Database, atomic
from syncline.store.shapes import (
    ConnectSession,
    NewCredential,
    StoredTokens,
    credential_from_row,
    dumps,
    loads,
    sync_from_row,
)
from syncline.store.syncs import error_sync
from syncline.store.tables import connect_sessions, credentials, syncs


class CredentialStore:
    """Credentials: encrypted tokens, single-flight refresh claims, revocation."""

    db: Database

    @atomic
    async def add_credential(self, new: NewCredential, now: datetime) -> Credential:
        cid = str(uuid.uuid4())
        async with self.db.write() as conn:
            await conn.execute(
                insert(credentials).values(
                    id=cid,
                    project_id=new.project_id,
                    user_id=new.user_id,
                    integration=new.integration,
                    status=CredentialStatus.ACTIVE.value,
                    access_token_enc=new.access_token_enc,
                    refresh_token_enc=new.refresh_token_enc,
                    expires_at=new.expires_at,
                    scopes=dumps(new.scopes),
                    account_email=new.account_email,
                    provider_data_enc=new.provider_data_enc,
                    created_at=now,
                    updated_at=now,
                )
            )
        return Credential(
            id=cid,
            project_id=new.project_id,
            user_id=new.user_id,
            integration=new.integration,
            status=CredentialStatus.ACTIVE,
            account_email=new.account_email,
            scopes=new.scopes,
            created_at=now,
            updated_at=now,
        )

    async def list_credentials(self, project_id: str, user_id: str) -> list[Credential]:
        query = (
            select(credentials)
            .where(credentials.c.project_id == project_id, credentials.c.user_id == user_id)
            .order_by(credentials.c.created_at, credentials.c.id)
        )
        async with self.db.read() as conn:
            return [credential_from_row(r) for r in await conn.execute(query)]

    async def get_credential(self, project_id: str, user_id: str, cid: str) -> Credential | None:
        query = select(credentials).where(
            credentials.c.id == cid,
            credentials.c.project_id == project_id,
            credentials.c.user_id == user_id,
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else credential_from_row(row)

    async def default_credential(
        self, project_id: str, user_id: str, integration: str
    ) -> Credential | None:
        """The oldest active credential of this user for this integration."""
        query = (
            select(credentials)
            .where(
                credentials.c.project_id == project_id,
                credentials.c.user_id == user_id,
                credentials.c.integration == integration,
                credentials.c.status == CredentialStatus.ACTIVE.value,
            )
            .order_by(credentials.c.created_at, credentials.c.id)
            .limit(1)
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else credential_from_row(row)

    async def tokens(self, cid: str) -> StoredTokens | None:
        async with self.db.read(snapshot=False) as conn:
            row = (await conn.execute(select(credentials).where(credentials.c.id == cid))).first()
        if row is None:
            return None
        m = row._mapping
        return StoredTokens(
            credential_id=cid,
            integration=m["integration"],
            status=CredentialStatus(m["status"]),
            access_token_enc=m["access_token_enc"],
            refresh_token_enc=m["refresh_token_enc"],
            expires_at=m["expires_at"],
            refresh_lock_until=m["refresh_lock_until"],
            provider_data_enc=m["provider_data_enc"],
            scopes=tuple(loads(m["scopes"]) or ()),
        )

    @atomic
    async def claim_refresh(self, cid: str, now: datetime, until: datetime) -> bool:
        """Take the right to refresh this credential's token; False if another process has it."""
        stmt = (
            update(credentials)
            .where(
                credentials.c.id == cid,
                or_(
                    credentials.c.refresh_lock_until.is_(None),
                    credentials.c.refresh_lock_until < now,
                ),
            )
            .values(refresh_lock_until=until)
        )
        async with self.db.write() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    @atomic
    async def save_tokens(
        self,
        cid: str,
        *,
        access_token_enc: str,
        refresh_token_enc: str | None,
        expires_at: datetime | None,
        now: datetime,
    ) -> None:
        """Store refreshed tokens, release the refresh claim; a None refresh token keeps the old."""
        values: dict[str, object] = {
            "access_token_enc": access_token_enc,
            "expires_at": expires_at,
            "refresh_lock_until": None,
            "updated_at": now,
        }
        if refresh_token_enc is not None:
            values["refresh_token_enc"] = refresh_token_enc
        async with self.db.write() as conn:
            await conn.execute(update(credentials).where(credentials.c.id == cid).values(**values))

    @atomic
    async def release_refresh(self, cid: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(credentials).where(credentials.c.id == cid).values(refresh_lock_until=None)
            )

    @atomic
    async def invalidate_credential(
        self, cid: str, reason: str, now: datetime, *, delete_row: bool
    ) -> list[Sync]:
        """Revoke (or delete) a credential and turn every sync using it ERRORED, with webhooks."""
        async with self.db.write() as conn:
            if delete_row:
                await conn.execute(delete(credentials).where(credentials.c.id == cid))
            else:
                await conn.execute(
                    update(credentials)
                    .where(credentials.c.id == cid)
                    .values(status=CredentialStatus.REVOKED.value, updated_at=now)
                )
            query = select(syncs).where(
                syncs.c.credential_id == cid, syncs.c.status != SyncStatus.DISABLED.value
            )
            affected = [sync_from_row(r) for r in await conn.execute(query)]
            for sync in affected:
                await error_sync(conn, sync, reason, now, trace_id=str(uuid.uuid4()))
        return affected

    @atomic
    async def open_connect_session(self, session: ConnectSession, now: datetime) -> None:
        """Keep an authorization in progress until its callback (or its expiry)."""
        async with self.db.write() as conn:
            await conn.execute(delete(connect_sessions).where(connect_sessions.c.expires_at < now))
            await conn.execute(
                insert(connect_sessions).values(
                    id=session.id,
                    project_id=session.project_id,
                    user_id=session.user_id,
                    integration=session.integration,
                    redirect=session.redirect,
                    verifier_enc=session.verifier_enc,
                    created_at=now,
                    expires_at=session.expires_at,
                )
            )

    @atomic
    async def take_connect_session(self, state: str, now: datetime) -> ConnectSession | None:
        """The authorization `state` names, used up by this call; None when it is unknown,
        expired, or was used already (one statement: two callbacks cannot both take it)."""
        c = connect_sessions.c
        async with self.db.write() as conn:
            taken = await conn.execute(
                update(connect_sessions)
                .where(c.id == state, c.used_at.is_(None), c.expires_at >= now)
                .values(used_at=now)
                .returning(
                    c.id,
                    c.project_id,
                    c.user_id,
                    c.integration,
                    c.redirect,
                    c.verifier_enc,
                    c.expires_at,
                )
            )
            row = taken.first()
        return None if row is None else ConnectSession(*row)

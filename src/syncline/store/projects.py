"""Projects: the tenants user tokens name, and their webhook endpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from syncline.domain.projects import Project
from syncline.store.database import Database, atomic
from syncline.store.shapes import project_from_row
from syncline.store.tables import outbox, projects


class ProjectStore:
    """Projects: their signing key and webhook endpoint."""

    db: Database

    @atomic
    async def create_project(self, project: Project, now: datetime) -> bool:
        """Insert the project; False (and nothing changed) if one with its id exists."""
        stmt = self.db.upsert(projects).values(
            id=project.id,
            name=project.name,
            public_key_pem=project.public_key_pem,
            webhook_url=project.webhook_url,
            webhook_secret_enc=project.webhook_secret_enc,
            created_at=project.created_at,
            updated_at=now,
        )
        async with self.db.write() as conn:
            inserted = await conn.execute(stmt.on_conflict_do_nothing().returning(projects.c.id))
            return inserted.first() is not None

    @atomic
    async def set_webhook(
        self, project_id: str, url: str | None, secret_enc: str | None, now: datetime
    ) -> int:
        """Set (or, with None, remove) the project's webhook endpoint.

        Events held for want of a URL are due again once one is set, oldest first; returns how
        many were released.
        """
        async with self.db.write() as conn:
            await conn.execute(
                update(projects)
                .where(projects.c.id == project_id)
                .values(webhook_url=url, webhook_secret_enc=secret_enc, updated_at=now)
            )
            if url is None:
                return 0
            released = await conn.execute(
                update(outbox)
                .where(outbox.c.project_id == project_id, outbox.c.status == "held")
                .values(status="pending", next_attempt_at=now, lease_until=None)
            )
            return released.rowcount

    async def get_project(self, project_id: str) -> Project | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(projects).where(projects.c.id == project_id))).first()
        return None if row is None else project_from_row(row)

    async def list_projects(self) -> list[Project]:
        async with self.db.read() as conn:
            rows = await conn.execute(select(projects).order_by(projects.c.created_at))
            return [project_from_row(r) for r in rows]

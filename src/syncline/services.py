"""The API's use cases over syncs: enable, change, pause, resume, trigger, delete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ValidationError

from syncline.connectors.base import ConnectorSpec
from syncline.connectors.http import OAuthBearer
from syncline.connectors.registry import Registry
from syncline.credentials.service import CredentialService
from syncline.domain.credentials import CredentialStatus
from syncline.domain.ids import sync_id as make_sync_id
from syncline.domain.syncs import FREQUENCIES, Sync, SyncStatus, SyncType
from syncline.errors import (
    InvalidInput,
    NotFound,
    UpstreamRateLimited,
    UpstreamResponseError,
    UpstreamUnavailable,
)
from syncline.store.store import NewSync, Store
from syncline.types import JSONObject


class SyncService:
    def __init__(
        self,
        store: Store,
        registry: Registry,
        credentials: CredentialService,
        clock: Callable[[], datetime],
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self.registry = registry
        self.credentials = credentials
        self._clock = clock
        self._wake = wake

    async def get(self, project_id: str, user_id: str, sid: str) -> Sync:
        sync = await self._store.get_sync(sid, project_id, user_id)
        if sync is None:
            raise NotFound("Sync not found", code="SYNC_NOT_FOUND")
        return sync

    async def enable(
        self,
        project_id: str,
        user_id: str,
        *,
        integration: str,
        pipeline: str,
        configuration: JSONObject | None,
        configuration_name: str | None,
        credential_id: str | None,
        frequency: str | None,
    ) -> Sync:
        spec = self.registry.get(integration)
        if spec is None:
            known = ", ".join(self.registry.names())
            raise InvalidInput(
                f"Unknown integration {integration!r}; available: {known}.",
                field="integration",
                code="UNKNOWN_INTEGRATION",
            )
        if pipeline not in spec.pipelines:
            raise InvalidInput(
                f"Integration {integration!r} has no pipeline {pipeline!r}; "
                f"available: {', '.join(sorted(spec.pipelines))}.",
                field="pipeline",
                code="UNKNOWN_PIPELINE",
            )
        _check_frequency(frequency)
        config = configuration or {}
        try:
            validated = spec.config_model.model_validate(config)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in ("configuration", *first["loc"]))
            raise InvalidInput(
                f"Invalid {where}: {first['msg']}", field=where, code="INVALID_CONFIGURATION"
            ) from None
        if credential_id is not None:
            credential = await self._store.get_credential(project_id, user_id, credential_id)
            if credential is None or credential.integration != integration:
                raise NotFound(
                    f"Credential {credential_id} not found.", code="CREDENTIAL_NOT_FOUND"
                )
        else:
            credential = await self._store.default_credential(project_id, user_id, integration)
            if credential is None:
                raise InvalidInput(
                    f"User {user_id!r} has no connected {integration} account. Import one with "
                    "POST /api/credentials first.",
                    field="credentialId",
                    code="NO_CREDENTIAL",
                )
        if spec.check is not None:
            await self._check_upstream(spec, validated, credential.id)
        name = configuration_name or "default"
        new = NewSync(
            id=make_sync_id(project_id, user_id, integration, pipeline, name),
            project_id=project_id,
            user_id=user_id,
            integration=integration,
            pipeline=pipeline,
            configuration_name=name,
            configuration=validated.model_dump(mode="json", by_alias=True, exclude_none=True),
            credential_id=credential.id,
            frequency=frequency,
        )
        sync, created = await self._store.create_sync(new, self._clock())
        if created:
            self._wake()
        return sync

    async def _check_upstream(self, spec: ConnectorSpec, config: BaseModel, cid: str) -> None:
        """What the configuration names exists for this credential (a SharePoint site); a
        provider that cannot answer now leaves it to the first run."""
        auth = OAuthBearer(self.credentials.tokens_for(cid))
        data = await self.credentials.provider_data(cid)
        ctx = self.credentials.context(spec, auth, data, credential_id=cid)
        try:
            assert spec.check is not None
            await spec.check(config, ctx)
        except (UpstreamUnavailable, UpstreamRateLimited, UpstreamResponseError):
            return

    async def patch(
        self,
        project_id: str,
        user_id: str,
        sid: str,
        *,
        credential_id: str | None,
        frequency: str | None,
    ) -> Sync:
        sync = await self.get(project_id, user_id, sid)
        _check_frequency(frequency)
        values: dict[str, object] = {}
        if frequency is not None:
            values["frequency"] = frequency
        if credential_id is not None and credential_id != sync.credential_id:
            credential = await self._store.get_credential(project_id, user_id, credential_id)
            if credential is None or credential.integration != sync.integration:
                raise NotFound(
                    f"Credential {credential_id} not found.", code="CREDENTIAL_NOT_FOUND"
                )
            if credential.status is not CredentialStatus.ACTIVE:
                raise InvalidInput(
                    f"Credential {credential_id} is revoked.",
                    field="credentialId",
                    code="CREDENTIAL_REVOKED",
                )
            # A new account sees other files: reconcile with a full sync from a fresh change token.
            values.update(credential_id=credential_id, cursor=None, next_run_at=self._clock())
            if sync.initial_completed_at is not None:
                values["requested_run"] = SyncType.FULL
            if sync.status is SyncStatus.ERRORED:
                values.update(status=SyncStatus.IDLE, reason=None, failures=0)
        if values:
            await self._store.update_sync(sid, self._clock(), **values)
            self._wake()
        return await self.get(project_id, user_id, sid)

    async def disable(self, project_id: str, user_id: str, sid: str) -> Sync:
        await self.get(project_id, user_id, sid)
        await self._store.update_sync(sid, self._clock(), status=SyncStatus.DISABLED)
        return await self.get(project_id, user_id, sid)

    async def reenable(self, project_id: str, user_id: str, sid: str) -> Sync:
        """Resume from where the sync left off; an ERRORED sync retries with its credential."""
        sync = await self.get(project_id, user_id, sid)
        if sync.status not in (SyncStatus.DISABLED, SyncStatus.ERRORED):
            return sync
        if sync.credential_id is not None:
            tokens = await self._store.tokens(sync.credential_id)
            if tokens is None or tokens.status is not CredentialStatus.ACTIVE:
                raise InvalidInput(
                    "The sync's credential is no longer valid; PATCH the sync with a new "
                    "credentialId first.",
                    field="credentialId",
                    code="CREDENTIAL_REVOKED",
                )
        status = (
            SyncStatus.IDLE
            if sync.initial_completed_at and sync.checkpoint is None
            else SyncStatus.INITIALIZING
            if sync.initial_completed_at is None
            else SyncStatus.ACTIVE
        )
        await self._store.update_sync(
            sid, self._clock(), status=status, reason=None, failures=0, next_run_at=self._clock()
        )
        self._wake()
        return await self.get(project_id, user_id, sid)

    async def trigger(self, project_id: str, user_id: str, sid: str, kind: str) -> Sync:
        """Run now; coalesces with a run already requested. A full request outranks incremental."""
        sync = await self.get(project_id, user_id, sid)
        if sync.status in (SyncStatus.DISABLED, SyncStatus.ERRORED):
            raise InvalidInput(
                f"The sync is {sync.status.value}; re-enable it before triggering a run.",
                field="id",
                code="SYNC_NOT_RUNNABLE",
            )
        requested = SyncType.FULL if kind == "full" else SyncType.INCREMENTAL
        # A request of its own, folded in by the next claim: it never waits for a page a run is
        # writing, and concurrent requests cannot undo a full one.
        await self._store.request_run(sid, requested, self._clock())
        self._wake()
        return sync

    async def delete(self, project_id: str, user_id: str, sid: str) -> None:
        await self.get(project_id, user_id, sid)
        await self._store.delete_sync(sid)


def _check_frequency(frequency: str | None) -> None:
    if frequency is not None and frequency not in FREQUENCIES:
        raise InvalidInput(
            f"incrementalAccumulatorFrequency must be one of {', '.join(FREQUENCIES)}.",
            field="incrementalAccumulatorFrequency",
            code="INVALID_FREQUENCY",
        )

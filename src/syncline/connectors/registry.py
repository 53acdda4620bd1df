"""The integrations Syncline knows, by id."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from syncline.connectors.base import ConnectorSpec


class Registry:
    def __init__(self, specs: Iterable[ConnectorSpec]) -> None:
        self._specs: dict[str, ConnectorSpec] = {}
        for spec in specs:
            if spec.integration in self._specs:
                raise ValueError(f"integration {spec.integration!r} is registered twice")
            self._specs[spec.integration] = spec

    def get(self, integration: str) -> ConnectorSpec | None:
        return self._specs.get(integration)

    def __iter__(self) -> Iterator[ConnectorSpec]:
        return iter(self._specs.values())

    def names(self) -> list[str]:
        return sorted(self._specs)


def builtin_registry() -> Registry:
    from syncline.connectors import (
        amazons3,
        box,
        confluence,
        dropbox,
        googledrive,
        msgraph,
        notion,
    )

    return Registry(
        [
            googledrive.spec,
            msgraph.sharepoint,
            msgraph.onedrive,
            box.spec,
            dropbox.spec,
            notion.spec,
            amazons3.spec,
            confluence.spec,
        ]
    )

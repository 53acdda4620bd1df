"""Connectors: one package per integration; upstream HTTP in, normalized pages and changes out."""

from syncline.connectors.base import ConnectorContext, ConnectorSpec, FilesConnector, Scope
from syncline.connectors.registry import Registry, builtin_registry

__all__ = [
    "ConnectorContext",
    "ConnectorSpec",
    "FilesConnector",
    "Registry",
    "Scope",
    "builtin_registry",
]

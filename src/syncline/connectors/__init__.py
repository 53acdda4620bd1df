"""Connectors: one package per integration; upstream HTTP in, normalized pages and changes out."""

from syncline.connectors.base import Connector, ConnectorContext, ConnectorSpec, Scope
from syncline.connectors.registry import Registry, builtin_registry

__all__ = [
    "Connector",
    "ConnectorContext",
    "ConnectorSpec",
    "Registry",
    "Scope",
    "builtin_registry",
]

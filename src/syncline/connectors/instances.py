"""Per-credential origins: a provider that gives each customer a host of its own (`instanceUrl`,
`apiDomain` in the credential's `providerData`) is called there, once the host is checked.

The host comes from the application, so it must be `https` and on the provider's documented
domains, or Syncline could be pointed at any address it can reach. The operator lifts the check
with `SYNCLINE_ALLOW_PRIVATE_UPSTREAMS=true` (tests, sandboxes, on-premises instances).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from syncline.connectors.base import ConnectorSpec
from syncline.errors import InvalidInput

__all__ = ["MAX_PROVIDER_DATA", "check_provider_data", "instance_origin"]

MAX_PROVIDER_DATA = 20
"""Keys a credential's `providerData` may hold."""


def check_provider_data(
    spec: ConnectorSpec, data: Mapping[str, object], *, allow_private: bool
) -> dict[str, str]:
    """`data` as stored: an object of strings, of the integration's `provider_data` shape when
    it has one, whose instance URL, if the integration has one, is one it may call.

    Raises:
        InvalidInput: a value is not a string, or the instance URL is refused; `field` names it.
    """
    if len(data) > MAX_PROVIDER_DATA:
        raise InvalidInput(
            f"providerData holds at most {MAX_PROVIDER_DATA} keys.", field="providerData"
        )
    checked: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(value, str) or len(key) > 64 or len(value) > 4096:
            raise InvalidInput(
                f"providerData.{key} must be a string of at most 4096 characters.",
                field=f"providerData.{key}",
            )
        checked[key] = value
    if spec.provider_data is not None:
        _check_shape(spec, spec.provider_data, checked)
    if spec.instance_key is not None and spec.instance_key in checked:
        origin = _origin(checked[spec.instance_key])
        if not allow_private:
            _check_host(spec, origin)
        checked[spec.instance_key] = origin
    return checked


def _check_shape(spec: ConnectorSpec, model: type[BaseModel], data: Mapping[str, str]) -> None:
    """`data` fits the integration's `providerData` model; the error names every key at fault."""
    try:
        model.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"])
            why = "is required" if error["type"] == "missing" else error["msg"].lower()
            problems.append((f"providerData.{key}", why))
        listed = "; ".join(f"{where} {why}" for where, why in problems)
        raise InvalidInput(
            f"A {spec.integration} credential's providerData is invalid: {listed}.",
            field=problems[0][0],
        ) from None


def instance_origin(spec: ConnectorSpec, data: Mapping[str, str]) -> str | None:
    """The credential's own origin for this integration, when it carries one."""
    if spec.instance_key is None:
        return None
    return data.get(spec.instance_key)


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise _refused(url, "it is not an http(s) URL")
    if parts.username or parts.password:
        raise _refused(url, "it carries a user name or password")
    return f"{parts.scheme}://{parts.netloc}".rstrip("/")


def _check_host(spec: ConnectorSpec, origin: str) -> None:
    parts = urlsplit(origin)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        raise _refused(origin, "it must be https")
    if not any(fnmatch.fnmatchcase(host, pattern) for pattern in spec.instance_hosts):
        hosts = ", ".join(spec.instance_hosts)
        raise _refused(origin, f"its host is not one of {spec.integration}'s ({hosts})")


def _refused(url: str, why: str) -> InvalidInput:
    return InvalidInput(
        f"providerData instance URL {url!r} is refused: {why}. The operator can allow other "
        "hosts with SYNCLINE_ALLOW_PRIVATE_UPSTREAMS=true.",
        field="providerData",
        code="INSTANCE_URL_REFUSED",
    )

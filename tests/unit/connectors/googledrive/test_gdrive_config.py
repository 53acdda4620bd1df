"""The Google Drive sync `configuration` model and the connector spec."""

import httpx
import pydantic
import pytest

from syncline.connectors.base import ConnectorContext, Scope
from syncline.connectors.googledrive import spec
from syncline.connectors.googledrive.config import MAX_FILE_IDS, GoogleDriveConfig


def test_empty_configuration_means_everything():
    """An empty configuration syncs everything the account sees."""
    expected = (None, None)

    config = GoogleDriveConfig.model_validate({})

    assert expected == (config.folder_id, config.file_ids)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"folderId": "1Folder"}, ("1Folder", None)),
        ({"folder_id": "1Folder"}, ("1Folder", None)),
        ({"fileIds": ["a", "b"]}, (None, ["a", "b"])),
        ({"file_ids": ["a", "b"]}, (None, ["a", "b"])),
        ({"folderId": None, "fileIds": None}, (None, None)),
        ({"folderId": "  1Folder "}, ("1Folder", None)),
    ],
)
def test_camel_and_snake_case_keys_are_accepted(raw, expected):
    """Both the canonical camelCase keys and snake_case names populate the model."""
    config = GoogleDriveConfig.model_validate(raw)

    assert expected == (config.folder_id, config.file_ids)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param({"folderId": "f", "fileIds": ["a"]}, id="both-scopes"),
        pytest.param({"siteId": "x"}, id="unknown-key"),
        pytest.param({"folderId": ""}, id="empty-folder"),
        pytest.param({"folderId": "   "}, id="blank-folder"),
        pytest.param({"fileIds": []}, id="empty-list"),
        pytest.param({"fileIds": ["a", ""]}, id="empty-file-id"),
        pytest.param({"fileIds": "a"}, id="not-a-list"),
        pytest.param({"fileIds": [f"id{i}" for i in range(MAX_FILE_IDS + 1)]}, id="too-many"),
    ],
)
def test_invalid_configurations_are_rejected(raw):
    """Contradictory, unknown, empty or oversized options fail validation."""
    with pytest.raises(pydantic.ValidationError):
        GoogleDriveConfig.model_validate(raw)


def test_max_file_ids_are_accepted():
    """Exactly the maximum number of fileIds is valid."""
    expected = MAX_FILE_IDS

    config = GoogleDriveConfig.model_validate({"fileIds": [f"id{i}" for i in range(MAX_FILE_IDS)]})

    assert expected == len(config.file_ids or [])


def test_repeated_file_ids_are_dropped_in_order():
    """A fileId given twice is synced once, keeping the first position."""
    expected = ["b", "a"]

    config = GoogleDriveConfig.model_validate({"fileIds": ["b", "a", "b"]})

    assert expected == config.file_ids


def test_dump_by_alias_round_trips():
    """Dumping by alias gives the camelCase configuration back."""
    expected = {"folderId": "f", "fileIds": None}

    config = GoogleDriveConfig.model_validate({"folder_id": "f"})

    assert expected == config.model_dump(by_alias=True)


def test_spec_describes_google_drive():
    """The spec names the integration, its one pipeline, model and Google's endpoints."""
    expected = (
        "googledrive",
        frozenset({"files"}),
        GoogleDriveConfig,
        "https://www.googleapis.com",
        "https://oauth2.googleapis.com/token",
        "https://accounts.google.com/o/oauth2/v2/auth",
    )

    assert expected == (
        spec.integration,
        spec.pipelines,
        spec.config_model,
        spec.default_api_url,
        spec.default_token_url,
        spec.default_auth_url,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, Scope()),
        ({"folderId": "f"}, Scope(folder_id="f")),
        ({"fileIds": ["a", "b"]}, Scope(file_ids=frozenset({"a", "b"}))),
    ],
)
async def test_built_connector_exposes_its_scope(raw, expected):
    """The connector's scope mirrors the configuration, for the engine's change filter."""
    async with httpx.AsyncClient() as client:
        ctx = ConnectorContext(http=client, auth=httpx.BasicAuth("u", "p"), api_url="https://x")
        connector = spec.build(spec.config_model.model_validate(raw), ctx)

    assert expected == connector.scope


def test_registry_finds_google_drive():
    """The built-in registry serves this spec under `googledrive`."""
    from syncline.connectors.registry import builtin_registry

    assert spec is builtin_registry().get("googledrive")

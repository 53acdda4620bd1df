"""What a Notion sync's `configuration` accepts: nothing (everything), or page ids in any of
the forms Notion shows them, normalized to the API's dashed form."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from syncline.connectors.notion.config import MAX_PAGE_IDS, NotionConfig, notion_id

DASHED = "59833787-2cf9-4fdf-8782-e53db20768a5"


@pytest.mark.parametrize(
    "given",
    [
        DASHED,
        DASHED.upper(),
        DASHED.replace("-", ""),
        "https://www.notion.so/Q3-plan-598337872cf94fdf8782e53db20768a5",
        "https://www.notion.so/acme/598337872cf94fdf8782e53db20768a5?pvs=4",
        "  598337872cf94fdf8782e53db20768a5  ",
    ],
)
def test_page_ids_are_read_in_every_form_notion_shows(given):
    """Dashed or not, any case, or the page's URL: the id in the API's dashed lower case."""
    assert DASHED == notion_id(given)


@pytest.mark.parametrize("given", ["Q3 plan", "1234", "https://www.notion.so/Q3-plan", ""])
def test_a_value_without_an_id_is_refused(given):
    """Text that holds no 32-digit id is not a page id."""
    with pytest.raises(ValueError, match="not a Notion page id"):
        notion_id(given)


def test_no_configuration_syncs_everything():
    """Without `pageIds` the sync covers everything shared with the integration."""
    assert NotionConfig.model_validate({}).page_ids is None


def test_page_ids_are_normalized_and_deduplicated():
    """Repeats of one page, in any form, count once; the stored form is dashed."""
    config = NotionConfig.model_validate({"pageIds": [DASHED, DASHED.replace("-", "")]})

    assert [DASHED] == config.page_ids
    assert {"pageIds": [DASHED]} == config.model_dump(by_alias=True, exclude_none=True)


@pytest.mark.parametrize(
    ("configuration", "where"),
    [
        ({"pageIds": []}, ("pageIds",)),
        ({"pageIds": ["not an id"]}, ("pageIds", 0)),
        ({"pageIds": [f"{i:032x}" for i in range(MAX_PAGE_IDS + 1)]}, ("pageIds",)),
        ({"pageIds": DASHED}, ("pageIds",)),
        ({"folderId": DASHED}, ("folderId",)),
    ],
)
def test_bad_configuration_names_the_key(configuration, where):
    """An empty or overlong list, a non-id, a string for a list, or an unknown key (another
    provider's) is refused, naming the key."""
    with pytest.raises(ValidationError) as caught:
        NotionConfig.model_validate(configuration)

    assert where == caught.value.errors()[0]["loc"]

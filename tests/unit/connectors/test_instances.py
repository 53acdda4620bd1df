"""Per-credential origins from `providerData`: checked against the provider's documented hosts,
https only, unless the operator allows private upstreams."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from syncline.connectors.googledrive import spec as drive
from syncline.connectors.instances import check_provider_data, instance_origin
from syncline.errors import InvalidInput

CRM = replace(drive, instance_key="instanceUrl", instance_hosts=("*.my.salesforce.com",))


def test_a_documented_https_host_is_kept_as_an_origin():
    """`https://acme.my.salesforce.com/anything` is stored as its origin and used as one."""
    data = check_provider_data(
        CRM, {"instanceUrl": "https://acme.my.salesforce.com/x/"}, allow_private=False
    )

    assert "https://acme.my.salesforce.com" == instance_origin(CRM, data)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://acme.my.salesforce.com", "must be https"),
        ("https://evil.example.com", "not one of"),
        ("https://my.salesforce.com.evil.example", "not one of"),
        ("https://user:pw@acme.my.salesforce.com", "user name or password"),
        ("ftp://acme.my.salesforce.com", "not an http(s) URL"),
        ("not a url", "not an http(s) URL"),
    ],
)
def test_other_instance_urls_are_refused_naming_why(url, why):
    """Plain http, foreign hosts, look-alike suffixes, embedded credentials and non-URLs are
    refused with INSTANCE_URL_REFUSED and the reason."""
    with pytest.raises(InvalidInput, match=re.escape(why)) as caught:
        check_provider_data(CRM, {"instanceUrl": url}, allow_private=False)

    assert "INSTANCE_URL_REFUSED" == caught.value.code


def test_the_operator_may_allow_private_upstreams():
    """SYNCLINE_ALLOW_PRIVATE_UPSTREAMS lets a sandbox on 127.0.0.1 over http through."""
    data = check_provider_data(CRM, {"instanceUrl": "http://127.0.0.1:9/"}, allow_private=True)

    assert "http://127.0.0.1:9" == data["instanceUrl"]


def test_an_integration_without_instances_takes_its_configured_origin():
    """Google Drive has no instance key: providerData is kept, the origin stays the configured
    one."""
    data = check_provider_data(drive, {"instanceUrl": "https://x.example"}, allow_private=False)

    assert None is instance_origin(drive, data)
    assert {"instanceUrl": "https://x.example"} == data


def test_too_many_keys_or_long_values_are_refused():
    """More than 20 keys, or a value over 4096 characters, is a 422 naming providerData."""
    with pytest.raises(InvalidInput, match="at most 20"):
        check_provider_data(drive, {f"k{i}": "v" for i in range(21)}, allow_private=False)
    with pytest.raises(InvalidInput, match="4096"):
        check_provider_data(drive, {"k": "v" * 5000}, allow_private=False)

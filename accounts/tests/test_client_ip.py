from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from accounts.client_ip import client_ip_address


def address(hops: int, settings: Any, **meta: str) -> str:
    settings.TRUSTED_PROXY_HOPS = hops
    request = RequestFactory().get("/")
    request.META.update(meta)
    return client_ip_address(request)


def test_with_no_trusted_proxy_the_address_is_remote_addr(settings: Any) -> None:
    result = address(
        0,
        settings,
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR="1.2.3.4",
        HTTP_X_ENVOY_EXTERNAL_ADDRESS="5.6.7.8",
    )

    assert result == "203.0.113.9"


def test_a_forged_envoy_external_address_is_ignored_behind_a_proxy(settings: Any) -> None:
    result = address(
        1,
        settings,
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1",
        HTTP_X_ENVOY_EXTERNAL_ADDRESS="203.0.113.9",
    )

    assert result == "198.51.100.1"


def test_an_envoy_external_address_alone_does_not_replace_remote_addr(settings: Any) -> None:
    result = address(
        1, settings, REMOTE_ADDR="10.0.0.5", HTTP_X_ENVOY_EXTERNAL_ADDRESS="203.0.113.9"
    )

    assert result == "10.0.0.5"


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        (2, "6.6.6.6, 203.0.113.9, 10.1.1.1", "203.0.113.9"),
        (2, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6,   2001:db8::1 ", "2001:db8::1"),
    ],
)
def test_x_forwarded_for_is_counted_from_the_right(
    settings: Any, hops: int, forwarded: str, expected: str
) -> None:
    assert address(hops, settings, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded) == (
        expected
    )


@pytest.mark.parametrize("forwarded", ["", " , ", "unknown", "6.6.6.6, not-an-ip"])
def test_an_unusable_header_falls_back_to_remote_addr_never_to_nothing(
    settings: Any, forwarded: str
) -> None:
    assert address(1, settings, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded) == (
        "10.0.0.5"
    )

"""The security headers every page carries, as the settings configure them (SECURE_CSP and
SecurityMiddleware). The suite runs with DJANGO_DEBUG=false, so these are production's values."""

from __future__ import annotations

import re

import pytest
from django.http import HttpResponseBase
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"


def csp_directives(response: HttpResponseBase) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        directives[name] = sources
    return directives


def script_nonces(html: str) -> list[str]:
    tags = re.findall(r"<script\b[^>]*>", html)
    assert tags, "the page has no <script> tag to check"
    nonces = [re.search(r'\bnonce="([^"]+)"', tag) for tag in tags]
    assert all(nonces), f"a <script> tag without a nonce: {tags}"
    return [match.group(1) for match in nonces if match]


@pytest.mark.parametrize("url", [LOGIN_URL, "/codegen/"])
def test_the_csp_allows_only_own_scripts_carrying_the_pages_nonce(
    logged_in: Client, url: str
) -> None:
    client = Client() if url == LOGIN_URL else logged_in
    response = client.get(url)

    assert response.status_code == 200
    script_src = csp_directives(response)["script-src"]
    assert "'self'" in script_src
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    header_nonces = [s[len("'nonce-") : -1] for s in script_src if s.startswith("'nonce-")]
    assert len(header_nonces) == 1
    assert set(script_nonces(response.content.decode())) == set(header_nonces)


def test_each_response_gets_a_fresh_nonce(client: Client) -> None:
    first = csp_directives(client.get(LOGIN_URL))["script-src"]
    second = csp_directives(client.get(LOGIN_URL))["script-src"]

    assert first != second


def test_the_csp_forbids_plugins_framing_by_others_and_a_foreign_base(client: Client) -> None:
    directives = csp_directives(client.get(LOGIN_URL))

    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'self'"]
    assert directives["base-uri"] == ["'self'"]


def test_an_https_request_gets_hsts_for_one_year(client: Client) -> None:
    response = client.get(LOGIN_URL, secure=True)

    assert response.headers["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains")


def test_a_plain_http_request_gets_no_hsts(client: Client) -> None:
    response = client.get(LOGIN_URL)

    assert "Strict-Transport-Security" not in response.headers


def test_pages_forbid_mime_sniffing_framing_and_cross_site_referrers(client: Client) -> None:
    response = client.get(LOGIN_URL, secure=True)

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"

"""The client's address as django-axes counts it (AXES_CLIENT_IP_CALLABLE).

Behind the Istio gateway REMOTE_ADDR is a proxy, and the real client's address arrives in
`X-Forwarded-For`. Only what a trusted proxy wrote is believed: each trusted proxy appends the
address it received the request from, so the list is counted from the RIGHT by
TRUSTED_PROXY_HOPS; entries to the left of those are whatever the client wrote and prove
nothing. The gateway always appends, whoever the client is.

`X-Envoy-External-Address` is deliberately NOT read, although the issue allowed it: Envoy
strips client-sent `x-envoy-*` headers only from requests it deems external. A client on a
private network (a campus address, an RFC 1918 range) is deemed internal, so its forged
`X-Envoy-External-Address` would pass through and pick the per-address lockout key at will.

With no trusted proxy (TRUSTED_PROXY_HOPS=0, a direct connection) the header is
client-written and ignored. The answer is never empty: a naive proxy count once resolved a
forged header to an empty address, and the per-address lockout vanished with it.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid_address(value: str) -> str | None:
    candidate = value.strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def client_ip_address(request: HttpRequest) -> str:
    remote_addr = str(request.META.get("REMOTE_ADDR") or "0.0.0.0")  # noqa: S104 (not a bind)
    hops = settings.TRUSTED_PROXY_HOPS
    if hops <= 0:
        return remote_addr

    forwarded = [
        entry.strip()
        for entry in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if entry.strip()
    ]
    if forwarded:
        # Fewer entries than trusted hops: the leftmost was still written by a trusted proxy.
        trusted_entry = forwarded[-hops] if len(forwarded) >= hops else forwarded[0]
        address = _valid_address(trusted_entry)
        if address:
            return address
    return remote_addr

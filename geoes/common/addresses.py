"""Client addresses as far as they may be kept: truncated, like an analytics tool's "IP anonymisation".

An IPv4 address keeps its first three bytes (`203.0.113.77` → `203.0.113.0`, a /24 of 256 addresses), an
IPv6 address its first 48 bits (`2001:db8:85a3::8a2e:370:7334` → `2001:db8:85a3::`, a site): enough to
see that requests come from one network, not who sent them. Anything that is not an address (a proxy's
list is truncated item by item; `-`, a Unix socket's empty peer) is returned as it is.
"""
from __future__ import annotations

import ipaddress

IPV4_PREFIX = 24
IPV6_PREFIX = 48


def truncate_address(value: str) -> str:
    text = str(value or "").strip()
    if "," in text:                      # X-Forwarded-For: client, proxy1, proxy2
        return ", ".join(truncate_address(part) for part in text.split(","))
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return text
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)

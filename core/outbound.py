"""Requests the portal makes to addresses people give it (HTTP freshness probes, team webhooks), guarded against SSRF.

A reader may type any address into a probe or a webhook, and the worker fetches it from inside the network. So an
outbound request goes only to public addresses: the host is resolved, and every address it resolves to must be global
(not loopback, private, link-local (cloud metadata at 169.254.169.254), shared, multicast, reserved or unspecified),
unless staff list the host, the address or its network in ``OUTBOUND_ALLOWED_HOSTS``. The check is made where the
connection is opened, on the very address connected to, so a name that resolves to a public address when the form is
saved and to 127.0.0.1 when the worker connects (DNS rebinding) is refused, and so is every redirect to a forbidden
host: each hop opens its own connection. Error messages never carry what a server answered (a body, a banner).

``check_url`` is the same rule for forms and serializers, ``session()`` a ``requests`` session that applies it.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

# Redirects followed at most (each one checked); more is a loop or an attempt to wander.
MAX_REDIRECTS = 5
# Bytes of an answer read at most: a freshness probe needs a header or a small JSON document.
MAX_BODY_BYTES = 1024 * 1024


class OutboundRefused(Exception):
    """The address is not one the portal fetches; the message says why, in words for the person who typed it."""


def _allowed():
    """``(names, networks)`` of ``OUTBOUND_ALLOWED_HOSTS``."""
    names, networks = set(), []
    for item in getattr(settings, "OUTBOUND_ALLOWED_HOSTS", []):
        item = item.strip().lower()
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            names.add(item.rstrip("."))
    return names, networks


def _kind(address):
    """What kind of internal address ``address`` is, or "" for a public one."""
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    for kind, test in (
        ("a loopback", address.is_loopback),
        ("a link-local (cloud metadata)", address.is_link_local),
        ("a private", address.is_private),
        ("a multicast", address.is_multicast),
        ("an unspecified", address.is_unspecified),
        ("a reserved", address.is_reserved),
        ("a non-public", not address.is_global),
    ):
        if test:
            return kind
    return ""


def check_address(host, address):
    """Raise ``OutboundRefused`` unless ``address`` (of ``host``) may be connected to."""
    names, networks = _allowed()
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if host.lower().rstrip(".") in names or any(ip in network for network in networks):
        return
    kind = _kind(ip)
    if kind:
        shown = host if host == address else f"{host} ({address})"
        raise OutboundRefused(
            f"{shown} is {kind} address: the portal does not send requests inside its own network unless staff "
            "allow that host (OUTBOUND_ALLOWED_HOSTS)."
        )


def resolve(host, port):
    """Every address ``host`` resolves to, each checked; raises ``OutboundRefused`` or ``socket.gaierror``."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for *_, sockaddr in infos:
        check_address(host, sockaddr[0])
    return infos


def check_url(url):
    """For forms and serializers: raise ``OutboundRefused`` if ``url`` points at a forbidden address. A name that
    does not resolve now is let through (the probe or the webhook will say so); the connection is checked again."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise OutboundRefused("The address cannot be read.") from None
    if not host:
        raise OutboundRefused("The address has no host.")
    try:
        resolve(host, port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        return


def _guarded_connect(connection):
    """Open the socket of a urllib3 connection to a checked address of its host (never re-resolved after the
    check, so a rebinding DNS cannot slip an internal address in between). Failures are raised as urllib3 raises
    them, so ``requests`` and the probes' reasons read them as usual."""
    host = connection._dns_host  # urllib3's name for the host it connects to
    try:
        infos = resolve(host, connection.port)
    except socket.gaierror as exc:
        raise NameResolutionError(connection.host, connection, exc) from exc
    error = None
    timeout = connection.timeout if isinstance(connection.timeout, (int, float)) else None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    if isinstance(error, TimeoutError):
        raise ConnectTimeoutError(connection, f"Connection to {host} timed out. (connect timeout={timeout})")
    raise NewConnectionError(connection, f"Failed to establish a new connection: {error}") from error


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self):
        return _guarded_connect(self)


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        return _guarded_connect(self)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def session():
    """A ``requests`` session whose every connection (redirects included) is checked. Proxies from the environment
    are ignored: through a proxy the portal could not see where a request really goes."""
    guarded = requests.Session()
    guarded.trust_env = False
    guarded.max_redirects = MAX_REDIRECTS
    adapter = _GuardedAdapter(max_retries=0)
    guarded.mount("http://", adapter)
    guarded.mount("https://", adapter)
    return guarded


def read_limited(response, limit=MAX_BODY_BYTES):
    """The body of a streamed response, refused past ``limit`` bytes."""
    body = b""
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        if len(body) > limit:
            response.close()
            raise OutboundRefused(f"The answer is larger than {limit // 1024} KB; the portal reads no more.")
    return body

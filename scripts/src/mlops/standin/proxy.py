"""The CONNECT proxy clients are pointed at (``HTTPS_PROXY``): the one port the stand-in shows.

A ``CONNECT host:443`` for a host the stand-in plays is tunnelled to its TLS server, which answers
for every Azure host by its ``Host`` header; any other host is refused and logged, so a request that
would leave the machine fails loudly instead of silently. A plain request for a path (``GET /_standin/...``)
goes to the control routes. Absolute-form requests (``GET http://169.254.169.254/...``, what a
managed-identity probe sends through a proxy) are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

HEAD_LIMIT = 65536


@dataclass
class ProxyRoutes:
    """Where the proxy sends traffic, and how it reports what it refused."""

    tls_port: int
    control_port: int
    allowed: Callable[[str], bool]
    refused: Callable[[str, str], None]
    open_writers: set[asyncio.StreamWriter] = field(default_factory=set)

    def abort_all(self) -> None:
        """Cut every open tunnel (the stand-in is stopping; a keep-alive connection must not hold it)."""
        for writer in list(self.open_writers):
            writer.transport.abort()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, routes: ProxyRoutes) -> None:
    """Serve one client connection: a CONNECT tunnel, a control request, or a refusal."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return
    method, _, rest = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
    target = rest.rsplit(" ", 1)[0]
    if method == "CONNECT":
        host = target.rsplit(":", 1)[0].lower()
        if not routes.allowed(host):
            routes.refused("CONNECT", target)
            await _refuse(writer, f"the stand-in does not play {host}: nothing leaves this machine")
            return
        await _tunnel(reader, writer, routes, routes.tls_port, b"HTTP/1.1 200 Connection established\r\n\r\n")
    elif target.startswith("/"):
        await _tunnel(reader, writer, routes, routes.control_port, b"", first=head)
    else:
        routes.refused(method, target)
        await _refuse(writer, f"plain HTTP to {target} is not served by the stand-in: nothing leaves this machine")


async def _refuse(writer: asyncio.StreamWriter, reason: str) -> None:
    body = (reason + "\n").encode()
    writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    writer.close()


async def _tunnel(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, routes: ProxyRoutes, port: int,
                  greeting: bytes, first: bytes = b"") -> None:
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        await _refuse(writer, "the stand-in's server is not running")
        return
    if greeting:
        writer.write(greeting)
    if first:
        upstream_writer.write(first)
    routes.open_writers.update((writer, upstream_writer))
    try:
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
    finally:
        routes.open_writers.difference_update((writer, upstream_writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def start_proxy(sock, routes: ProxyRoutes) -> asyncio.base_events.Server:
    """Serve the proxy on an already bound listening socket."""
    return await asyncio.start_server(lambda r, w: handle(r, w, routes), sock=sock, limit=HEAD_LIMIT)

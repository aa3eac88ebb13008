"""A forward proxy on 127.0.0.1 (port 0), as a company's Squid is to its servers: a plain
``GET http://host/path`` is fetched from the site and its answer passed back; a ``CONNECT
host:port`` (HTTPS) opens a tunnel to it. ``refuse`` makes it answer every request with that
status instead (407: it asks for credentials; 403: its policy forbids the site). It connects
to loopback addresses only, as every test does."""

from __future__ import annotations

import ipaddress
import select
import socket
import socketserver
import threading
from urllib.parse import urlsplit

#: Headers about the hop between client and proxy, not passed on to the site.
_HOP_HEADERS = ("connection", "proxy-connection", "proxy-authorization", "keep-alive")


class ForwardProxy:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []  # (method, target) as asked, in order
        self.refuse: int | None = None
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                method, target, version = self.rfile.readline().decode("latin-1").split()
                headers = []
                while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
                    headers.append(line.decode("latin-1").rstrip("\r\n"))
                proxy.requests.append((method, target))
                if proxy.refuse is not None:
                    self.wfile.write(b"HTTP/1.1 %d Refused\r\nProxy-Authenticate: Basic "
                                     b'realm="proxy"\r\nContent-Length: 0\r\n'
                                     b"Connection: close\r\n\r\n" % proxy.refuse)
                    return
                if method == "CONNECT":
                    host, _, port = target.rpartition(":")
                    self._tunnel(_loopback(host), int(port))
                    return
                url = urlsplit(target)
                kept = "".join(f"{h}\r\n" for h in headers
                               if h.split(":", 1)[0].strip().lower() not in _HOP_HEADERS)
                path = url.path + (f"?{url.query}" if url.query else "")
                with socket.create_connection((_loopback(url.hostname), url.port or 80)) as site:
                    site.sendall(f"{method} {path} {version}\r\n{kept}Connection: close\r\n\r\n"
                                 .encode("latin-1"))
                    while data := site.recv(65536):
                        self.wfile.write(data)

            def _tunnel(self, host: str, port: int) -> None:
                with socket.create_connection((host, port)) as site:
                    self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    self.wfile.flush()
                    ends = {self.connection: site, site: self.connection}
                    while True:
                        ready, _, _ = select.select(list(ends), [], [], 10)
                        data = ready[0].recv(65536) if ready else b""
                        if not data:
                            return
                        ends[ready[0]].sendall(data)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        """The proxy's address as ``http_proxy`` and ``https_proxy`` name it."""
        return f"http://{self.address}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _loopback(host: str | None) -> str:
    """``host`` if it is a loopback address: the proxy reaches nothing else."""
    if host is None or not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"the tests' proxy reaches loopback addresses only, not {host!r}")
    return host

"""HTTP servers on many loopback addresses, all served by one thread (the benchmarks' local
webs put each site on an address of its own)."""

from __future__ import annotations

import selectors
import threading
from collections.abc import Iterable
from http.server import ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    """A threaded HTTP server with a listen() backlog for many crawler connections."""

    daemon_threads = True
    request_queue_size = 128  # listen() backlog: set before the constructor listens

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS look-up of the address (getfqdn), which
        takes about 0.1 s for each address past 127.0.0.x."""
        import socketserver

        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class Listeners:
    """Accepts connections for a set of servers from one thread, until stopped."""

    def __init__(self, name: str, stopping: threading.Event) -> None:
        self.name = name
        self.stopping = stopping  # also what sleeping handlers wait on, to wake at stop()
        self.servers: list[Server] = []
        self._thread: threading.Thread | None = None

    def start(self, servers: Iterable[Server]) -> None:
        """Serve ``servers`` from now on."""
        self.servers = list(servers)
        self.stopping.clear()
        self._thread = threading.Thread(target=self._accept, daemon=True, name=self.name)
        self._thread.start()

    def _accept(self) -> None:
        with selectors.DefaultSelector() as selector:
            for server in self.servers:
                selector.register(server, selectors.EVENT_READ, server)
            while not self.stopping.is_set():
                for key, _ in selector.select(timeout=0.05):
                    key.data.handle_request()

    def stop(self) -> None:
        """Stop accepting, wake sleeping handlers and close every listening socket."""
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for server in self.servers:
            server.server_close()
        self.servers = []
        self._thread = None

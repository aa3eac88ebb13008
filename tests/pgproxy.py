"""A TCP proxy on 127.0.0.1 to a PostgreSQL server's Unix socket, for the tests of a server
that goes silent, or one slow to take a cancel request, while the server itself runs on."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

#: The code of a CancelRequest packet, after its length (PostgreSQL's protocol: 1234 5678).
CANCEL_REQUEST_CODE = 80877102


class SilentProxy:
    """Forwards each connection to the server's Unix socket (``host=127.0.0.1 port=PORT``,
    ``sslmode=disable``: the proxy reads the first packet of each). Once ``silence``d, it
    forwards nothing more, either way, and closes nothing: to its clients, a server vanished
    from the network, but for the proxy's kernel acknowledging their packets (libpq's
    silence limits never fire: what waits on the server waits for ever). Once
    ``hold_cancels``, a connection that brings a cancel request is accepted and never
    answered (an overloaded server, slow to take the cancel connection), while every other
    goes through."""

    def __init__(self, unix_path: str) -> None:
        self._unix_path = unix_path
        self._silent = threading.Event()
        self._cancels_held = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = [self._listener]
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._keep(client):
                return
            if self._silent.is_set():
                continue  # a cancel request, say: never answered
            threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        first = b""
        while len(first) < 8:
            try:
                data = client.recv(8 - len(first))
            except OSError:
                return
            if not data:
                return
            first += data
        if self._cancels_held.is_set() and struct.unpack("!ii", first)[1] == CANCEL_REQUEST_CODE:
            return  # held: the client's socket stays open, unanswered
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if not self._keep(server):
            return
        try:
            server.connect(self._unix_path)
            server.sendall(first)
        except OSError:
            return
        for a, b in ((client, server), (server, client)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _keep(self, sock: socket.socket) -> bool:
        """Whether ``sock`` is kept, for close to close; closed now if the proxy is."""
        with self._lock:
            if not self._closed:
                self._sockets.append(sock)
                return True
        sock.close()
        return False

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                if not self._silent.is_set():  # the client's end (or the server's) passed on
                    with contextlib.suppress(OSError):
                        sink.shutdown(socket.SHUT_WR)
                return
            if not self._silent.is_set():
                with contextlib.suppress(OSError):
                    sink.sendall(data)

    def silence(self) -> None:
        self._silent.set()

    def hold_cancels(self) -> None:
        self._cancels_held.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

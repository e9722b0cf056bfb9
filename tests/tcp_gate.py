"""A TCP gate in front of a test server: the same address whether the server is reachable or not.

The tests' S3 server (moto) keeps its objects in memory, so stopping it to simulate an endpoint
outage would lose the buckets. The gate instead stands between the clients and the server: while
open it relays every connection both ways; `close()` drops the connections in flight and refuses
new ones (its listening socket is closed, so a client gets "connection refused" at once),
`silence()` drops them too but then accepts every new connection and never answers on it (a
black hole: a dead proxy, a partition, a load balancer without a backend), and `open()` relays
again on the same port.
"""

from __future__ import annotations

import contextlib
import socket
import threading

HOST = "127.0.0.1"


class TcpGate:
    """A threaded TCP relay from `HOST:port` (chosen at start, kept) to `target`.

    Parameters
    ----------
    target : tuple[str, int]
        The (host, port) connections are relayed to.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._silent = False
        self._lock = threading.Lock()
        self.open()

    @property
    def endpoint(self) -> str:
        """The gate's address as an HTTP endpoint URL."""
        return f"http://{HOST}:{self.port}"

    def open(self) -> None:
        """Listen (again, on the same port) and relay every accepted connection."""
        with self._lock:
            if self._silent:  # listening already: drop what it holds, relay from now on
                self._silent = False
                held, self._connections = self._connections, set()
                for connection in held:
                    _drop(connection)
            if self._listener is not None:
                return
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((HOST, self.port))
            listener.listen(64)
            self.port = listener.getsockname()[1]
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def silence(self) -> None:
        """Drop the connections in flight, then accept new ones and never answer on them."""
        self.open()
        with self._lock:
            self._silent = True
            connections, self._connections = self._connections, set()
        for connection in connections:
            _drop(connection)

    def close(self) -> None:
        """Refuse new connections and drop the ones in flight."""
        with self._lock:
            self._silent = False
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, set()
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for connection in connections:
            _drop(connection)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by `close()`
                return
            with self._lock:
                if self._silent:  # held (read by no one) until the gate opens or closes
                    self._connections.add(client)
                    continue
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                _drop(client)
                continue
            with self._lock:
                if self._listener is not listener:  # closed meanwhile
                    _drop(client)
                    _drop(server)
                    return
                self._connections.update((client, server))
            pending = [2]  # the directions still relaying: both sockets close after the last
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink, pending),
                                 daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, pending: list[int]) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
        with self._lock:
            pending[0] -= 1
            last = pending[0] == 0
            if last:
                self._connections.difference_update((source, sink))
        if last:
            source.close()
            sink.close()


def _drop(connection: socket.socket) -> None:
    """Close `connection` at once (a reset rather than an orderly end)."""
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with contextlib.suppress(OSError):
        connection.close()

"""Faults against the real services: PostgreSQL unreachable for a moment (through a proxy
this test cuts and restores) gives 503, not 500, and the API recovers by itself."""

from __future__ import annotations

import contextlib
import socket
import threading

import pytest

from intake.settings import Settings
from tests.accounts import client_as
from tests.integration.processes import free_port as _free_port
from tests.integration.test_service import database  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration


class Proxy:
    """A TCP forwarder to PostgreSQL that can be cut (every connection dropped, new ones
    refused) and restored on the same port."""

    def __init__(self, port: int, upstream: tuple[str, int]) -> None:
        self.port, self.upstream = port, upstream
        self.sockets: list[socket.socket] = []
        self.server: socket.socket | None = None

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen()
        self.server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.close()

    def cut(self) -> None:
        if self.server is not None:
            with contextlib.suppress(OSError):
                self.server.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept
            self.server.close()
            self.server = None
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.sockets.clear()


def test_postgresql_down_for_a_moment_is_503_then_recovers(database, tmp_path):  # noqa: F811
    proxy = Proxy(_free_port(), ("127.0.0.1", 5432))
    proxy.start()
    url = database.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    client = client_as(Settings(data_dir=tmp_path / "data", database_url=url), "applicant")
    created = client.post("/api/dossiers", json={})
    assert created.status_code == 201
    dossier_id = created.json()["id"]
    assert client.get(f"/api/dossiers/{dossier_id}").status_code == 200

    proxy.cut()
    down = client.get(f"/api/dossiers/{dossier_id}")
    assert down.status_code == 503 and "稍后重试" in down.json()["detail"]
    assert down.headers["retry-after"] == "5"

    proxy.start()  # the database is back: no restart of the service needed
    assert client.get(f"/api/dossiers/{dossier_id}").status_code == 200
    proxy.cut()

"""The load generator's HTTP client: one request at a time, timed from send to the last byte of the body.

Both systems are measured with this one client, so they see the same connection handling: ``keep-alive``
reuses one TCP connection (the client sets TCP_NODELAY, as Python's ``http.client`` does), ``keep-alive, quick
ACK`` does too and acknowledges every packet at once (TCP_QUICKACK, no delayed ACK), and ``new connection`` opens
and closes one per request. A server that closes the connection after every answer
(gunicorn's sync workers do) simply costs a reconnect in keep-alive mode too.
"""

import http.client
import socket
import time

from bench.operations import KEEPALIVE, QUICKACK, encode


class Client:
    def __init__(self, port, mode, headers):
        self.port = port
        self.mode = mode
        self.headers = headers
        self.connection = None
        self.first_byte_seconds = None  # of the last request: from send to the first piece of the body

    @property
    def kept_alive(self):
        return self.mode in (KEEPALIVE, QUICKACK)

    def _quick_ack(self):
        # Linux turns quick ACKs off again by itself: set before each request and before reading the answer.
        if self.mode == QUICKACK and self.connection is not None and self.connection.sock is not None:
            self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    def _connection(self):
        if self.connection is None or not self.kept_alive:
            self.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.connection.connect()
            self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.connection

    def send(self, method, path, body=None):
        """``(status, seconds, body)`` for one request; the body is read in full. ``first_byte_seconds`` is set to
        the time until the first piece of the body arrived (a streamed answer's first chunk)."""
        headers = dict(self.headers)
        payload = encode(body)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        connection = self._connection()
        try:
            self._quick_ack()
            connection.request(method, path, body=payload, headers=headers)
            self._quick_ack()
            response = connection.getresponse()
            content = self._read(response, started)
        except (http.client.HTTPException, OSError):
            # A kept-alive connection the server closed meanwhile: one retry on a fresh one is what clients do.
            self.close()
            connection = self._connection()
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            content = self._read(response, started)
        elapsed = time.perf_counter() - started
        if not self.kept_alive or response.will_close:
            self.close()
        return response.status, elapsed, content

    def _read(self, response, started):
        first = response.read1(65536)
        self.first_byte_seconds = time.perf_counter() - started
        return first + response.read()

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

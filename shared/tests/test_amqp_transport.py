"""The buffered py-amqp transport: frames read right whatever the chunking, partial frames kept across timeouts,
a published batch sent in one write — on loopback sockets and on the real RabbitMQ."""
from __future__ import annotations

import socket
import struct
import threading
import uuid

import pytest

from ceres_shared.bus.amqp_transport import BufferedTCPTransport, corked
from ceres_shared.bus.publisher import OutgoingMessage, Publisher
from ceres_shared.bus.topology import connect
from ceres_shared.config import BusSettings


def frame(payload: bytes, frame_type: int = 3, channel: int = 1) -> bytes:
    return struct.pack(">BHI", frame_type, channel, len(payload)) + payload + b"\xce"


@pytest.fixture
def pair():
    """A BufferedTCPTransport reading from one end of a loopback TCP connection, and the other end."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = {}
    thread = threading.Thread(target=lambda: accepted.setdefault("sock", server.accept()[0]))
    thread.start()
    transport = BufferedTCPTransport(f"127.0.0.1:{port}", connect_timeout=5)
    transport._init_socket = lambda *a, **k: None  # no AMQP protocol header: we speak raw frames here
    transport.sock = socket.create_connection(("127.0.0.1", port))
    transport._setup_transport()
    thread.join(5)
    peer = accepted["sock"]
    yield transport, peer
    peer.close()
    transport.sock.close()
    server.close()


def test_frames_arriving_in_odd_chunks_are_read_whole_and_in_order(pair):
    transport, peer = pair
    payloads = [b"a" * 5, b"b" * 40_000, b"", b"c" * 3, bytes(range(256)) * 10]
    stream = b"".join(frame(p, channel=i + 1) for i, p in enumerate(payloads))
    for start in range(0, len(stream), 7_777):  # boundaries fall inside headers and payloads
        peer.sendall(stream[start:start + 7_777])
    read = [transport.read_frame() for _ in payloads]
    assert [(f[1], f[2]) for f in read] == [(i + 1, p) for i, p in enumerate(payloads)]
    assert transport._read_buffer == b""


def test_a_timeout_in_the_middle_of_a_frame_loses_nothing(pair):
    transport, peer = pair
    whole = frame(b"x" * 1000) + frame(b"second")
    peer.sendall(whole[:600])  # the first frame's header and part of its payload
    transport.sock.settimeout(0.2)
    with pytest.raises(socket.timeout):
        transport.read_frame()
    peer.sendall(whole[600:])
    transport.sock.settimeout(5)
    assert transport.read_frame()[2] == b"x" * 1000
    assert transport.read_frame()[2] == b"second"


def test_corked_writes_leave_in_one_send(pair):
    transport, peer = pair
    sent = []
    real = transport._sendall
    transport._sendall = lambda data: (sent.append(len(data)), real(data))
    transport.cork()
    for n in range(50):
        transport.write(frame(b"m%d" % n))
    assert sent == []
    transport.uncork()
    transport.write(frame(b"after"))
    assert len(sent) == 2
    received = b""
    peer.settimeout(5)
    expected = sum(len(frame(b"m%d" % n)) for n in range(50)) + len(frame(b"after"))
    while len(received) < expected:
        received += peer.recv(65536)
    assert received.endswith(frame(b"after"))


def test_on_the_broker_a_published_batch_is_one_send_and_every_message_is_confirmed(amqp_url):
    bus = BusSettings(url=amqp_url, exchange=f"t{uuid.uuid4().hex[:8]}.events")
    publisher = Publisher(bus, {"probe": ("test.ping",)})
    try:
        publisher.publish([OutgoingMessage(str(uuid.uuid4()), "test.ping", "{}")])  # connects, declares
        transport = corked(publisher._channel.connection)
        assert isinstance(transport, BufferedTCPTransport)
        sends = []
        real = transport._sendall
        transport._sendall = lambda data: (sends.append(len(data)), real(data))
        publisher.publish([OutgoingMessage(str(uuid.uuid4()), "test.ping", '{"n": %d}' % n) for n in range(300)])
        assert len(sends) == 1 and sends[0] > 300 * 50
        with connect(bus) as conn:
            queue = conn.SimpleQueue(f"{bus.exchange.rsplit('.', 1)[0]}.probe", no_ack=True)
            bodies = [queue.get(timeout=5).body for _ in range(301)]
            queue.close()
        assert bodies[0] == "{}" and bodies[-1] == '{"n": 299}'
    finally:
        publisher.close()

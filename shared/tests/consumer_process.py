"""Runs the test consumer in its own process, so that a test can SIGKILL it mid-stream.

SIGTERM stops it as the services' workers stop (the batch in hand finishes, the rest goes back to the queue).
With CERES_TEST_STALL_DIR and CERES_TEST_STALL_AT (seqs, comma-separated), the handler stops for a minute at
each of those events, the first time only, after writing `<dir>/<seq>` (or until SIGTERM): the test then kills
it mid-batch."""
import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from busfixtures import CONSUMER, SUBSCRIPTIONS, Side, make_handlers  # noqa: E402
from ceres_shared.bus.consumer import EventConsumer  # noqa: E402
from ceres_shared.config import BusSettings  # noqa: E402


def stalling(handler, folder: Path, seqs: set[int], stopping: threading.Event):
    def on_event(session, event):
        handler(session, event)
        marker = folder / str(event.payload["seq"])
        if event.payload["seq"] in seqs and not marker.exists():
            marker.touch()
            stopping.wait(60)

    return on_event


if __name__ == "__main__":
    db_url, amqp_url, exchange = sys.argv[1:4]
    side = Side.create(db_url)
    bus = BusSettings(url=amqp_url, exchange=exchange, prefetch=50)
    consumer = EventConsumer(CONSUMER, side.engine, side.schemas.tables, bus, make_handlers(side), SUBSCRIPTIONS,
                             batch_size=50)
    if os.environ.get("CERES_TEST_STALL_DIR"):
        seqs = {int(s) for s in os.environ["CERES_TEST_STALL_AT"].split(",")}
        folder = Path(os.environ["CERES_TEST_STALL_DIR"])
        consumer.handlers["test.ping"] = [stalling(h, folder, seqs, consumer.stopping)
                                          for h in consumer.handlers["test.ping"]]
    signal.signal(signal.SIGTERM, lambda *_: consumer.stop())
    print("consuming", flush=True)
    consumer.run()

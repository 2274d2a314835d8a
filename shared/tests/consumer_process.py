"""Runs the test consumer in its own process, so that a test can SIGKILL it mid-stream."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from busfixtures import CONSUMER, SUBSCRIPTIONS, Side, make_handlers  # noqa: E402
from ceres_shared.bus.consumer import EventConsumer  # noqa: E402
from ceres_shared.config import BusSettings  # noqa: E402

if __name__ == "__main__":
    db_url, amqp_url, exchange = sys.argv[1:4]
    side = Side.create(db_url)
    bus = BusSettings(url=amqp_url, exchange=exchange, prefetch=50)
    consumer = EventConsumer(CONSUMER, side.engine, side.schemas.tables, bus, make_handlers(side), SUBSCRIPTIONS,
                             batch_size=50)
    print("consuming", flush=True)
    consumer.run()

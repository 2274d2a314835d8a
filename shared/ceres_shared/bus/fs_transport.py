"""Embedded mode's filesystem bus, made safe for several processes: kombu writes a message file in place, so a
consumer polling at that moment may take the still-empty file and lose the message; and names carry milliseconds,
so a burst of messages is read in random order. Here a message is written under a name no queue reads, then renamed
(atomic on POSIX), and named by nanoseconds and a counter so that each producer's messages keep their order."""
from __future__ import annotations

import itertools
import os
import threading
import time
import uuid

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

_sequence = itertools.count()
_lock = threading.Lock()


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        with _lock:
            stamp = f"{time.monotonic_ns():020d}{next(_sequence) % 10**6:06d}"
        name = f"{stamp}_{uuid.uuid4()}.{queue}.msg"
        temporary = os.path.join(self.data_folder_out, f"{uuid.uuid4().hex}.writing")
        with open(temporary, "wb") as f:
            f.write(str_to_bytes(dumps(payload)))
        os.replace(temporary, os.path.join(self.data_folder_out, name))


class Transport(filesystem.Transport):
    Channel = Channel

"""Embedded mode's filesystem bus, made safe for several processes and for a consumer killed at any moment.

Publishing: kombu writes a message file in place, so a consumer polling at that moment may take the still-empty
file and lose the message; and names carry milliseconds, so a burst of messages is read in random order. Here a
message is written under a name no queue reads, then renamed (atomic on POSIX), and named by nanoseconds and a
counter so that each producer's messages keep their order.

Consuming (H3): kombu deletes a message file when it is fetched and keeps the ack in memory, so a consumer killed
with a batch in hand lost it. Here a fetch *claims* the file by renaming it into the channel's own folder
`processing/<pid>-<nonce>/` (atomic: one consumer wins); the ack — sent by the consumer after its transaction
commits — deletes it; a requeue (reject, or the channel closing with unacked messages) renames it back under its
own name, so it keeps its place in the queue. The channel holds an exclusive flock on `<its folder>/.owner` for
as long as it lives; the kernel drops it when the process dies, however it dies. Any consumer, at its first fetch
and then every few seconds, renames back the files of claim folders whose lock it can take: a dead consumer's
batch is redelivered (the inbox drops what had committed before the ack).

Edges: a message file that cannot be read as a kombu message (truncated, not JSON) is set aside once — into the
queue's dead letters `<queue>.dead` when this channel declared it (the consumer's, or the dead-letters CLI's),
else into `corrupt/` beside the queues, logged — and the queue goes on. A publisher killed mid-write leaves a
`<pid>-<nonce>.writing` file: consumers remove those older than a minute whose writer is gone.
"""
from __future__ import annotations

import fcntl
import itertools
import logging
import os
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from queue import Empty

from kombu import Producer
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)

_sequence = itertools.count()
_lock = threading.Lock()
OWNER_LOCK = ".owner"
RECOVERY_INTERVAL_S = 2.0
WRITING_SUFFIX = ".writing"
STALE_WRITE_S = 60.0  # a message is written in milliseconds: older and its writer gone, it was killed mid-write
SWEEP_INTERVAL_S = 30.0
DEAD_SUFFIX = ".dead"  # a queue's dead letters (topology.ServiceQueues)
_MESSAGE_ID = re.compile(rb'"message_id"\s*:\s*"([^"\\]{1,100})"')


class UnreadableMessage(ValueError):
    pass


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._claims: dict[str, Path] = {}  # delivery tag -> the claimed file
        self._claim_dir: Path | None = None
        self._owner_fd: int | None = None
        self._listed: dict[str, list[str]] = {}  # queue -> names listed and not yet tried, in order
        self._no_ack_queues: set[str] = set()
        self._next_recovery = 0.0
        self._next_sweep = 0.0
        self._declared: set[str] = set()

    # -- publishing -------------------------------------------------------------------------------------------
    def _put(self, queue, payload, **kwargs):
        with _lock:
            stamp = f"{time.monotonic_ns():020d}{next(_sequence) % 10**6:06d}"
        name = f"{stamp}_{uuid.uuid4()}.{queue}.msg"
        # Named by its writer's pid: a file left by a killed writer can be told from one being written.
        temporary = os.path.join(self.data_folder_out, f"{os.getpid()}-{uuid.uuid4().hex}{WRITING_SUFFIX}")
        try:
            with open(temporary, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(temporary, os.path.join(self.data_folder_out, name))
        except BaseException:
            _unlink(temporary)
            raise

    def queue_declare(self, queue=None, passive=False, **kwargs):
        if queue:
            self._declared.add(queue)
        return super().queue_declare(queue, passive=passive, **kwargs)

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        """kombu's version opens a new table with "wb" before locking it: two processes binding to the same new
        exchange at once (every service at start) could leave two tables in one file, unreadable for good."""
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(exist_ok=True)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with os.fdopen(os.dup(fd), "rb+", buffering=0) as f:
                text = bytes_to_str(f.read())
                table = [filesystem.exchange_queue_t(*q) for q in loads(text)] if text.strip() else []
                if entry not in table:
                    table.insert(0, entry)
                    f.seek(0)
                    f.write(str_to_bytes(dumps(table)))
                    f.truncate()
        finally:
            os.close(fd)  # releases the lock

    # -- claiming ---------------------------------------------------------------------------------------------
    @property
    def processing_folder(self) -> Path:
        default = Path(self.data_folder_in).parent / "processing"
        return Path(self.transport_options.get("processing_folder", default))

    def _own_dir(self) -> Path:
        """This channel's claim folder, created locked under a temporary name so that no one takes it for a
        dead consumer's before its lock is held."""
        if self._claim_dir is None:
            self.processing_folder.mkdir(parents=True, exist_ok=True)
            new = self.processing_folder / f".new-{uuid.uuid4().hex}"
            new.mkdir()
            fd = os.open(new / OWNER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            final = self.processing_folder / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
            os.rename(new, final)
            self._owner_fd, self._claim_dir = fd, final
        return self._claim_dir

    def _get(self, queue):
        """Claim the queue's oldest message file; it stays on disk until acked."""
        self._recover_abandoned()
        wanted = f"{queue}.msg"
        for _ in range(2):  # the names listed before, then a new listing
            names = self._listed.get(queue)
            if not names:
                names = self._listed[queue] = [
                    n for n in sorted(os.listdir(self.data_folder_in)) if n.partition(".")[2] == wanted
                ]
            while names:
                name = names.pop(0)
                claimed = self._own_dir() / name
                try:
                    os.rename(os.path.join(self.data_folder_in, name), claimed)
                except FileNotFoundError:
                    continue  # another consumer took it
                with open(claimed, "rb") as f:
                    raw = f.read()
                try:
                    payload = self._readable(raw)
                except UnreadableMessage as exc:
                    self._set_aside(queue, claimed, raw, str(exc))
                    continue  # the queue goes on with its next message
                if queue in self._no_ack_queues:
                    claimed.unlink()
                else:
                    self._claims[payload["properties"]["delivery_tag"]] = claimed
                return payload
        raise Empty()

    def _readable(self, raw: bytes) -> dict:
        """The kombu payload of a message file, or UnreadableMessage when kombu could not deliver it."""
        try:
            payload = loads(bytes_to_str(raw))
            self.Message(payload, channel=self)  # what delivering it will need: properties, tag, body
        except Exception as exc:  # noqa: BLE001 - truncated, not JSON, not a message: never deliverable
            raise UnreadableMessage(f"{type(exc).__name__}: {exc}"[:300]) from exc
        if not isinstance(payload.get("properties", {}).get("delivery_info"), dict):
            raise UnreadableMessage("no delivery_info")
        return payload

    def _set_aside(self, queue: str, claimed: Path, raw: bytes, reason: str) -> None:
        """Once, so that it is not handed back for ever: as a dead letter of its queue when there is one, else
        into corrupt/. Its claim is removed only after that, so a crash meanwhile leaves it to do again."""
        dead = queue + DEAD_SUFFIX
        error = f"unreadable message file {claimed.name}: {reason}"
        if dead in self._declared:
            found = _MESSAGE_ID.search(raw)
            event_id = found.group(1).decode("utf-8", "replace") if found else claimed.name.partition(".")[0]
            headers = {
                "x-ceres-error": error,
                "x-ceres-routing-key": "",
                "x-ceres-failed-at": datetime.now(timezone.utc).isoformat(),
                "message_id": event_id,
            }
            Producer(self).publish(
                raw.decode("utf-8", "replace"), exchange="", routing_key=dead, content_type="application/json",
                content_encoding="utf-8", serializer=None, headers=headers, delivery_mode=2, message_id=event_id,
            )
            claimed.unlink(missing_ok=True)
            log.error("%s: dead-lettered into %s", error, dead)
            return
        folder = self.corrupt_folder
        folder.mkdir(parents=True, exist_ok=True)
        os.replace(claimed, folder / claimed.name)
        log.error("%s: moved to %s", error, folder / claimed.name)

    @property
    def corrupt_folder(self) -> Path:
        default = Path(self.data_folder_in).parent / "corrupt"
        return Path(self.transport_options.get("corrupt_folder", default))

    def basic_consume(self, queue, no_ack, *args, **kwargs):
        if no_ack:
            self._no_ack_queues.add(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def basic_get(self, queue, no_ack=False, **kwargs):
        message = super().basic_get(queue, no_ack=no_ack, **kwargs)
        if message is not None and no_ack:
            self._settle(message.delivery_tag)
        return message

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple)
        self._settle(delivery_tag)

    def basic_reject(self, delivery_tag, requeue=False):
        super().basic_reject(delivery_tag, requeue=requeue)  # a requeue goes through _restore
        self._settle(delivery_tag)

    def _settle(self, delivery_tag) -> None:
        claimed = self._claims.pop(delivery_tag, None)
        if claimed is not None:
            claimed.unlink(missing_ok=True)

    def _restore(self, message):
        """Requeue: the claimed file goes back under its own name, hence at its place in the queue."""
        claimed = self._claims.pop(message.delivery_tag, None)
        if claimed is None:
            return super()._restore(message)
        self._give_back(claimed)

    def _give_back(self, claimed: Path) -> None:
        try:
            os.rename(claimed, os.path.join(self.data_folder_in, claimed.name))
        except FileNotFoundError:
            return
        self._listed.clear()  # an older name is back: list again

    def _sweep_stale_writes(self) -> None:
        """Remove the `.writing` files of writers killed mid-write (their outbox rows are published again)."""
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_INTERVAL_S
        folder = Path(self.data_folder_out)
        try:
            names = [n for n in os.listdir(folder) if n.endswith(WRITING_SUFFIX)]
        except FileNotFoundError:
            return
        for name in names:
            path = folder / name
            try:
                age = time.time() - path.stat().st_mtime
            except FileNotFoundError:
                continue  # renamed into place meanwhile
            if age > STALE_WRITE_S and not _writer_alive(name):
                _unlink(path)
                log.warning("removed %s, left by a writer killed mid-write", path)

    def _recover_abandoned(self) -> None:
        """Give back the claims of consumers that are gone (their lock is free)."""
        self._sweep_stale_writes()
        now = time.monotonic()
        if now < self._next_recovery:
            return
        self._next_recovery = now + RECOVERY_INTERVAL_S
        try:
            folders = list(self.processing_folder.iterdir())
        except FileNotFoundError:
            return
        for folder in folders:
            if folder == self._claim_dir or folder.name.startswith("."):
                continue
            try:
                fd = os.open(folder / OWNER_LOCK, os.O_RDWR)
            except (FileNotFoundError, NotADirectoryError):
                continue  # being recovered by someone else
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue  # its consumer is alive
            try:
                for claimed in sorted(folder.glob("*.msg")):
                    self._give_back(claimed)
                _remove_claim_dir(folder)
            finally:
                os.close(fd)

    def close(self):
        try:
            super().close()  # restores the unacked messages
        finally:
            self._claims.clear()
            if self._claim_dir is not None:
                for claimed in sorted(self._claim_dir.glob("*.msg")):  # taken but never delivered
                    self._give_back(claimed)
                _remove_claim_dir(self._claim_dir)
                os.close(self._owner_fd)
                self._claim_dir = self._owner_fd = None


def _writer_alive(name: str) -> bool:
    """Whether the process named in a `.writing` file's name still runs (a reused pid keeps the file until that
    process ends; a name without a pid, from before, counts as gone)."""
    pid = name.partition("-")[0]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _remove_claim_dir(folder: Path) -> None:
    try:
        (folder / OWNER_LOCK).unlink(missing_ok=True)
        folder.rmdir()
    except OSError:  # not empty (a claim made meanwhile) or already gone: left for the next recovery
        pass


class Transport(filesystem.Transport):
    Channel = Channel
    _states: dict[str, virtual.BrokerState] = {}

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        # kombu keeps the bindings it has written in one state per process, and writes them only once: with a
        # second bus folder (tests) its control files would stay empty and topic messages go nowhere.
        folder = str((client.transport_options or {}).get("control_folder", ""))
        self.state = self._states.setdefault(folder, virtual.BrokerState())

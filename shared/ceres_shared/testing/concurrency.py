"""Two requests that really overlap, for the tests of concurrent steps.

`race(rt, first, second)` runs both callables in threads, `second` once `first` has passed its checks: each is held
at its first audit record — after the use case's checks, before its commit — until the other one arrives there too
or `hold` seconds have passed. Without a lock, both have read the record's state before either commits (so both
pass their checks); with one, the second waits for the lock, the first gives up waiting after `hold` and commits,
and the second then reads what the first wrote. `first` is the one that gets there first.
"""
from __future__ import annotations

import threading
from collections.abc import Callable


def race(rt, first: Callable, second: Callable, *, hold: float = 2.0) -> list:
    """[first(), second()] run concurrently (an exception is returned in its place)."""
    barrier = threading.Barrier(2, timeout=hold)
    held = threading.local()
    first_checked = threading.Event()
    record = rt.audit.record

    def holding(*args, **kwargs):
        if not getattr(held, "done", False):
            held.done = True
            first_checked.set()
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass  # the other one is waiting for the lock (or is refused already): go on alone
        return record(*args, **kwargs)

    results: list = [None, None]

    def run(index: int, call: Callable) -> None:
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[index] = exc
        finally:
            first_checked.set()

    rt.audit.record = holding
    try:
        threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate((first, second))]
        threads[0].start()
        first_checked.wait(30)  # at its audit record, or done
        threads[1].start()
        for thread in threads:
            thread.join(60)
    finally:
        del rt.audit.record  # the class's method again
    return results


BACKENDS = ("postgresql", "sqlite")


def settings_on(backend: str, service: str, infra, tmp_path_factory):
    """Settings of `service` on a fresh PostgreSQL database or a SQLite file (embedded mode's database); the bus is
    never reached (the relay is not started)."""
    import uuid

    from ..config import BusSettings, Settings

    if backend == "postgresql":
        url = infra.new_database(f"{service[:6]}conc{uuid.uuid4().hex[:6]}")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp(f'{service}-conc') / f'{service}.db'}"
    return Settings(service=service, database_url=url, jwks_url=None,
                    bus=BusSettings(url="amqp://guest:guest@127.0.0.1:1/"))

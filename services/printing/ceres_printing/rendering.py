"""Rendering of batch files in worker processes: one per core (WeasyPrint is pure CPU under the GIL), each with its
fonts and artwork set up once, recycled after a number of files so that its memory stays flat."""
from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from statistics import median

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderedFile:
    data: bytes
    pages: tuple[tuple[int, int], ...]  # per document: (first page index, page count)
    worker_pid: int
    worker_peak_rss_mb: float
    cpu_s: float = 0.0  # CPU time the worker spent on this file


def render_file(items: list[tuple[str, dict]]) -> RenderedFile:
    """Several documents (kind, context) → one print PDF with their page ranges. Runs in a worker or inline."""
    from . import documents

    started = time.process_time()
    combined = documents.render_many(items, artwork=True)
    return RenderedFile(combined.data, tuple((r.start, len(r)) for r in combined.pages), os.getpid(),
                        peak_rss_mb(), time.process_time() - started)


def peak_rss_mb() -> float:
    """This process's peak resident memory. Not getrusage's ru_maxrss: Linux carries it over exec, so a spawned
    worker would report the parent's size at the time it was started."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_start() -> None:
    from ceres_shared.documents import warm_up

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    warm_up()


class RenderPool:
    """`workers` processes (0: render in the calling thread, e.g. in unit tests), replaced together once they have
    been given `recycle_after` files each (WeasyPrint's memory only grows while a process lives).

    Not ProcessPoolExecutor(max_tasks_per_child=…): up to Python 3.13 it may stop replacing the workers that exit
    and leave the queued files waiting forever (CPython gh-115634). Here a new pool takes the next files while the
    old one finishes those it was given, then exits."""

    def __init__(self, workers: int, recycle_after: int = 50):
        self.workers = workers
        self.recycle_after = recycle_after
        self._executor: ProcessPoolExecutor | None = None
        self._retired: ProcessPoolExecutor | None = None  # kept referenced while it finishes its files
        self._given = 0  # files given to the current pool
        self._lock = threading.Lock()
        self._closed = False
        self._files: list[tuple[int, float, int, float]] = []  # (worker pid, its peak RSS after the file,
        # documents, CPU seconds), in order

    def _pool(self) -> ProcessPoolExecutor:
        """The pool for the next file."""
        done = None
        with self._lock:
            if self._closed:
                raise RuntimeError("the rendering pool is shut down")
            if self._executor is None or self._given >= self.recycle_after * self.workers:
                done, self._retired = self._retired, self._executor
                # spawn: a forked child would inherit the parent's threads, locks and database connections.
                self._executor = ProcessPoolExecutor(max_workers=self.workers, initializer=_worker_start,
                                                     mp_context=multiprocessing.get_context("spawn"))
                self._given = 0
                if self._retired is not None:
                    self._retired.shutdown(wait=False)  # no new files; those given are still rendered
            self._given += 1
            executor = self._executor
        if done is not None:
            done.shutdown(wait=True)  # the pool before: its files were rendered long ago (it lived for many)
        return executor

    def start(self) -> None:
        """Start the workers now (service start) rather than on the first batch."""
        if self.workers:
            list(self._pool().map(_ping, range(self.workers)))

    def render(self, files: list[list[tuple[str, dict]]]) -> list[RenderedFile]:
        if not self.workers:
            results = [render_file(items) for items in files]
        else:
            futures: list[Future] = [self._pool().submit(render_file, items) for items in files]
            results = [f.result() for f in futures]
        with self._lock:
            self._files.extend((r.worker_pid, r.worker_peak_rss_mb, len(r.pages), r.cpu_s) for r in results)
        return results

    def stats(self) -> dict:
        """Memory of the rendering processes: per worker, files rendered and peak RSS; the median RSS after the
        first and after the last tenth of the files (flat memory: about the same); documents and CPU seconds."""
        with self._lock:
            files = list(self._files)
        workers: dict[int, dict] = {}
        for pid, rss, _, _ in files:
            entry = workers.setdefault(pid, {"files": 0, "peak_rss_mb": 0.0})
            entry["files"] += 1
            entry["peak_rss_mb"] = max(entry["peak_rss_mb"], rss)
        tenth = max(1, len(files) // 10)
        return {"workers": workers, "files": len(files),
                "documents": sum(f[2] for f in files), "cpu_s": sum(f[3] for f in files),
                "rss_first": median(f[1] for f in files[:tenth]) if files else 0.0,
                "rss_last": median(f[1] for f in files[-tenth:]) if files else 0.0}

    def shutdown(self) -> None:
        with self._lock:
            executors, self._executor, self._retired, self._closed = (self._retired, self._executor), None, None, True
        for executor in executors:
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)


def _ping(_: int) -> int:
    return os.getpid()

"""Run a batch on a Dask distributed cluster (the optional ``dask`` extra).

Sources are cut into partitions of consecutive profiles; each partition is one
task. A worker plugin builds the :class:`~regimen.api.Recommender` once per
worker from the knowledge base the client sends (so every worker evaluates
with exactly the client's knowledge, whatever is installed on its machine).
At most a bounded number of partitions are in flight, and results come back
in input order, so the outputs are the same bytes as a local batch.

Start a cluster::

    dask scheduler                       # prints tcp://HOST:8786
    dask worker tcp://HOST:8786 --nworkers 4 --nthreads 1

and run ``regimen batch ... --scheduler tcp://HOST:8786`` (or set
``REGIMEN_DASK_SCHEDULER``). Every worker needs regimen installed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..errors import InputError, RegimenError
from .batch import Mapper, Ready

try:  # the base class registers the plugin as a worker plugin
    from distributed.diagnostics.plugin import WorkerPlugin as _PluginBase
except ImportError:  # pragma: no cover - without the extra, _distributed() refuses first
    _PluginBase = object  # type: ignore[assignment,misc]

PLUGIN_NAME = "regimen-recommender"
PARTITION = 32
"""Profiles per task: large enough to amortise scheduling (~1 ms per task),
small enough to keep every worker busy on a cohort of a few thousand."""


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise InputError("--scheduler needs Dask", field="--scheduler",
                         hint="pip install 'regimen[dask]'") from None
    return distributed


class RecommenderPlugin(_PluginBase):
    """Builds one Recommender per worker (compiled once) from the client's knowledge base."""

    name = PLUGIN_NAME

    def __init__(self, knowledge: Any) -> None:
        self.knowledge = knowledge
        self.recommender: Any = None

    def setup(self, worker: Any) -> None:
        from ..api import Recommender

        self.recommender = Recommender(self.knowledge)

    def teardown(self, worker: Any) -> None:
        self.recommender = None


def _partition(fn: Callable[[Any, Any], Any], sources: list[Any], digest: str) -> list[Any]:
    """Runs on a worker: evaluate one partition with the worker's Recommender."""
    from distributed import get_worker

    plugin: Any = get_worker().plugins[PLUGIN_NAME]
    recommender = plugin.recommender
    if recommender.kb.digest != digest:  # pragma: no cover - guarded by the plugin
        raise RegimenError(f"worker knowledge {recommender.kb.digest} is not the client's "
                           f"{digest}")
    return [fn(recommender, source) for source in sources]


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any] | Ready]:
    """Consecutive work items in lists of ``size``; Ready items on their own, in place."""
    chunk: list[Any] = []
    for item in items:
        if isinstance(item, Ready):
            if chunk:
                yield chunk
                chunk = []
            yield item
        else:
            chunk.append(item)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def dask_ordered_map(fn: Callable[[Any, Any], Any], items: Iterable[Any], recommender: Any,
                     client: Any, partition: int = PARTITION) -> Iterator[Any]:
    """Like :func:`regimen.cohort.batch.ordered_map`, on the workers of ``client``."""
    client.register_plugin(RecommenderPlugin(recommender.kb), name=PLUGIN_NAME)
    workers = max(len(client.scheduler_info().get("workers", {})), 1)
    limit = workers * 4
    digest = recommender.kb.digest
    pending: deque[Any] = deque()

    def drain(head: Any) -> Iterator[Any]:
        if isinstance(head, Ready):
            yield head.value
        else:
            yield from head.result()

    try:
        for chunk in _chunks(items, partition):
            if isinstance(chunk, Ready):
                pending.append(chunk)
            else:
                pending.append(client.submit(_partition, fn, chunk, digest, pure=False))
            while len(pending) >= limit or (pending and isinstance(pending[0], Ready)):
                yield from drain(pending.popleft())
        while pending:
            yield from drain(pending.popleft())
    finally:
        for future in pending:
            if not isinstance(future, Ready):
                future.cancel()


def dask_mapper(scheduler: str | Any, partition: int = PARTITION,
                timeout: str = "30s") -> Mapper:
    """A batch mapper that runs on the cluster at ``scheduler`` (an address or a cluster)."""

    def run(fn: Callable[[Any, Any], Any], items: Iterable[Any], recommender: Any
            ) -> Iterator[Any]:
        distributed = _distributed()
        try:
            client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the Dask scheduler: {exc}", field="--scheduler",
                             hint="start it with `dask scheduler` and give its "
                                  "tcp://host:8786 address") from None
        with client:
            yield from dask_ordered_map(fn, items, recommender, client, partition)

    return run

"""Start-up of the ``regimen`` command: no cyclic garbage collection until the work starts.

A cold command imports pydantic, click and Jinja, reads the knowledge base and
builds the rule network: some hundreds of thousands of objects, nearly all
alive to the end. The cyclic collector, left on, traverses them again and
again for nothing (about a fifth of a cold ``regimen evaluate``). The command
turns it off first (:func:`defer_collection`); once the long-lived objects are
built, :func:`startup_done` moves them to the permanent generation, out of
every later collection, and turns collection back on for the work itself (a
batch of many profiles collects as usual).
"""

from __future__ import annotations

import gc

_deferred = False


def defer_collection() -> None:
    """Turn cyclic garbage collection off until :func:`startup_done` (if it is on)."""
    global _deferred
    if gc.isenabled():
        gc.disable()
        _deferred = True


def startup_done() -> None:
    """Freeze everything built so far and turn collection back on, if it was deferred."""
    global _deferred
    if _deferred:
        _deferred = False
        gc.freeze()
        gc.enable()

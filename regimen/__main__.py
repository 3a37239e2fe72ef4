"""``python -m regimen`` and the ``regimen`` command: signals first, then the CLI.

The signal handlers are installed before anything heavy is imported, so Ctrl-C
even during start-up exits 130 with one line and no traceback. SIGTERM and SIGHUP
exit 128 + the signal number; an exit (not a kill) lets a report being written
remove its temporary file (:mod:`regimen.io.files`). Cyclic garbage collection
waits until the command has built what it keeps (:mod:`regimen.startup`).
"""

from __future__ import annotations

import signal
import sys
from types import FrameType


def _exit_on(signum: int, frame: FrameType | None) -> None:
    if signum == signal.SIGINT:
        sys.stderr.write("\nregimen: interrupted\n")
    raise SystemExit(128 + signum)


def install_signal_handlers() -> None:
    """SIGINT -> exit 130 (one line), SIGTERM/SIGHUP -> exit 128 + n; main thread only."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, _exit_on)


def main() -> None:
    from .startup import defer_collection

    defer_collection()
    install_signal_handlers()
    from .cli import main as cli_main

    cli_main()


if __name__ == "__main__":  # pragma: no branch
    main()

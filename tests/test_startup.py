"""Start-up of the command: collection deferred, then frozen and back on for the work."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from regimen import startup

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def restore_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    try:
        yield
    finally:
        startup._deferred = False
        gc.unfreeze()
        if was_enabled:
            gc.enable()
        else:
            gc.disable()


def test_collection_is_off_until_startup_is_done(restore_gc: None) -> None:
    gc.enable()
    startup.defer_collection()
    assert not gc.isenabled()
    frozen = gc.get_freeze_count()
    startup.startup_done()
    assert gc.isenabled()
    assert gc.get_freeze_count() > frozen  # what start-up built is out of later collections
    startup.startup_done()  # a second call changes nothing
    assert gc.isenabled()


def test_collection_switched_off_by_the_caller_stays_off(restore_gc: None) -> None:
    gc.disable()
    startup.defer_collection()
    startup.startup_done()
    assert not gc.isenabled()


def test_the_command_collects_again_once_the_knowledge_base_is_loaded() -> None:
    code = ("import gc, sys; from regimen import cli; seen = []\n"
            "real = cli.startup_done\n"
            "def spy():\n"
            "    seen.append(gc.isenabled()); real(); seen.append(gc.isenabled())\n"
            "cli.startup_done = spy\n"
            "sys.argv = ['regimen', 'evaluate', 'examples/crc-kras-g12c.yaml', '-f', 'json']\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            "print(seen, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stderr.strip().splitlines()[-1] == "[False, True]"
    assert '"recommendations"' in done.stdout

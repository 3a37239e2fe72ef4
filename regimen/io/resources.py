"""Find the shipped data directories: the only place that builds data paths.

An installed wheel carries ``knowledge/`` and ``templates/`` under
``regimen/_data/``; a source checkout (or an editable install) has them at the
top level of the repository. The packaged copy wins when both exist.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """Return the directory of shipped data called ``name`` ("knowledge" or "templates")."""
    packaged = _PACKAGE_DIR / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE_DIR.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(  # pragma: no cover - broken installation
        f"regimen cannot find its {name}/ directory (looked in {packaged} and {checkout}); "
        "reinstall the package"
    )


def knowledge_dir() -> Path:
    return data_dir("knowledge")


def templates_dir() -> Path:
    return data_dir("templates")

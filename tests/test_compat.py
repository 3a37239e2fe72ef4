"""experta 1.9.4 + frozendict 1.2 on Python >= 3.10: the compatibility shim."""

from __future__ import annotations

import collections
import logging
import subprocess
import sys


def test_experta_imports_and_alias_is_removed() -> None:
    from regimen.engine.experta._compat import experta

    assert hasattr(experta, "KnowledgeEngine")
    assert not hasattr(collections, "Mapping"), "the temporary alias must not leak"


def test_engine_builds_and_runs(recommender) -> None:
    result = recommender.evaluate({"tumour": {"type": "COADREAD"},
                                   "alterations": [{"gene": "KRAS", "change": "G12C"}]})
    assert any(m.id == "egfr-bypass" for m in result.mechanisms)
    assert result.trace, "the engine recorded no firing"


def test_import_adds_no_root_logging_handler() -> None:
    code = (
        "import logging; before = list(logging.getLogger().handlers); "
        "import regimen.engine.experta.engine; "
        "assert logging.getLogger().handlers == before, logging.getLogger().handlers"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_caller_logging_config_untouched() -> None:
    root = logging.getLogger()
    handler = logging.NullHandler()
    root.addHandler(handler)
    try:
        from regimen.engine.experta._compat import load_experta

        load_experta()
        assert handler in root.handlers
    finally:
        root.removeHandler(handler)

"""Coverage-guided fuzzing of the profile loader with atheris.

The only acceptable outcomes for any input bytes are a valid profile or
regimen's own InputError; anything else is a bug.

    pip install atheris
    python fuzz/fuzz_profile.py -atheris_runs=200000          # bounded run
    python fuzz/fuzz_profile.py fuzz/corpus                   # grow a corpus
"""

from __future__ import annotations

import contextlib
import io
import sys

import atheris

with atheris.instrument_imports():
    from regimen import load_knowledge
    from regimen.errors import InputError
    from regimen.profile import load_profile

VOCAB = load_knowledge().vocabulary


def test_one_input(data: bytes) -> None:
    with contextlib.suppress(InputError):
        load_profile(io.BytesIO(data), VOCAB)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

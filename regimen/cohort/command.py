"""``regimen batch``: evaluate a cohort of profiles into an output directory."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import InputError
from ..render import formats

# No import of regimen.cli at module level: cli.py registers this command when it is
# imported (also as ``python -m regimen.cli``), so the shared helpers are looked up on use.

REPORT_FORMATS = formats.names("batch-report")

KNOWLEDGE_OPTION = click.option(
    "--knowledge", "knowledge_dir", type=click.Path(file_okay=False, path_type=Path),
    default=None, envvar="REGIMEN_KNOWLEDGE", show_envvar=True,
    help="Knowledge directory to use instead of the shipped one (validated the same way).")

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """The CLI's error handling (exit 2 for input errors, 1 for internal faults)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..cli import handle_errors as handle

        return handle(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _recommender(knowledge_dir: Path | None) -> Any:
    from ..cli import _recommender as make

    return make(knowledge_dir)


def _usage_error(message: str) -> Exception:
    from ..cli import CommandError

    return CommandError(message, 2)


def _progress(quiet: bool, total: Callable[[], int | None]
              ) -> tuple[Callable[[], None], Callable[[], None]]:
    """A progress bar on a terminal (tqdm, imported only here); nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        return (lambda: None), (lambda: None)
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: worker processes are forked
    bar = tqdm(total=total(), unit=" profiles", file=sys.stderr, dynamic_ncols=True,
               mininterval=0.5)
    return (lambda: bar.update(1)), bar.close


def _mapper(scheduler: str | None, jobs: int) -> Any:
    from .batch import local_mapper

    if scheduler:
        from .dask_backend import dask_mapper

        return dask_mapper(scheduler)
    return local_mapper(jobs)


@click.command("batch")
@click.argument("inputs", nargs=-1, metavar="INPUT...")
@click.option("--out", "-o", "out", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Write reports, results.jsonl, errors.jsonl and "
                                 "manifest.jsonl here (created if missing). Without it, "
                                 "results.jsonl lines go to standard output.")
@click.option("--format", "-f", "formats", type=click.Choice(REPORT_FORMATS), multiple=True,
              help="Write one report per patient in this format (repeat for several).")
@click.option("--summary", "summary", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write a cohort evidence summary here (.html, .md or .json).")
@click.option("--summary-format", type=click.Choice(formats.names("cohort")), default=None,
              help="Summary format when the --summary extension does not say.")
@click.option("--summary-only", is_flag=True,
              help="Do not evaluate: rebuild --summary from an existing --out directory.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes (each compiles the knowledge base once).")
@click.option("--scheduler", metavar="ADDRESS", envvar="REGIMEN_DASK_SCHEDULER",
              show_envvar=True, default=None,
              help="Run on a Dask cluster at this scheduler address (tcp://host:8786); "
                   "needs the 'dask' extra.")
@click.option("--import-format", "import_format", metavar="FORMAT", default=None,
              help="Read every input with this importer instead of detecting the format.")
@click.option("--top", type=click.IntRange(min=1), default=None,
              help="Keep only the N best-ranked options per patient.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", default=None,
              help="Evaluate every profile with only what was known on this date.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary line.")
@KNOWLEDGE_OPTION
@click.pass_context
@handle_errors
def batch_command(ctx: click.Context, inputs: tuple[str, ...], out: Path | None,
          formats: tuple[str, ...], summary: Path | None, summary_format: str | None,
          summary_only: bool, jobs: int, scheduler: str | None, import_format: str | None,
          top: int | None, as_of: str | None, quiet: bool, knowledge_dir: Path | None) -> None:
    """Evaluate many profiles: files, directories, globs, JSON Lines and imports.

    Directories are searched recursively for *.yaml, *.yml, *.json and
    *.jsonl (one profile per line). Each patient's report is written to
    --out as NAME.FORMAT (NAME from the profile id, else the input name),
    every evaluation as one line of results.jsonl, and every refused
    profile to errors.jsonl with the message `regimen evaluate` would print.
    A rerun into the same --out skips what is up to date.

    Exit codes: 0 all evaluated, 2 some profiles refused (or bad usage),
    1 internal error.

    \b
    Examples:
      regimen batch examples/ --out cohort/ -f html -f json --summary cohort/summary.html
      regimen batch 'profiles/**/*.yaml' --jobs 2 --out cohort/
      regimen batch patients.jsonl > results.jsonl
    """
    from ..io.files import write_text_atomic
    from .batch import OutputDir, RenderTask, count_inputs, expand_inputs, run_batch
    from .summary import CohortAggregator, render_summary, summarise_directory

    chosen_summary = summary_format_for(summary, summary_format)
    if summary_only:
        if summary is None or out is None or inputs:
            raise _usage_error("--summary-only needs --out DIR (an existing batch output) and "
                            "--summary FILE, and no INPUT")
        assert chosen_summary is not None
        write_text_atomic(summary, render_summary(summarise_directory(out), chosen_summary))
        if not quiet:
            click.echo(f"wrote {summary}", err=True)
        return
    if not inputs:
        raise _usage_error("give at least one INPUT (a profile, directory, glob or .jsonl file)")
    if formats and out is None:
        raise _usage_error("--format writes one report per patient and needs --out DIR")
    if out is not None and any(Path(i).is_dir() and Path(i).resolve() == out.resolve()
                               for i in inputs):
        raise _usage_error(f"--out {out} is also an input directory: its reports would be read "
                        "as profiles; give --out a directory of its own (a subdirectory of "
                        "the input is fine, it is not searched)")
    from ..cli import _parse_date

    date = _parse_date(as_of, "--as-of")
    rec = _recommender(knowledge_dir)
    explicit = [Path(i) for i in inputs if Path(i).is_file()]
    output = OutputDir(out, tuple(dict.fromkeys(formats)), rec.kb.digest, protected=explicit) \
        if out is not None else None
    cohort = CohortAggregator() if summary is not None else None
    step, close = _progress(quiet, lambda: count_inputs(inputs, exclude=out,
                                                        import_format=import_format))

    def show(outcome: Any) -> None:
        if output is not None:
            return
        if outcome.error is not None:
            click.echo(f"refused: {outcome.error}", err=True)
        else:
            sys.stdout.write(outcome.line)

    try:
        counts = run_batch(
            expand_inputs(inputs, exclude=out, import_format=import_format), rec,
            RenderTask(tuple(dict.fromkeys(formats)), date, top), output,
            _mapper(scheduler, jobs), on_outcome=show,
            on_result=cohort.add_line if cohort is not None else None,
            on_refused=cohort.add_refused if cohort is not None else None, on_step=step)
    finally:
        close()
    if cohort is not None and summary is not None and chosen_summary is not None:
        write_text_atomic(summary, render_summary(cohort.summary(), chosen_summary))
    line = f"evaluated {counts.evaluated}, refused {counts.refused}, skipped {counts.skipped}"
    if counts.skipped_refused:
        line += f" (of which {counts.skipped_refused} refused before)"
    if out is not None:
        line += f"; outputs in {out}"
    if counts.total_refused:
        where = f"{out / 'errors.jsonl'}" if out is not None else "the messages above"
        click.echo(line, err=True)
        were = "profiles were" if counts.total_refused > 1 else "profile was"
        click.echo(f"{counts.total_refused} {were} refused; see {where}", err=True)
        ctx.exit(2)
    if not quiet:
        click.echo(line, err=True)


batch: click.Command = batch_command
"""The ``batch`` command, registered on the ``regimen`` group with ``cli.add_command(batch)``."""


def summary_format_for(summary: Path | None, fmt: str | None) -> str | None:
    """Check the summary format before any work is done."""
    if summary is None:
        if fmt is not None:
            raise InputError("--summary-format needs --summary FILE", field="--summary-format")
        return None
    from .summary import summary_format

    return summary_format(summary, fmt)


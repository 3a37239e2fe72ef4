"""The ``regimen`` command line: thin wrappers over :mod:`regimen.api`.

Exit codes: 0 success; 2 bad input or usage (the message names the file,
field, line or value and the fix); 1 an internal fault or, for
``knowledge lint``, a knowledge base with errors; 141 (128 + SIGPIPE, as
``yes | head -1`` gives) when the reader of standard output went away, quietly.
Each error class owns its exit code (:mod:`regimen.errors`).

Everything heavy (the API, pydantic models, Jinja, the rule engine) is imported
inside the commands, so ``regimen --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import __version__
from .errors import InputError, RegimenError
from .render import formats
from .startup import defer_collection, startup_done

if TYPE_CHECKING:
    from .api import Recommender
    from .knowledge.base import KnowledgeBase

F = TypeVar("F", bound=Callable[..., Any])

KNOWLEDGE_OPTION = click.option(
    "--knowledge", "knowledge_dir", type=click.Path(file_okay=False, path_type=Path),
    default=None, envvar="REGIMEN_KNOWLEDGE", show_envvar=True,
    help="Knowledge directory to use instead of the shipped one (validated the same way).")


class CommandError(click.ClickException):
    """A regimen error, printed without traceback, exiting with the error's own code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class


#: Exit code when standard output is a closed pipe (``regimen ... | head -1``): the shell's
#: code for a process ended by SIGPIPE, so ``set -o pipefail`` sees what it sees for ``yes``.
EXIT_BROKEN_PIPE = 141


def _silence_stdout() -> int:
    """The reader of standard output has gone: point it at /dev/null so that the final flush
    cannot fail again, and give the exit code to use."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (an in-memory stream)
        pass
    return EXIT_BROKEN_PIPE


def _debug() -> bool:
    return os.environ.get("REGIMEN_DEBUG", "") not in ("", "0")


def handle_errors(func: F) -> F:
    """Turn the library's own errors into click exceptions with the right exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except RegimenError as exc:
            raise CommandError(str(exc), exc.exit_code) from None
        except BrokenPipeError:
            raise click.exceptions.Exit(_silence_stdout()) from None
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as exc:  # an internal fault: short message, exit 1
            if _debug():
                traceback.print_exc()
            raise click.ClickException(
                f"internal error: {type(exc).__name__}: {exc}. This is a bug in regimen; "
                "rerun with REGIMEN_DEBUG=1 for the traceback and report it."
            ) from None

    return wrapper  # type: ignore[return-value]


def _recommender(knowledge_dir: Path | None) -> Recommender:
    from .api import Recommender

    recommender = Recommender(knowledge_dir)
    startup_done()
    return recommender


def _knowledge(knowledge_dir: Path | None) -> KnowledgeBase:
    from .knowledge.loader import load_knowledge

    kb = load_knowledge(knowledge_dir)
    startup_done()
    return kb


def _warn_if_person_name(profile_id: str | None) -> None:
    """Reports are titled with the profile id, which must not identify the patient."""
    from .profile import looks_like_person_name

    if looks_like_person_name(profile_id):
        click.echo(f"warning: the profile id {profile_id!r} looks like a person's name and "
                   "becomes the report title; use a pseudonymous id (no names)", err=True)


def _parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not a date", field=option,
                         hint="use YYYY-MM-DD, e.g. 2025-06-01") from None


def _emit(text: str | bytes, output: Path | None, profile: str | None = None) -> None:
    """Write the finished text (or PDF bytes) to --output atomically, or to stdout."""
    from .io.files import write_bytes_atomic, write_text_atomic

    if output is None or str(output) == "-":
        click.echo(text, nl=False)
        return
    if profile not in (None, "-") and Path(profile).exists() and output.exists() and \
            Path(profile).resolve() == output.resolve():
        raise InputError("--output is the input profile; refusing to overwrite it",
                         source=str(output), hint="choose another --output path")
    if isinstance(text, bytes):
        write_bytes_atomic(output, text)
    else:
        write_text_atomic(output, text)
    click.echo(f"wrote {output}", err=True)


def format_option(document: str) -> Callable[[F], F]:
    """--format with the choices the format registry gives for ``document``, default txt."""
    return click.option("--format", "-f", "fmt", type=click.Choice(formats.names(document)),
                        default="txt", show_default=True, help="Output format.")


def _output_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """--output as given (before a Path drops a trailing slash), checked, as a Path."""
    if value is None:
        return None
    from .errors import OutputError
    from .io.files import check_output_path

    try:
        check_output_path(value)
    except OutputError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return Path(value)


OUTPUT_HELP = ("Write the {what} here instead of standard output: atomically for a regular "
               "file (a symbolic link to one is followed and kept), directly for a device, a "
               "FIFO or '-' (standard output).")


def output_options(document: str, what: str) -> Callable[[F], F]:
    """--format and --output, shared by every command that writes a document to a file."""

    def decorate(func: F) -> F:
        func = click.option(
            "--output", "-o", type=click.Path(dir_okay=False), default=None,
            callback=_output_path, help=OUTPUT_HELP.format(what=what))(func)
        return click.option(
            "--format", "-f", "fmt", type=click.Choice(formats.names(document)), default=None,
            help="Output format. Default: from the --output extension, else txt.")(func)

    return decorate


def _chosen(output: Path | None, fmt: str | None, document: str) -> str:
    return formats.format_for(str(output) if output else None, fmt, document=document)


def version_text() -> str:
    """``regimen X``, the shipped knowledge base's name and version, the reference data's."""
    from .io.documents import read_document
    from .io.resources import knowledge_dir
    from .knowledge.reference import data_versions

    manifest = read_document(knowledge_dir() / "manifest.yaml").data or {}
    lines = [f"regimen {__version__}",
             f"knowledge: {manifest.get('name', '?')} {manifest.get('version', '?')}"]
    lines += [f"reference {name}: {version}" for name, version in data_versions().items()]
    return "\n".join(lines)


def _print_version(ctx: click.Context) -> None:
    click.echo(version_text())
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=lambda ctx, _param, value: _print_version(ctx) if value else None,
              help="Show the package, knowledge-base and reference-data versions and exit.")
def cli() -> None:
    """Rule-based decision support for drug-resistant gastrointestinal cancers.

    Reads a patient profile (YAML or JSON), infers the active resistance
    mechanisms, and ranks mechanism-targeted combination options, each with
    its evidence level, the tumour type it was studied in, a score breakdown
    and citations to the source reviews.

    It supports research and tumour-board discussion and does not replace
    clinical judgement.

    Exit codes: 0 ok, 2 bad input or usage, 1 internal error.
    """


@cli.command()
@click.argument("profile", metavar="PROFILE")
@output_options("report", "report")
@click.option("--top", type=click.IntRange(min=1), default=None,
              help="Show only the N best-ranked options.")
@click.option("--conditional", type=click.IntRange(min=0), default=10, show_default=True,
              help="Show at most N options that a test would unlock (0 hides them).")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", default=None,
              help="Evaluate with only what was known on this date.")
@KNOWLEDGE_OPTION
@handle_errors
def evaluate(profile: str, fmt: str | None, output: Path | None, top: int | None,
             conditional: int, as_of: str | None, knowledge_dir: Path | None) -> None:
    """Evaluate PROFILE (a YAML or JSON file, or - for standard input) and print a report.

    \b
    Examples:
      regimen evaluate examples/crc-kras-g12c.yaml
      regimen evaluate patient.yaml --format html --output patient.html
      regimen evaluate patient.yaml --format json | jq '.recommendations[0]'
    """
    from .render import render

    chosen = _chosen(output, fmt, "report")
    result = _recommender(knowledge_dir).evaluate(profile, as_of=_parse_date(as_of, "--as-of"),
                                                  top=top, conditional=conditional)
    _warn_if_person_name(result.profile_id)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    _emit(render(result, chosen), output, profile)


@cli.command()
@click.argument("profile", metavar="PROFILE")
@click.argument("item_id", metavar="[ID]", required=False)
@format_option("explain")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", default=None,
              help="Explain the evaluation as of this date.")
@KNOWLEDGE_OPTION
@handle_errors
def explain(profile: str, item_id: str | None, fmt: str, as_of: str | None,
            knowledge_dir: Path | None) -> None:
    """Show how a recommendation, avoid or caution was derived.

    Prints the chain facts -> rule (with citation) -> mechanism -> rule ->
    option. ID is a recommendation, dropped option, avoid, caution, test or
    mechanism id from the report; with no ID, every recommendation, avoid and
    caution is explained.
    """
    items = _recommender(knowledge_dir).explain(profile, item_id,
                                                as_of=_parse_date(as_of, "--as-of"))
    click.echo(formats.render_document("explain", fmt, items,
                                       explanations=[e.model_dump() for e in items]), nl=False)


@cli.command()
@click.argument("profile", metavar="PROFILE")
@output_options("timeline", "timeline")
@KNOWLEDGE_OPTION
@handle_errors
def timeline(profile: str, fmt: str | None, output: Path | None,
             knowledge_dir: Path | None) -> None:
    """Re-evaluate PROFILE as of each ctDNA draw and therapy change.

    Shows, date by date, which mechanisms appeared, which options entered or
    left the ranked list, which agents came to be avoided and which alerts fired,
    using only what was known on each date.
    """
    chosen = _chosen(output, fmt, "timeline")
    rec = _recommender(knowledge_dir)
    show = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show:
            click.echo(f"\revaluated {done}/{total} dates", err=True, nl=done == total)

    result = rec.timeline(profile, progress=progress)
    _warn_if_person_name(result.profile_id)
    _emit(formats.render_document("timeline", chosen, result, t=result.model_dump()), output,
          profile)


@cli.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              callback=_output_path, help=OUTPUT_HELP.format(what="schema"))
@handle_errors
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the patient profile."""
    from .profile import profile_schema
    from .result import to_json

    _emit(to_json(profile_schema(_knowledge(None).vocabulary)), output)


@cli.command()
@click.argument("source", metavar="INPUT", type=click.Path(exists=True, path_type=Path))
@click.option("--from", "fmt", type=click.Choice(["phenopacket", "fhir", "cbioportal"]),
              default=None, help="Input format. Default: detected from the content.")
@click.option("--to", "target", type=click.Choice(["yaml", "json", "jsonl"]), default="yaml",
              show_default=True,
              help="YAML documents, a JSON list, or JSON Lines (one profile a line, the input "
                   "`regimen batch` reads).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              callback=_output_path, help=OUTPUT_HELP.format(what="profiles"))
@handle_errors
def convert(source: Path, fmt: str | None, target: str, output: Path | None) -> None:
    """Show the profiles an import produces from INPUT, and what it could not map.

    INPUT is a GA4GH Phenopacket (JSON or YAML), an HL7 FHIR R4 / mCODE bundle (JSON) or
    a cBioPortal study folder. One profile per patient (per sample for cBioPortal); every
    item the import could not map is listed with the reason (YAML: comments above the
    profile; JSON: an "unmapped" list; JSON Lines: profiles only). The profiles are shown as
    imported: `regimen evaluate` and `regimen batch` validate them.

    \b
    Examples:
      regimen convert examples/imports/crc-phenopacket.json
      regimen convert examples/imports/cbioportal-gi-study --to json -o cohort.json
    """
    from .io.importers import import_path

    _emit(_converted(list(import_path(source, fmt)), target), output, str(source))


def _converted(items: list[Any], target: str) -> str:
    """Imported profiles as YAML documents (unmapped items as comments) or a JSON list."""
    import json

    from .result import to_json

    if target == "jsonl":
        return "".join(json.dumps(item.profile, ensure_ascii=False, sort_keys=False) + "\n"
                       for item in items)
    if target == "json":
        return to_json([{"source": item.source.model_dump(), "profile": item.profile,
                         "unmapped": [u.model_dump() for u in item.unmapped]}
                        for item in items])
    import yaml

    documents = []
    for item in items:
        lines = [f"# source: {item.source.file} ({item.source.record})"]
        lines += [f"# not mapped: {u.item}: {u.reason}" for u in item.unmapped] or \
            ["# not mapped: nothing"]
        body = yaml.safe_dump(item.profile, sort_keys=False, allow_unicode=True)
        documents.append("\n".join(_single_line(line) for line in lines) + "\n" + body)
    return "---\n" + "---\n".join(documents) if documents else ""


def _single_line(text: str) -> str:
    """A comment line cannot be broken by a newline in imported text."""
    return " ".join(text.split())


@cli.group()
def knowledge() -> None:
    """Inspect and check the knowledge base."""


@knowledge.command("lint")
@format_option("table")
@click.option("--quiet", "-q", is_flag=True,
              help="Print only errors and the count line (no warnings).")
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Known warnings, not shown (default: lint-baseline.txt in the knowledge "
                   "directory, when present).")
@click.option("--no-baseline", is_flag=True, help="Show every warning, known or new.")
@click.option("--update-baseline", is_flag=True,
              help="Write the current warnings to the baseline file (after reviewing them).")
@KNOWLEDGE_OPTION
@handle_errors
def knowledge_lint(fmt: str, quiet: bool, baseline: Path | None, no_baseline: bool,
                   update_baseline: bool, knowledge_dir: Path | None) -> None:
    """Check the knowledge base; exit 1 on any error.

    Checks citations against each source's reference list and sections, every
    gene, agent, mechanism and term against the vocabularies, duplicate ids,
    mechanisms nothing derives or addresses, options that can never fire, and
    rules that recommend what another rule avoids under the same conditions.

    Warnings listed in the baseline file were reviewed before and are not
    shown: only new warnings are. Errors are always shown.
    """
    from .result import to_json
    from .tools.baseline import BASELINE_NAME, read_baseline, split, write_baseline
    from .tools.lint import lint

    if no_baseline and (baseline is not None or update_baseline):
        raise InputError("--no-baseline cannot be combined with --baseline or "
                         "--update-baseline", field="--no-baseline",
                         hint="drop one of the options")
    kb = _knowledge(knowledge_dir)
    show = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show and (done % 10 == 0 or done == total):
            click.echo(f"\rfiring each rule on its own fixture: {done}/{total}", err=True,
                       nl=done == total)

    problems = lint(kb, progress=progress)
    errors = [p for p in problems if p.level == "error"]
    path = baseline if baseline is not None else kb.root / BASELINE_NAME
    if update_baseline:
        count = write_baseline(path, problems)
        click.echo(f"wrote {path} ({count} warnings)", err=True)
    use = not no_baseline and (baseline is not None or path.is_file())
    found = split(problems, read_baseline(path) if use else set())
    warnings = len(problems) - len(errors)
    if fmt == "json":
        click.echo(to_json({"rules": len(kb.rules), "errors": len(errors),
                            "warnings": warnings, "known_warnings": found.known,
                            "problems": [p.model_dump() for p in problems]}), nl=False)
    else:
        for problem in found.shown:
            if not (quiet and problem.level == "warning"):
                click.echo(problem.render())
        counts = f"{len(kb.rules)} rules, {len(errors)} errors, {warnings} warnings"
        if use:
            counts += f" ({warnings - found.known} new, {found.known} known from {path.name}"
            counts += f"; {found.stale} baseline entries no longer occur)" if found.stale \
                else ")"
        click.echo(counts)
    if errors:
        sys.exit(1)


@knowledge.command("list")
@click.argument("what", type=click.Choice(["rules", "agents", "mechanisms", "sources"]),
                default="rules")
@format_option("table")
@KNOWLEDGE_OPTION
@handle_errors
def knowledge_list(what: str, fmt: str, knowledge_dir: Path | None) -> None:
    """List rules, agents, mechanisms or sources."""
    from .result import to_json

    kb = _knowledge(knowledge_dir)
    rows: list[dict[str, Any]]
    if what == "rules":
        rows = [{"id": r.id, "stage": r.stage, "file": kb.rule_files[r.id],
                 "cites": "; ".join(f"{c.source} {c.where}" for c in r.cite)}
                for r in sorted(kb.rules, key=lambda r: r.id)]
    elif what == "agents":
        rows = [{"id": a.id, "kind": a.kind, "named": a.named, "name": a.name,
                 "classes": ", ".join(a.classes)} for a in sorted(kb.agents.values(),
                                                                 key=lambda a: a.id)]
    elif what == "mechanisms":
        rows = [{"id": m.id, "category": m.category, "label": m.label}
                for m in sorted(kb.mechanisms.values(), key=lambda m: m.id)]
    else:
        rows = [{"key": s.key, "kind": s.kind, "title": s.title,
                 "references": len(s.references) or s.max_ref or 0,
                 "sections": len(s.sections), "table_rows": sum(len(t.rows) for t in s.tables)}
                for s in kb.sources.values()]
    if fmt == "json":
        click.echo(to_json(rows), nl=False)
        return
    for row in rows:
        click.echo("\t".join(str(v) for v in row.values()))


@knowledge.command("coverage")
@format_option("table")
@click.option("--unaccounted", is_flag=True, help="Show only items neither encoded nor excluded.")
@KNOWLEDGE_OPTION
@handle_errors
def knowledge_coverage(fmt: str, unaccounted: bool, knowledge_dir: Path | None) -> None:
    """Show which rules encode each section and table row of the source reviews.

    Items left out on purpose are listed in knowledge/exclusions.yaml (or
    knowledge/exclusions/*.yaml) with the reason.
    """
    from .result import to_json
    from .tools.coverage import coverage

    report = coverage(_knowledge(knowledge_dir))
    if fmt == "json":
        click.echo(to_json(report), nl=False)
        return
    for source in report.sources:
        click.echo(f"{source.key}: {source.encoded} encoded, {source.excluded} excluded, "
                   f"{source.unaccounted} unaccounted")
        for item in source.items:
            if unaccounted and item.status != "unaccounted":
                continue
            detail = ", ".join(item.rules) if item.rules else (item.excluded or "-")
            if item.rules and item.excluded:
                detail += f"; not encoded as printed: {item.excluded}"
            click.echo(f"  {item.where:<40} {item.status:<12} {detail}")
    click.echo(f"total: {report.encoded} encoded, {report.excluded} excluded, "
               f"{report.unaccounted} unaccounted")


@knowledge.command("summary")
@click.option("--tumour", "--tumor", "tumour", metavar="TYPE", default=None,
              help="Order options by how closely their evidence matches this tumour type "
                   "(OncoTree code or name).")
@output_options("summary", "summary")
@KNOWLEDGE_OPTION
@handle_errors
def knowledge_summary(tumour: str | None, fmt: str | None, output: Path | None,
                      knowledge_dir: Path | None) -> None:
    """Write an evidence summary of the knowledge base, mechanism by mechanism.

    For each resistance mechanism: the findings that trigger it, what it
    blunts and the options that address it, with evidence level, tumour type
    studied and citations; then what to avoid, the cautions and the tests.
    """
    from .tools.summary import summarise_knowledge

    kb = _knowledge(knowledge_dir)
    code = None
    if tumour is not None:
        from .errors import VocabularyError

        try:
            code = kb.vocabulary.patient_tumour(tumour)
        except VocabularyError as exc:
            raise InputError(exc.message, field="--tumour", hint=exc.hint) from None
    chosen = _chosen(output, fmt, "summary")
    summary = summarise_knowledge(kb, code)
    _emit(formats.render_document("summary", chosen, summary,
                                  s=summary.model_dump(mode="json")), output)


def main() -> None:
    """The ``regimen`` command.

    A command holds a knowledge base and a rule network of some hundred
    thousand objects that stay alive to the end. Everything alive is frozen out
    of the cyclic collections the interpreter runs at exit, which otherwise
    traverse the whole heap for nothing (about a sixth of a cold ``evaluate``).
    A closed standard output (``| head -1``) ends the command quietly.
    """
    from .__main__ import install_signal_handlers

    defer_collection()
    install_signal_handlers()
    try:
        try:
            cli(prog_name="regimen")
        finally:
            gc.freeze()
            sys.stdout.flush()  # a closed pipe shows here, while it can still be handled
    except BrokenPipeError:
        sys.exit(_silence_stdout())


from .cohort.command import batch  # noqa: E402

cli.add_command(batch)

if __name__ == "__main__":  # pragma: no cover
    main()

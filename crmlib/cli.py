"""The ``crm`` command: run the notebook suite, validate data, add a unit, write sample data.

Exit codes (the same for every command):

- 0: success (``crm run``: every notebook ok, or ok with warnings: it ran to its end and
  some figures carry a warning or are not available, listed in the summary with the
  reason).
- 1: a failure: a notebook or unit failed (``crm run``), the data has violations
  (``crm validate``), or an unexpected internal error.
- 2: a usage or params error: a bad option, unit name or params file.
- 130: interrupted (Ctrl-C or SIGTERM); no partial report is left under a final name.

No traceback is shown for a :class:`crmlib.errors.CRMError`: the command prints
``error: <one-line message>`` on stderr. An unexpected exception prints one line too, unless
``--debug`` is given.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from crmlib.errors import CRMError, DataError, ParamsError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_EXIT_CODES = (
    "Exit codes: 0 success; 1 failures (a notebook or unit failed, data violations, internal "
    "error); 2 usage or params error; 130 interrupted."
)

app = typer.Typer(
    name="crm",
    help=(
        "crm-notebooks: run the CRM notebook suite for every business unit, validate data, "
        "add units, write sample data.\n\n"
        "Example: crm run --unit retail --jobs 2\n\n" + _EXIT_CODES
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_STATE = {"debug": False}
F = TypeVar("F", bound=Callable[..., Any])


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _handle_errors(func: F) -> F:
    """Turn exceptions into one line on stderr and an exit code (see the module docstring)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            _err("error: interrupted; unfinished reports were removed")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except CRMError as exc:
            if _STATE["debug"]:
                raise
            _err(f"error: {_one_line(exc)}")
            code = EXIT_FAILED if isinstance(exc, DataError) else EXIT_USAGE
            raise typer.Exit(code) from None
        except Exception as exc:
            if _STATE["debug"]:
                raise
            _err(
                f"error: internal error: {type(exc).__name__}: {_one_line(exc)} "
                "(run with --debug for the traceback)"
            )
            raise typer.Exit(EXIT_FAILED) from None

    return wrapper  # type: ignore[return-value]


def _one_line(exc: BaseException) -> str:
    lines = [s.strip() for s in str(exc).splitlines() if s.strip()]
    return lines[0] if lines else type(exc).__name__


@app.callback()
def _main_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of any error.")
    ] = False,
) -> None:
    _STATE["debug"] = debug


class Executor(StrEnum):
    processes = "processes"
    dask = "dask"


class Fmt(StrEnum):
    csv = "csv"
    parquet = "parquet"


# ------------------------------------------------------------------------------------ run
@app.command(
    "run",
    help=(
        "Run the notebooks for each business unit and write reports/<unit>/ and "
        "reports/index.html.\n\n"
        "Example: crm run --unit retail --unit cdnow --notebook 00_customer_base --jobs 2\n\n"
        "Each notebook runs in its own kernel; a failing notebook or unit never stops the "
        "others. A notebook is ok, ok with warnings (some figures carry a warning or are not "
        "available: listed with the reason; not a failure) or failed. " + _EXIT_CODES
    ),
)
@_handle_errors
def run_cmd(
    unit: Annotated[
        list[str] | None,
        typer.Option("--unit", "-u", help="Business unit (repeatable); default: every unit."),
    ] = None,
    notebook: Annotated[
        list[str] | None,
        typer.Option(
            "--notebook", "-n",
            help="Notebook name, e.g. 00_customer_base (repeatable); default: the unit's "
            "params list.",
        ),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Notebooks at once.")] = 2,
    executor: Annotated[
        Executor, typer.Option(help="Run in local processes or on dask.distributed.")
    ] = Executor.processes,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of a dask scheduler (with --executor dask)."),
    ] = None,
    reports: Annotated[Path, typer.Option("--reports", help="Reports folder.")] = Path("reports"),
    params_dir: Annotated[
        Path | None, typer.Option(help="Params folder (defaults.yaml, units/).")
    ] = None,
    notebooks_dir: Annotated[
        Path | None, typer.Option(help="Notebooks folder; default: the project's notebooks/.")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Redo only the notebooks without a complete report from an earlier run with "
            "the same notebook, params and data; keep the others.",
        ),
    ] = False,
) -> None:
    from crmlib import batch

    summary = batch.run(
        unit or None,
        notebook or None,
        jobs=jobs,
        executor=executor.value,
        scheduler=scheduler,
        reports_dir=reports,
        params_dir=params_dir,
        notebooks_dir=notebooks_dir,
        progress=True,
        resume=resume,
    )
    for note in summary.notes:
        _err(f"note: {note}")
    _print_summary(summary)
    for result in summary.failed:
        _err(f"failed: {result.error}")
    if summary.index_path is not None:
        typer.echo(f"index: {summary.index_path}")
    raise typer.Exit(EXIT_FAILED if summary.failed else EXIT_OK)


def _print_summary(summary: Any) -> None:
    """The table of results: status with symbol and colour (``✓ ok``, ``⚠ ok with
    warnings``, ``✗ failed``; Okabe-Ito colours), then the headline, or for a notebook with
    warnings each figure concerned with its reason."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from crmlib import formatting, labels
    from crmlib.batch._status import COLOURS, FAILED, OK_WITH_WARNINGS, label, warnings_of

    console = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 120)
    n_warn = len(summary.with_warnings)
    title = (f"crm run: {len(summary.ok) - n_warn} ok, {n_warn} ok with warnings, "
             f"{len(summary.failed)} failed")
    table = Table(title=title)
    for column in ("unit", "notebook", "status", "seconds", "headline"):
        table.add_column(column, overflow="fold")
    for r in summary.results:
        headline = ""
        if r.metrics:
            m = r.metrics[0]
            headline = f"{labels.label(str(m.get('name')))}: {formatting.metric(m)}"
        if r.status == OK_WITH_WARNINGS:
            headline = "; ".join(f"{w['name']} {w['status']}: {w['reason']}"
                                 for w in warnings_of(r.metrics))
        elif r.status not in ("ok", OK_WITH_WARNINGS):
            headline = f"cell {r.cell}: {r.ename}" if r.cell is not None else (r.ename or "")
        colour = COLOURS.get(r.status, COLOURS[FAILED])
        text = label(r.status) + (" (kept)" if getattr(r, "reused", False) else "")
        status = f"[{colour}]{escape(text)}[/{colour}]"
        seconds = f"{r.duration_s:.1f}" if r.duration_s is not None else ""
        table.add_row(r.unit, r.notebook or "(params)", status, seconds, escape(headline))
    console.print(table)


# ------------------------------------------------------------------------------- validate
@app.command(
    "validate",
    help=(
        "Check a data source against the data contract and print every violation.\n\n"
        "Example: crm validate data/sample --unit retail --as-of 2024-12-31\n\n"
        "SOURCE is a folder of <table>.csv/.parquet files, a DuckDB file or a SQLAlchemy "
        "URL. Exit 0 when valid, 1 when there are violations, 2 on a usage error."
    ),
)
@_handle_errors
def validate_cmd(
    source: Annotated[str, typer.Argument(help="Folder, DuckDB file or SQLAlchemy URL.")],
    unit: Annotated[
        str | None, typer.Option("--unit", "-u", help="Check this business unit's rows only.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Analysis date (YYYY-MM-DD); later dates "
                                 "are violations.")
    ] = None,
) -> None:
    from crmlib import data

    violations = data.validate(source, unit=unit, as_of=as_of)
    if violations:
        for violation in violations:
            typer.echo(_one_line(violation))
        _err(f"{len(violations)} violation(s) in {source}")
        raise typer.Exit(EXIT_FAILED)
    crm = data.load(source, unit=unit, as_of=as_of, in_database=data.LAZY_TABLES, cache=False)
    counts = []
    for table in ("customers", "orders", "interactions", "survey_responses"):
        frame = getattr(crm, table, None)
        if frame is not None:
            counts.append(f"{table} {len(frame)} rows")
    crm.close()
    scope = f" (unit {unit})" if unit else ""
    typer.echo(f"ok: {', '.join(counts)}{scope}")


# ------------------------------------------------------------------------------- new-unit
_UNIT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@app.command(
    "new-unit",
    help=(
        "Write a commented params file params/units/NAME.yaml for a new business unit.\n\n"
        "Example: crm new-unit b2b\n\n"
        "Refuses to overwrite an existing file. Exit 0 when written, 2 for a bad name or an "
        "existing file."
    ),
)
@_handle_errors
def new_unit_cmd(
    name: Annotated[str, typer.Argument(help="Unit name: lowercase letters, digits and _.")],
    params_dir: Annotated[
        Path | None, typer.Option(help="Params folder; default: the project's params/.")
    ] = None,
) -> None:
    from crmlib import config

    config.check_unit_name(name)
    folder = Path(params_dir) if params_dir is not None else config.project_root() / "params"
    text = config.new_unit_template(name, params_dir=params_dir)
    path = folder / "units" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        raise ParamsError(f"{path}: already exists; edit it or remove it first") from None
    typer.echo(f"wrote {path}")


# ---------------------------------------------------------------------------------- synth
@app.command(
    "synth",
    help=(
        "Write the synthetic multi-unit sample data set (with its known truth, TRUTH.yaml).\n\n"
        "Example: crm synth --customers 2000 --out data/sample --format csv --seed 1\n\n"
        "Same options, same bytes. Exit 0 when written, 2 on a usage error."
    ),
)
@_handle_errors
def synth_cmd(
    customers: Annotated[
        int | None, typer.Option(min=1, help="Customers in all (split over the units).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("data/sample"),
    fmt: Annotated[Fmt, typer.Option("--format", help="File format.")] = Fmt.csv,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
) -> None:
    from crmlib import synth

    kwargs: dict[str, Any] = {"fmt": fmt.value}
    if customers is not None:
        kwargs["customers"] = customers
    if seed is not None:
        kwargs["seed"] = seed
    written = synth.write_sample(out, **kwargs)
    typer.echo(f"wrote {written if written is not None else out}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``crm`` console script."""
    app(args=argv, prog_name="crm")


if __name__ == "__main__":  # pragma: no cover
    main()

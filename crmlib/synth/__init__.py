"""Sample CRM data with known truth: three business units in one source.

``retail`` buys by the BG/NBD process (Fader, Hardie & Lee 2005) with Gamma-Gamma spend
(Fader, Hardie & Lee 2005b; Colombo & Jiang 1999); ``subscription`` churns by a Weibull
proportional-hazards model (Cox 1972); ``services`` buys by the Pareto/NBD process
(Schmittlein, Morrison & Colombo 1987) with Gamma-Gamma spend, has heavy service contact and
one CRM initiative with a known effect on first-contact resolution. Survey answers follow a latent
ordered-probit model whose NPS driver weights are known. Every parameter, and the population
values it implies, is returned as ``truth`` and written to ``TRUTH.yaml``; see
``data/sample/README.md`` for the processes and the layout.

References
----------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your customers" the easy
way: an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005b). RFM and CLV: using iso-value curves
for customer base analysis. Journal of Marketing Research 42(4), 415-430.
Schmittlein, D. C., Morrison, D. G. and Colombo, R. (1987). Counting your customers: who
are they and what will they do next? Management Science 33(1), 1-24.
Cox, D. R. (1972). Regression models and life-tables. JRSS B 34(2), 187-220.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from crmlib.errors import CRMError
from crmlib.synth import _params as P  # noqa: N812
from crmlib.synth._simulate import simulate_chunk
from crmlib.synth._tables import SCHEMAS, TABLE_NAMES, chunk_tables
from crmlib.synth._truth import bgnbd_expected_repeats, build_truth

__all__ = [
    "DEFAULT_SEED",
    "TABLE_NAMES",
    "bgnbd_expected_repeats",
    "generate",
    "split_customers",
    "write_sample",
]

DEFAULT_SEED = 20241231


def split_customers(customers: int | dict[str, int] | None = None) -> dict[str, int]:
    """Customers per unit: the default sample, a total split 6:4:3, or an explicit dict.

    Parameters
    ----------
    customers : int, dict or None
        None for the default sample, a total, or unit -> count (missing units get 0).

    Returns
    -------
    dict of str to int

    Examples
    --------
    >>> from crmlib import synth
    >>> synth.split_customers(130)
    {'retail': 60, 'subscription': 40, 'services': 30}
    >>> synth.split_customers({"retail": 50})
    {'retail': 50, 'subscription': 0, 'services': 0}
    """
    if customers is None:
        return dict(P.DEFAULT_CUSTOMERS)
    if isinstance(customers, dict):
        bad = [u for u in customers if u not in P.UNITS]
        if bad:
            raise CRMError(f"customers: unknown business unit(s) {bad}; use {list(P.UNITS)}")
        out = {u: int(customers.get(u, 0)) for u in P.UNITS}
    else:
        if isinstance(customers, bool) or not isinstance(customers, (int, np.integer)):
            raise CRMError(f"customers: expected an int or a dict, got {customers!r}")
        total = sum(P.DEFAULT_CUSTOMERS.values())
        out = {u: int(customers) * k // total for u, k in P.DEFAULT_CUSTOMERS.items()}
        out["retail"] += int(customers) - sum(out.values())
    neg = {u: n for u, n in out.items() if n < 0}
    if neg:
        raise CRMError(f"customers: negative count(s) {neg}")
    return out


def _window(start: str, as_of: str) -> tuple[np.datetime64, np.datetime64, float, float]:
    try:
        s, a = np.datetime64(str(start), "D"), np.datetime64(str(as_of), "D")
    except ValueError as exc:
        raise CRMError(f"start/as_of: not a date ({exc})") from None
    if a < s:
        raise CRMError(f"as_of {a} is before start {s}")
    span = float((a + 1 - s).astype(int))
    init_day = float((np.datetime64(P.INITIATIVE["start"], "D") - s).astype(int))
    return s, a, span, init_day


def _iter_tables(
    counts: dict[str, int],
    seed: int,
    start: str,
    as_of: str,
    chunk_size: int,
    stats: dict[str, dict[str, float]],
) -> Iterator[dict[str, pa.Table]]:
    """Arrow tables chunk by chunk, unit by unit; ``stats`` collects the chunk summaries."""
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, (int, np.integer))
        or chunk_size < 1
    ):
        raise CRMError(f"chunk_size: expected a positive int, got {chunk_size!r}")
    s, _, span, init_day = _window(start, as_of)
    for unit in P.UNITS:
        n_unit = counts[unit]
        width = max(6, len(str(n_unit)))
        counters = dict.fromkeys(("orders", "interactions", "survey_responses"), 0)
        acc = stats.setdefault(unit, {})
        for k, lo in enumerate(range(0, n_unit, chunk_size)):
            n = min(chunk_size, n_unit - lo)
            ss = np.random.SeedSequence([int(seed), P.UNIT_CODES[unit], k])
            chunk = simulate_chunk(unit, n, ss, span, init_day)
            for key, val in chunk.stats.items():
                acc[key] = acc.get(key, 0.0) + val
            tables = chunk_tables(unit, chunk, lo, counters, width, s)
            for name, t in tables.items():
                acc[f"rows_{name}"] = acc.get(f"rows_{name}", 0.0) + t.num_rows
            yield tables


def generate(
    customers: int | dict[str, int] | None = None,
    *,
    seed: int = DEFAULT_SEED,
    as_of: str = "2024-12-31",
    start: str = "2022-01-01",
    chunk_size: int = P.CHUNK_SIZE,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Generate the sample tables in memory.

    Parameters
    ----------
    customers
        ``None`` for the default sample (retail 3000, subscription 2000, services 1500), a
        total split across the units in those proportions, or a dict unit -> count.
    seed
        Seed of the numpy generators (one per unit and chunk).
    as_of, start
        The observation window: acquisitions and events from ``start`` to the end of
        ``as_of``.
    chunk_size
        Customers per chunk; the data depend on it (not on the number of chunks).

    Returns
    -------
    tables, truth
        ``customers``, ``orders``, ``interactions``, ``survey_responses`` as DataFrames
        (dates as ``datetime64``) and the truth dict written to ``TRUTH.yaml``.

    Examples
    --------
    >>> from crmlib import synth
    >>> tables, truth = synth.generate({"retail": 40}, seed=1)
    >>> len(tables["customers"]), truth["retail"]["bgnbd"]["r"]
    (40, 0.75)
    """
    counts = split_customers(customers)
    stats: dict[str, dict[str, float]] = {}
    parts: dict[str, list[pa.Table]] = {name: [] for name in TABLE_NAMES}
    for tables in _iter_tables(counts, seed, start, as_of, chunk_size, stats):
        for name, t in tables.items():
            parts[name].append(t)
    frames = {}
    for name in TABLE_NAMES:
        t = pa.concat_tables(parts[name]) if parts[name] else SCHEMAS[name].empty_table()
        frames[name] = t.to_pandas(date_as_object=False)
    truth = build_truth(counts, seed, start, as_of, chunk_size, stats)
    return frames, truth


def write_sample(
    out_dir: str | Path,
    *,
    customers: int | dict[str, int] | None = None,
    seed: int = DEFAULT_SEED,
    fmt: str = "csv",
    as_of: str = "2024-12-31",
    start: str = "2022-01-01",
    chunk_size: int = P.CHUNK_SIZE,
) -> Path:
    """Write ``<table>.csv`` (or ``.parquet``) and ``TRUTH.yaml`` into ``out_dir``.

    Chunks of ``chunk_size`` customers are simulated and appended one at a time (a pyarrow
    CSV writer or ``ParquetWriter`` per table, one file per table), so memory stays bounded
    for millions of customers. Same arguments, same bytes.

    Parameters
    ----------
    out_dir : path-like
        The folder to write (created if needed).
    fmt : {"csv", "parquet"}
        The file format.
    customers, seed, as_of, start, chunk_size
        As in :func:`generate`.

    Returns
    -------
    pathlib.Path
        ``out_dir``, ready for :func:`crmlib.data.load`.

    Examples
    --------
    >>> import tempfile
    >>> from crmlib import synth
    >>> folder = synth.write_sample(tempfile.mkdtemp(), customers={"retail": 20})
    >>> sorted(f.name for f in folder.iterdir())
    ['TRUTH.yaml', 'customers.csv', 'interactions.csv', 'orders.csv', 'survey_responses.csv']
    """
    if fmt not in ("csv", "parquet"):
        raise CRMError(f"fmt: expected 'csv' or 'parquet', got {fmt!r}")
    counts = split_customers(customers)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stats: dict[str, dict[str, float]] = {}
    with _table_writers(out, fmt) as writers:
        for tables in _iter_tables(counts, seed, start, as_of, chunk_size, stats):
            for name, t in tables.items():
                writers[name].write_table(t)
    truth = build_truth(counts, seed, start, as_of, chunk_size, stats)
    text = yaml.safe_dump(truth, sort_keys=False, default_flow_style=False, width=100)
    (out / "TRUTH.yaml").write_text(text, encoding="utf-8")
    return out


@contextlib.contextmanager
def _table_writers(out: Path, fmt: str) -> Iterator[dict[str, Any]]:
    """One pyarrow writer per table (CSV with a plain header line, or zstd Parquet), closed
    (and their files) on exit."""
    files, writers = {}, {}
    try:
        for name in TABLE_NAMES:
            schema = SCHEMAS[name]
            if fmt == "csv":
                fh = open(out / f"{name}.csv", "wb")  # noqa: SIM115 - closed in finally
                files[name] = fh
                fh.write((",".join(schema.names) + "\n").encode())
                opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
                writers[name] = pacsv.CSVWriter(fh, schema, write_options=opts)
            else:
                writers[name] = pq.ParquetWriter(
                    out / f"{name}.parquet", schema, compression="zstd"
                )
        yield writers
    finally:
        for w in writers.values():
            w.close()
        for fh in files.values():
            fh.close()

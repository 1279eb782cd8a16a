"""Checked snapshots (``crmlib.data._snapshot``): the checks run once, the rows come back the
same, and anything the checked rows depend on invalidates the snapshot.

Whether the checks ran is seen by counting the calls of the rule functions of
``crmlib.data._checks`` (no timings). The reference of every frame is ``load(cache=False)``,
today's path, which tests/test_data*.py tie to hand-made cases.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pandas as pd
import pytest

from crmlib import data
from crmlib.data import _checks, _load, _snapshot
from crmlib.errors import CRMError, DataError

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
RULES = ("check_structure", "check_keys", "check_references", "check_unit", "check_rows",
         "check_acquisition", "check_rows_in_database")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A fresh cache folder for one test, caching on, outside any batch run."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("CRM_CACHE_DIR", str(folder))
    monkeypatch.delenv("CRM_CACHE", raising=False)
    monkeypatch.delenv("CRM_RUN_ID", raising=False)
    return folder


@pytest.fixture
def calls(monkeypatch) -> dict[str, int]:
    """How many times each rule of the data contract ran."""
    counts = dict.fromkeys(RULES, 0)
    for name in RULES:
        original = getattr(_checks, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            counts[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(_checks, name, counted)
    return counts


def _checked(calls: dict[str, int]) -> bool:
    ran = any(calls.values())
    for name in calls:
        calls[name] = 0
    return ran


def _shop(folder: Path, *, last: str = "2024-03-01") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "customers.csv").write_text(
        "customer_id,business_unit,acquired_at,age\nc1,shop,2024-01-05,31\nc2,shop,2024-02-10,\n"
        "c3,other,2024-01-01,40\n")
    (folder / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\no1,c1,2024-01-05,20.0\n"
        f"o2,c1,{last},35.5\no3,c2,2024-02-11,12.0\no4,c3,2024-01-02,1.0\n")
    return folder


def _snapshots(cache: Path) -> list[Path]:
    root = cache / "snapshots"
    return sorted(p for d in root.iterdir() for p in d.iterdir()) if root.exists() else []


def _same(got: data.CRMData, want: data.CRMData) -> None:
    assert (got.tables, got.unit, got.source, got.as_of, got.available, got.in_database) == (
        want.tables, want.unit, want.source, want.as_of, want.available, want.in_database)
    for table in want.tables:
        a, b = getattr(got, table), getattr(want, table)
        if isinstance(b, data.SourceTable):
            assert a.dtypes.to_dict() == b.dtypes.to_dict() and len(a) == len(b)
            a, b = a.to_pandas(), b.to_pandas()
        pd.testing.assert_frame_equal(a, b)


# --------------------------------------------------------------------- same rows as today
@pytest.mark.parametrize(("unit", "lazy", "as_of"), [
    ("retail", (), None),
    ("retail", (), "2024-12-31"),
    ("retail", data.LAZY_TABLES, None),
    ("retail", data.LAZY_TABLES, "2025-01-15"),
    ("subscription", (), "2024-12-31"),
    ("subscription", data.LAZY_TABLES, None),
    ("services", (), None),
    ("services", data.LAZY_TABLES, "2024-12-31"),
])
def test_cached_load_equals_the_uncached_load(cache, calls, unit, lazy, as_of):
    want = data.load(SAMPLE, unit, as_of=as_of, in_database=lazy, cache=False)
    assert want.snapshot is None and want.checked_at is not None
    _checked(calls)
    first = data.load(SAMPLE, unit, as_of=as_of, in_database=lazy)  # checks, writes
    assert _checked(calls)
    second = data.load(SAMPLE, unit, as_of=as_of, in_database=lazy)  # reads the snapshot
    assert not _checked(calls)
    assert first.snapshot == second.snapshot and first.snapshot.parent.parent == cache / "snapshots"
    assert first.checked_at == second.checked_at
    for got in (first, second):
        _same(got, want)
        if lazy:  # the unit's typed rows in the snapshot, not a view over the source
            assert str(got.snapshot) in got.orders.relation
        got.close()
    want.close()


def test_one_snapshot_serves_eager_and_in_database_loads_of_files(cache, calls, tmp_path):
    folder = _shop(tmp_path / "shop")
    eager = data.load(folder, "shop")
    assert _checked(calls)
    with data.load(folder, "shop", in_database=("orders",)) as lazy:
        assert not _checked(calls)
        assert lazy.snapshot == eager.snapshot
        assert data.sql.query("SELECT SUM(amount) AS s FROM o", {"o": lazy.orders})["s"][0] == 67.5
    assert eager.orders["amount"].tolist() == [20.0, 35.5, 12.0]
    assert eager.customers["age"].tolist()[0] == 31 and str(eager.customers["age"].dtype) == "Int64"


# --------------------------------------------------------------------- what invalidates it
def test_a_changed_source_file_invalidates_the_snapshot(cache, calls, tmp_path):
    folder = _shop(tmp_path / "shop")
    first = data.load(folder, "shop")
    assert _checked(calls)
    assert data.load(folder, "shop").snapshot == first.snapshot and not _checked(calls)
    # the same size, rewritten at once (possibly the same mtime tick): the bytes differ
    _shop(folder, last="2024-03-02")
    second = data.load(folder, "shop")
    assert _checked(calls)
    assert second.snapshot != first.snapshot and second.as_of == pd.Timestamp("2024-03-02")
    assert _snapshots(cache) == [second.snapshot]  # the older one of the same load is gone
    # only the modification time changes
    os.utime(folder / "orders.csv", ns=(1, 1))
    assert data.load(folder, "shop").snapshot != second.snapshot and _checked(calls)


@pytest.mark.parametrize("change", [
    {"as_of": "2024-06-30"}, {"tables": ("orders",)}, {"unit": "other"},
])
def test_a_changed_argument_is_another_snapshot(cache, calls, tmp_path, change):
    folder = _shop(tmp_path / "shop")
    base = data.load(folder, "shop")
    _checked(calls)
    args = {"unit": "shop", **change}
    other = data.load(folder, args.pop("unit"), **args)
    assert _checked(calls) and other.snapshot != base.snapshot
    assert len(_snapshots(cache)) == 2  # both kept: different loads
    data.load(folder, "shop")
    assert not _checked(calls)


def test_a_new_day_invalidates_a_load_without_as_of(cache, calls, tmp_path, monkeypatch):
    folder = _shop(tmp_path / "shop")
    data.load(folder, "shop")
    data.load(folder, "shop", as_of="2024-12-31")
    _checked(calls)
    monkeypatch.setattr(_load, "_today", lambda: pd.Timestamp("2099-01-01"))
    data.load(folder, "shop")  # as_of None: "after today" depends on the day
    assert _checked(calls)
    data.load(folder, "shop", as_of="2024-12-31")  # an as_of before today: the same checks
    assert not _checked(calls)
    # today before the data: the same source now violates the contract, and says so
    monkeypatch.setattr(_load, "_today", lambda: pd.Timestamp("2024-02-01"))
    with pytest.raises(DataError, match="in the future"):
        data.load(folder, "shop")


def test_a_changed_rule_invalidates_the_snapshot(cache, calls, tmp_path, monkeypatch):
    folder = _shop(tmp_path / "shop")
    first = data.load(folder, "shop")
    _checked(calls)
    monkeypatch.setattr(_snapshot, "_rules_digest", lambda: "another version of the rules")
    assert data.load(folder, "shop").snapshot != first.snapshot and _checked(calls)


# ------------------------------------------------------------------ never hides a violation
def test_a_violation_is_never_cached(cache, calls, tmp_path):
    folder = _shop(tmp_path / "shop")
    good = data.load(folder, "shop")
    with (folder / "orders.csv").open("a") as fh:
        fh.write("o1,c2,2024-02-12,5.0\n")  # a duplicate order_id
    for _ in range(2):
        with pytest.raises(DataError, match="duplicate key") as err:
            data.load(folder, "shop")
        assert _checked(calls)
    assert str(err.value) == str(data.validate(folder, "shop")[0])
    assert _snapshots(cache) == [good.snapshot]  # nothing written for the bad source
    with pytest.raises(DataError, match="duplicate key"):
        data.prepare(folder, "shop")


def test_a_damaged_snapshot_is_ignored_and_rebuilt(cache, calls, tmp_path):
    folder = _shop(tmp_path / "shop")
    want = data.load(folder, "shop", cache=False)
    snap = data.load(folder, "shop").snapshot
    _checked(calls)
    damage = [
        lambda: (snap / "manifest.json").unlink(),
        lambda: (snap / "orders.parquet").unlink(),
        lambda: (snap / "orders.parquet").write_bytes((snap / "orders.parquet").read_bytes()[:-9]),
        lambda: (snap / "manifest.json").write_text("{\"format\": 1, \"finger"),
    ]
    for harm in damage:
        harm()
        got = data.load(folder, "shop")
        assert _checked(calls) and got.snapshot == snap
        _same(got, want)
        assert not any(p.name.startswith(".tmp-") for p in snap.parent.iterdir())


def test_a_half_written_snapshot_is_not_read(cache, calls, tmp_path):
    folder = _shop(tmp_path / "shop")
    snap = data.prepare(folder, "shop")
    manifest = json.loads((snap / "manifest.json").read_text())
    # a writer killed before its rename leaves only a temporary folder: never read
    tmp = snap.parent / f".tmp-{snap.name}-1-deadbeef"
    snap.rename(tmp)
    got = data.load(folder, "shop")
    assert _checked(calls) and got.snapshot == snap
    assert json.loads((snap / "manifest.json").read_text())["fingerprint"] == manifest[
        "fingerprint"]


def test_two_loads_at_once_leave_one_whole_snapshot(cache, tmp_path):
    folder = _shop(tmp_path / "shop")
    out: list[data.CRMData] = []
    threads = [threading.Thread(target=lambda: out.append(data.load(folder, "shop")))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 3 and len({o.snapshot for o in out}) == 1
    assert _snapshots(cache) == [out[0].snapshot]
    assert [p.name for p in out[0].snapshot.parent.iterdir()] == [out[0].snapshot.name]


# --------------------------------------------------------------------------- where, and off
def test_cache_folder_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("CRM_CACHE", raising=False)
    monkeypatch.delenv("CRM_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.cache_dir() == tmp_path / "xdg" / "crm-notebooks"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.cache_dir() == tmp_path / "home" / ".cache" / "crm-notebooks"
    monkeypatch.setenv("CRM_CACHE_DIR", str(tmp_path / "mine"))
    assert data.cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("CRM_CACHE", "off")
    assert data.cache_dir() is None


def test_cache_off_checks_every_time(cache, calls, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_CACHE", "off")
    folder = _shop(tmp_path / "shop")
    for _ in range(2):
        assert data.load(folder, "shop").snapshot is None and _checked(calls)
    with pytest.raises(CRMError, match="off"):
        data.prepare(folder, "shop")
    assert not cache.exists()


def test_a_cache_folder_that_cannot_be_written_is_a_warning(calls, tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("CRM_CACHE_DIR", str(blocked / "cache"))
    monkeypatch.delenv("CRM_CACHE", raising=False)
    folder = _shop(tmp_path / "shop")
    with pytest.warns(RuntimeWarning, match="cannot write a snapshot"):
        got = data.load(folder, "shop")
    assert got.snapshot is None and _checked(calls)
    _same(got, data.load(folder, "shop", cache=False))
    with pytest.raises(CRMError, match="cannot write a snapshot"):
        data.prepare(folder, "shop")


def test_prepare_writes_without_reading_and_load_reuses_it(cache, calls, tmp_path):
    folder = _shop(tmp_path / "shop")
    snap = data.prepare(folder, "shop", in_database=("orders",))
    assert _checked(calls)
    manifest = json.loads((snap / "manifest.json").read_text())
    assert manifest["tables"]["orders"]["rows"] == 3 and manifest["as_of"] == "2024-03-01T00:00:00"
    assert manifest["tables"]["customers"]["dtypes"]["age"] == "Int64"
    assert data.prepare(folder, "shop", in_database=("orders",)) == snap
    crm = data.load(folder, "shop")
    assert not _checked(calls) and crm.snapshot == snap
    assert crm.checked_at == pd.Timestamp(manifest["checked_at"])


# ------------------------------------------------------------------------------ PostgreSQL
@pytest.mark.postgres
def test_postgres_interactive_loads_always_check(cache, calls, pg_url):
    for _ in range(2):
        got = data.load(pg_url, "retail")
        assert got.snapshot is None and _checked(calls)
    with pytest.raises(CRMError, match="CRM_RUN_ID"):
        data.prepare(pg_url, "retail")


@pytest.mark.postgres
def test_postgres_batch_run_reuses_its_snapshot(cache, calls, pg_url, monkeypatch):
    lazy = ("orders", "interactions")
    want = data.load(pg_url, "retail", in_database=lazy, cache=False)
    _checked(calls)
    monkeypatch.setenv("CRM_RUN_ID", "run-1")
    snap = data.prepare(pg_url, "retail", in_database=lazy)
    assert _checked(calls)
    assert sorted(p.name for p in snap.iterdir()) == [
        "customers.parquet", "manifest.json", "survey_responses.parquet"]
    with data.load(pg_url, "retail", in_database=lazy) as got:
        assert not _checked(calls) and got.snapshot == snap
        assert got.orders.dialect == "postgresql" and got.session is not None
        _same(got, want)
    monkeypatch.setenv("CRM_RUN_ID", "run-2")  # another run checks again
    assert data.load(pg_url, "retail", in_database=lazy).snapshot != snap and _checked(calls)
    want.close()

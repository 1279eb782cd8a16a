"""Fixtures shared by several test modules: the PostgreSQL server of ``pg_server.py``, and a
temporary folder for the data snapshots of ``data.load`` (never the user's cache)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

with contextlib.suppress(Exception):  # sqlalchemy/psycopg missing: those tests skip
    from pg_server import pg_base, pg_url, sample_pg_url  # noqa: F401

with contextlib.suppress(Exception):  # running as root (or no binaries): not needed
    from pg_server import postgresql_system_proc  # noqa: F401


@pytest.fixture(scope="session", autouse=True)
def data_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``CRM_CACHE_DIR`` for the whole session (kernels of batch runs inherit it), and no
    ``CRM_RUN_ID`` from an outer batch run."""
    folder = tmp_path_factory.mktemp("crm-cache")
    saved = {k: os.environ.get(k) for k in ("CRM_CACHE_DIR", "CRM_RUN_ID")}
    os.environ["CRM_CACHE_DIR"] = str(folder)
    os.environ.pop("CRM_RUN_ID", None)
    yield folder
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value

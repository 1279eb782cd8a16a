"""Fixtures shared by several test modules: the PostgreSQL server of ``pg_server.py``."""

from __future__ import annotations

import contextlib

with contextlib.suppress(Exception):  # sqlalchemy/psycopg missing: those tests skip
    from pg_server import pg_base, pg_url, sample_pg_url  # noqa: F401

with contextlib.suppress(Exception):  # running as root (or no binaries): not needed
    from pg_server import postgresql_system_proc  # noqa: F401

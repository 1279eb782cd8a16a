"""Pseudonymised customer identifiers for reports.

Reports show customer ids as keyed hashes by default (params ``privacy.pseudonymise_ids``):
HMAC-SHA256 of the id under a secret key, truncated to 12 hex digits and prefixed ``c_``
(Bellare, Canetti and Krawczyk 1996, "Keying hash functions for message authentication";
RFC 2104). Without the key the pseudonyms cannot be reversed by hashing candidate ids, as a
plain hash can; with the same key the same id always gets the same pseudonym, so tables of
different reports and runs can be joined.

The key comes from the environment variable ``CRM_PSEUDONYM_KEY``. When it is not set,
``crm run`` gives every notebook of the run the same random key (:func:`run_key_env`), and a
notebook run by hand draws one for its process: pseudonyms are then stable within a run but
not across runs, and a :class:`PseudonymKeyWarning` says so (once per process).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import warnings
from collections.abc import Iterable
from typing import Any

import pandas as pd

ENV_KEY = "CRM_PSEUDONYM_KEY"
PREFIX = "c_"
DIGITS = 12  # 48 bits: collisions are unlikely below some millions of customers

_ENV_RANDOM = "CRM_PSEUDONYM_KEY_IS_RANDOM"
_RUN_KEY: bytes | None = None
_NOTED = False


def _note() -> None:
    global _NOTED
    _NOTED = True
    warnings.warn(
        f"{ENV_KEY} is not set: customer ids are pseudonymised with a random key for this run "
        "only (set it to get the same pseudonyms in every run)",
        PseudonymKeyWarning,
        stacklevel=4,
    )


class PseudonymKeyWarning(UserWarning):
    """No key in ``CRM_PSEUDONYM_KEY``: a random key for this process is used."""


def run_key_env() -> dict[str, str]:
    """Environment for the kernels of one batch run: ``CRM_PSEUDONYM_KEY`` if set, else a
    random key shared by every notebook of the run (marked, so a note says so)."""
    if os.environ.get(ENV_KEY):
        return {}
    return {ENV_KEY: secrets.token_hex(32), _ENV_RANDOM: "1"}


def _key(key: str | bytes | None) -> bytes:
    global _RUN_KEY
    if key is None:
        key = os.environ.get(ENV_KEY) or None
        if key is not None and os.environ.get(_ENV_RANDOM) == "1" and not _NOTED:
            _note()
    if key is None:
        if _RUN_KEY is None:
            _RUN_KEY = secrets.token_bytes(32)
            _note()
        return _RUN_KEY
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not key:
        raise ValueError("pseudonymise: the key is empty")
    return key


def _one(value: Any, key: bytes) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return value
    digest = hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:DIGITS]


def pseudonymise(ids: Any, key: str | bytes | None = None) -> Any:
    """Replace customer ids by keyed-hash pseudonyms (missing values stay missing).

    Parameters
    ----------
    ids
        One id (str), or a pandas Series / Index, or any iterable of ids.
    key
        The secret key; default the environment variable ``CRM_PSEUDONYM_KEY``, else a random
        key for this process (with a :class:`PseudonymKeyWarning`).

    Returns
    -------
    The same shape: a str, a Series (same index and name), an Index, or a list.

    Examples
    --------
    >>> pseudonymise("00001", key="k")
    'c_4ff6e3e254b0'
    """
    k = _key(key)
    if isinstance(ids, pd.Series):
        return ids.map(lambda v: _one(v, k)).astype("string")
    if isinstance(ids, pd.Index):
        return pd.Index([_one(v, k) for v in ids], name=ids.name, dtype="string")
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        return _one(ids.decode() if isinstance(ids, bytes) else ids, k)
    return [_one(v, k) for v in ids]


def display_ids(frame: pd.DataFrame, *, enabled: bool = True, column: str = "customer_id",
                key: str | bytes | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with ``column`` pseudonymised when ``enabled`` (the params switch
    ``privacy.pseudonymise_ids``); the frame unchanged otherwise or without that column."""
    if not enabled or column not in frame.columns:
        return frame
    out = frame.copy()
    out[column] = pseudonymise(out[column], key=key)
    return out


__all__ = ["ENV_KEY", "PseudonymKeyWarning", "display_ids", "pseudonymise", "run_key_env"]

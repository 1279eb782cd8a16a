"""The segmentation figures draw what they are given, into the axes they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from crmlib.plotting._segmentation import (
    plot_cluster_profiles,
    plot_flows,
    plot_k_selection,
    plot_migration,
    plot_rfm_grid,
    plot_segment_value,
)
from crmlib.segmentation import ClusterSegmenter, flows, migration, rfm, segment_value


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def orders():
    rng = np.random.default_rng(0)
    n = 400
    cust = rng.integers(0, 120, n)
    return pd.DataFrame({
        "order_id": [f"o{i}" for i in range(n)],
        "customer_id": [f"C{c:03d}" for c in cust],
        "ordered_at": pd.Timestamp("2023-01-01")
        + pd.to_timedelta(rng.integers(0, 730, n), unit="D"),
        "amount": rng.gamma(2, 30, n).round(2),
    })


def test_rfm_grid_counts_and_revenue(orders):
    table = rfm(orders, as_of="2024-12-31")
    _, (a, b) = plt.subplots(1, 2)
    assert plot_rfm_grid(table, ax=a) is a
    texts = [t.get_text() for t in a.texts]
    assert len(texts) == 25
    counts = sum(int(t.split("\n")[0]) for t in texts)
    assert counts == len(table)
    assert "Champions" in " ".join(texts)
    plot_rfm_grid(table, value="revenue", ax=b)
    assert "revenue" in b.get_title()


def test_value_migration_and_flows(orders):
    table = rfm(orders, as_of="2024-12-31")
    value = segment_value(table, orders, as_of="2024-12-31", key_segments=["Champions"])
    ax = plot_segment_value(value)
    labels = {" ".join(t.get_text().split()) for t in ax.texts}
    table = value.table
    shown = table[table["customers"] > 0]
    assert labels == {f"{s} (key)" if k else s
                      for s, k in zip(shown["segment"].astype(str), shown["is_key"], strict=True)}
    assert "Champions (key)" in labels
    mig = migration(orders, as_of_dates=["2023-12-31", "2024-12-31"])
    ax = plot_migration(mig)
    assert "2024-12-31" in ax.get_xlabel() and "2023-12-31" in ax.get_ylabel()
    ax = plot_flows(flows(mig, ["Champions", "At Risk"]))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Champions", "At Risk"]


def test_cluster_figures():
    x, _ = make_blobs(n_samples=200, centers=3, n_features=2, random_state=0)
    seg = ClusterSegmenter(k_range=(2, 4), n_bootstrap=2, n_init=1, random_state=0).fit(
        pd.DataFrame(x, columns=["a", "b"]))
    ax = plot_cluster_profiles(seg)
    assert len(ax.get_yticklabels()) == seg.n_clusters_
    ax = plot_k_selection(seg)
    assert f"chosen k = {seg.n_clusters_}" in [t.get_text() for t in ax.get_legend().texts]
    _, ax = plt.subplots()
    assert plot_k_selection(seg, ax=ax) is ax
    assert seg.rule_ in ax.get_title()

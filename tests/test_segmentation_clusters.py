"""ClusterSegmenter: recovery of well-separated known clusters, determinism, preprocessing and
clear errors on bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from crmlib.errors import CRMError, NotFittedError
from crmlib.segmentation import ClusterSegmenter


@pytest.fixture(scope="module")
def blobs():
    x, y = make_blobs(n_samples=600, centers=4, n_features=3, cluster_std=1.0, random_state=3)
    frame = pd.DataFrame(x, columns=["recency", "frequency", "monetary"])
    frame.insert(0, "customer_id", [f"C{i:04d}" for i in range(len(frame))])
    return frame, y


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_recovers_known_k(blobs, method):
    frame, truth = blobs
    seg = ClusterSegmenter(method=method, k_range=(2, 6), n_bootstrap=3, n_init=2,
                           random_state=0).fit(frame)
    assert seg.n_clusters_ == 4
    assert adjusted_rand_score(truth, seg.labels_) >= 0.9
    sel = seg.selection_
    assert sel["k"].tolist() == [2, 3, 4, 5, 6]
    assert sel.loc[sel["chosen"], "k"].item() == 4 and sel["chosen"].sum() == 1
    assert {"silhouette", "calinski_harabasz", "bic", "stability", "stability_ci_low"} <= set(sel)
    if method == "gmm":
        assert sel["bic"].notna().all()
    else:
        assert sel["inertia"].is_monotonic_decreasing
    assert list(seg.labels_.index[:2]) == ["C0000", "C0001"]
    prof = seg.profiles_
    assert prof["size"].sum() == 600 and prof["size"].is_monotonic_decreasing
    assert np.isclose(prof["share"].sum(), 1)
    # profile means are the raw feature means of the segment's members
    members = frame.set_index("customer_id")[seg.labels_ == 0]
    assert np.isclose(prof.loc[0, "monetary"], members["monetary"].mean())
    assert len(set(seg.names_.values())) == 4
    pd.testing.assert_series_equal(seg.predict(frame), seg.labels_)


def test_deterministic(blobs):
    frame, _ = blobs
    kw = dict(k_range=(2, 5), n_bootstrap=2, n_init=1, random_state=7)
    a = ClusterSegmenter(**kw).fit(frame)
    b = ClusterSegmenter(**kw).fit(frame)
    pd.testing.assert_series_equal(a.labels_, b.labels_)
    pd.testing.assert_frame_equal(a.selection_, b.selection_)
    pd.testing.assert_frame_equal(a.profiles_, b.profiles_)


def test_fixed_k_skew_and_categories():
    rng = np.random.default_rng(0)
    n = 400
    group = rng.integers(0, 2, n)
    frame = pd.DataFrame({
        "spend": rng.lognormal(3 + 2 * group, 1.0),  # heavily skewed: log1p-transformed
        "tenure": rng.normal(10 + 5 * group, 1.0),
        "channel": np.where(group == 1, "web", "store"),
    })
    seg = ClusterSegmenter(n_clusters=2, n_bootstrap=0, random_state=1).fit(frame)
    assert seg.log_features_ == ["spend"]
    assert seg.selection_["k"].tolist() == [2]
    assert adjusted_rand_score(group, seg.labels_) == 1.0
    prof = seg.profiles_
    assert {"channel=web", "z_channel=web", "z_spend"} <= set(prof.columns)
    web = prof["channel=web"].idxmax()
    assert prof.loc[web, "channel=web"] == 1.0
    assert seg.names_[web].startswith("high spend") or "channel=web" in seg.names_[web]


def test_bad_input(blobs):
    frame, _ = blobs
    with pytest.raises(CRMError, match="column 'monetary' has 1 missing"):
        ClusterSegmenter().fit(frame.assign(monetary=[np.nan] + [1.0] * 599))
    with pytest.raises(CRMError, match="every column is constant"):
        ClusterSegmenter().fit(pd.DataFrame({"plan": ["gold"] * 10, "x": [1.0] * 10}))
    with pytest.raises(CRMError, match="3 customers, too few for 2 segments"):
        ClusterSegmenter(k_range=(2, 10)).fit(frame.head(3))
    with pytest.raises(CRMError, match="method: 'dbscan'"):
        ClusterSegmenter(method="dbscan").fit(frame)
    with pytest.raises(CRMError, match="k_range"):
        ClusterSegmenter(k_range=(1, 3)).fit(frame)
    with pytest.raises(NotFittedError):
        ClusterSegmenter().predict(frame)
    seg = ClusterSegmenter(k_range=(2, 3), n_bootstrap=0)
    assert seg.get_params()["k_range"] == (2, 3)  # stored unchanged, validated at fit


def test_customer_features():
    from crmlib.segmentation import customer_features

    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4"],
        "customer_id": ["A", "A", "B", "C"],
        "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-21", "2024-01-25"]),
        "amount": [10.0, 30.0, 5.0, 7.0],
    })
    customers = pd.DataFrame({"customer_id": ["A", "B", "C"], "business_unit": "u",
                              "acquired_at": pd.to_datetime(["2023-12-31"] * 2 + ["2024-01-25"]),
                              "channel": ["web", "store", "web"]})
    interactions = pd.DataFrame({"customer_id": ["A", "A", "B"],
                                 "occurred_at": pd.to_datetime(["2024-01-02"] * 3)})
    out = customer_features(orders, as_of="2024-01-31", customers=customers,
                            interactions=interactions, attributes=["channel"])
    assert out.loc["A"].to_dict() == {"recency_days": 20.0, "frequency": 2.0, "monetary": 20.0,
                                      "channel": "web", "tenure_days": 31.0, "contacts": 2.0}
    assert out.loc["C", "tenure_days"] == 6.0 and out.loc["C", "contacts"] == 0.0


def test_few_customers_cap_k_and_constant_features_are_left_out(blobs):
    frame, _ = blobs
    # 8 customers with k_range (2, 8): k at most 8 // 2 = 4, said in the note
    seg = ClusterSegmenter(k_range=(2, 8), n_bootstrap=2, random_state=0)
    seg.fit(frame.head(8).assign(plan="gold"))  # plan is the same for everyone
    assert seg.selection_["k"].tolist() == [2, 3, 4]
    assert 2 <= seg.n_clusters_ <= 4 and len(seg.labels_) == 8
    assert "8 customers: k capped at 4" in seg.note_
    assert seg.dropped_features_ == ["plan"] and "plan" not in seg.feature_names_in_
    assert "constant feature(s) left out: plan" in seg.note_
    with pytest.raises(CRMError, match="5 customers, too few for 3 segments"):
        ClusterSegmenter(n_clusters=3).fit(frame.head(5))

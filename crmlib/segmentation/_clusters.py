"""Model-based segments: k-means or Gaussian mixtures over customer features, with the number of
segments chosen from a documented sweep of criteria and bootstrap stability."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import skew
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from crmlib import defaults
from crmlib.base import Estimator
from crmlib.errors import CRMError
from crmlib.utils.estimates import proportion_estimate
from crmlib.utils.validation import (
    check_frame,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = ["ClusterSegmenter"]

MIN_PER_SEGMENT = 2
"""The largest k tried is ``n // MIN_PER_SEGMENT``: at least two customers per segment on
average (the silhouette needs ``k < n``, and a segment of one customer is no segment)."""

_SILHOUETTE_N = 5_000
"""Silhouette is computed on at most this many customers of the sweep sample (O(n^2))."""


def _is_categorical(col: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)


class ClusterSegmenter(Estimator):
    """Segments customers by clustering their features (k-means or a Gaussian mixture).

    Preprocessing: numeric features that are non-negative and right-skewed (sample skewness
    above ``skew_threshold``; spend, order counts, tenure) are ``log1p``-transformed, then all
    numeric features are standardised (z-scores); categorical features (strings, categories,
    booleans) are one-hot encoded and left as 0/1.

    Choosing k (``n_clusters="auto"``): each k in ``k_range`` is fitted on a random sample of
    at most ``sample_size`` customers and scored by silhouette (Rousseeuw 1987; on at most
    5,000 of them), Calinski-Harabasz (1974), inertia, BIC for mixtures (Schwarz 1978), and
    stability: the mean adjusted Rand index (Hubert & Arabie 1985) between the sample's
    labels and those of ``n_bootstrap`` refits on bootstrap resamples (Lange et al. 2004;
    Hennig 2007), with a 95% percentile interval. Among the *stable* solutions (mean ARI at
    least ``stability_threshold``; all solutions if none is) the chosen k maximises the
    silhouette (``criterion="silhouette"``, the default for k-means), minimises BIC
    (``"bic"``, the default for mixtures) or maximises Calinski-Harabasz. When the sample is
    smaller than the data, the final model with that k is refitted on all customers,
    started from the sample solution (k-means: Lloyd iterations from its centres; mixtures:
    EM from its weights, means and precisions), so a million customers cost a few
    full-data passes rather than a full sweep. All fits run single-threaded (they are small,
    and thread start-up dominates them).

    Parameters
    ----------
    n_clusters : "auto" or int
        Number of segments, or ``"auto"`` to choose it in ``k_range``.
    method : {"kmeans", "gmm"}
        k-means (Lloyd 1982; k-means++ starts, Arthur & Vassilvitskii 2007) or a Gaussian
        mixture with full covariances fitted by EM (Dempster, Laird & Rubin 1977).
    k_range : (int, int)
        Smallest and largest k of the sweep, inclusive.
    criterion : {"auto", "silhouette", "bic", "calinski_harabasz"}
        The rule choosing k among stable solutions (``"bic"`` only for mixtures).
    sample_size : int
        Customers used for the sweep and the bootstrap.
    n_bootstrap : int
        Bootstrap refits per k for the stability (0 turns it off: every k counts as stable).
    stability_threshold : float
        Mean ARI a solution needs to count as stable.
    skew_threshold : float
        Skewness above which a non-negative feature is log1p-transformed.
    n_init : int
        Starts per k-means or mixture fit; the best is kept.
    random_state : None, int or numpy Generator
        Seeds every sample, start and resample; the same value gives the same segments.
    alpha : float
        One minus the confidence level of the segment shares (:meth:`summary`,
        :meth:`conf_int`).

    Attributes
    ----------
    labels_ : Series
        Segment (0 = the largest) per customer, indexed like ``features`` (by ``customer_id``
        when it is a column).
    n_clusters_ : int
    names_ : dict[int, str]
        A readable name per segment from its standardised profile, e.g.
        ``"high frequency / high monetary"``.
    profiles_ : DataFrame
        :meth:`summary` at the constructor's ``alpha``. Per segment: ``name, size, share,
        share_ci_low, share_ci_high``, the mean of each raw numeric feature and the share of
        each category level, then ``z_<feature>``: the segment's mean of the model's
        standardised feature.
    selection_ : DataFrame
        The sweep: ``k, inertia, silhouette, calinski_harabasz, bic, stability,
        stability_ci_low, stability_ci_high, stable, chosen``.
    rule_ : str
        The rule that chose k, e.g. ``"max silhouette among solutions with mean bootstrap
        ARI >= 0.8"``.
    n_ : int
        Customers fitted.
    log_features_ : list[str]
        Numeric features that were log1p-transformed.
    dropped_features_ : list[str]
        Constant features left out (they separate nobody).
    note_ : str
        What was adapted to the data (constant features left out; ``k_range`` or
        ``n_clusters`` capped at ``n // 2`` for few customers).
    model_ : the fitted scikit-learn estimator.

    References
    ----------
    Lloyd, S. P. (1982). Least squares quantization in PCM. *IEEE Trans. Inf. Theory*, 28(2),
    129-137.
    Hartigan, J. A., & Wong, M. A. (1979). Algorithm AS 136: A k-means clustering algorithm.
    *Applied Statistics*, 28(1), 100-108.
    Arthur, D., & Vassilvitskii, S. (2007). k-means++: the advantages of careful seeding.
    *Proc. SODA 2007*, 1027-1035.
    Rousseeuw, P. J. (1987). Silhouettes. *J. Comput. Appl. Math.*, 20, 53-65.
    Calinski, T., & Harabasz, J. (1974). A dendrite method for cluster analysis.
    *Communications in Statistics*, 3(1), 1-27.
    Hubert, L., & Arabie, P. (1985). Comparing partitions. *J. Classification*, 2, 193-218.
    Lange, T., Roth, V., Braun, M. L., & Buhmann, J. M. (2004). Stability-based validation
    of clustering solutions. *Neural Computation*, 16(6), 1299-1323.
    Hennig, C. (2007). Cluster-wise assessment of cluster stability. *CSDA*, 52, 258-271.

    Examples
    --------
    Two groups of customers, one buying often and much, one rarely and little:

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> features = pd.DataFrame({
    ...     "frequency": np.r_[rng.normal(2, 0.5, 40), rng.normal(10, 1, 20)],
    ...     "monetary": np.r_[rng.normal(20, 3, 40), rng.normal(80, 8, 20)]})
    >>> seg = ClusterSegmenter(k_range=(2, 4), n_bootstrap=2, random_state=0).fit(features)
    >>> seg.n_clusters_, seg.labels_.value_counts().tolist()
    (2, [40, 20])
    >>> seg.summary()[["size", "share", "share_ci_low", "share_ci_high"]].round(3)
             size  share  share_ci_low  share_ci_high
    segment
    0          40  0.667         0.541          0.773
    1          20  0.333         0.227          0.459
    """

    def __init__(
        self,
        *,
        n_clusters: str | int = "auto",
        method: str = "kmeans",
        k_range: tuple[int, int] = defaults.CLUSTER_K_RANGE,
        criterion: str = "auto",
        sample_size: int = 10_000,
        n_bootstrap: int = 10,
        stability_threshold: float = 0.8,
        skew_threshold: float = 1.0,
        n_init: int = 4,
        random_state: Any = None,
        alpha: float = defaults.ALPHA,
    ) -> None:
        self.n_clusters = n_clusters
        self.method = method
        self.k_range = k_range
        self.criterion = criterion
        self.sample_size = sample_size
        self.n_bootstrap = n_bootstrap
        self.stability_threshold = stability_threshold
        self.skew_threshold = skew_threshold
        self.n_init = n_init
        self.random_state = random_state
        self.alpha = alpha

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> list[int]:
        check_option(self.method, name="method", options=("kmeans", "gmm"))
        crit = check_option(self.criterion, name="criterion",
                            options=("auto", "silhouette", "bic", "calinski_harabasz"))
        if crit == "bic" and self.method != "gmm":
            raise CRMError("criterion: 'bic' needs method='gmm'")
        check_scalar(self.sample_size, name="sample_size", kind=int, min_value=10)
        check_scalar(self.n_bootstrap, name="n_bootstrap", kind=int, min_value=0)
        check_scalar(self.stability_threshold, name="stability_threshold", min_value=-1,
                     max_value=1)
        check_scalar(self.skew_threshold, name="skew_threshold", min_value=0)
        check_scalar(self.n_init, name="n_init", kind=int, min_value=1)
        if self.n_clusters == "auto":
            try:
                low, high = (int(v) for v in self.k_range)
            except (TypeError, ValueError):
                raise CRMError(f"k_range: expected (low, high), got {self.k_range!r}") from None
            if not 2 <= low <= high:
                raise CRMError(f"k_range: expected 2 <= low <= high, got {self.k_range!r}")
            return list(range(low, high + 1))
        check_scalar(self.n_clusters, name="n_clusters", kind=int, min_value=2)
        return [int(self.n_clusters)]

    def _check_features(self, features: Any, ks: list[int]) -> pd.DataFrame:
        check_frame(features, name="features")
        frame = features.set_index("customer_id") if "customer_id" in features.columns \
            else features
        if frame.shape[1] == 0:
            raise CRMError("features: no feature columns")
        for col in frame.columns:
            values = frame[col]
            n_missing = int(values.isna().sum())
            if n_missing:
                raise CRMError(f"features: column {col!r} has {n_missing} missing value(s); "
                               "impute or drop them before clustering")
            if not _is_categorical(values) and not np.isfinite(values.to_numpy(float)).all():
                raise CRMError(f"features: column {col!r} has infinite values")
        constant = [c for c in frame.columns if frame[c].nunique() <= 1]
        if len(constant) == frame.shape[1]:
            raise CRMError(f"features: every column is constant ({', '.join(map(repr, constant))}"
                           f" in all {len(frame)} rows): nothing separates the customers")
        n = len(frame)
        if n < 2 * min(ks):
            raise CRMError(f"features: {n} customers, too few for {min(ks)} segments "
                           f"(need at least {MIN_PER_SEGMENT} customers per segment)")
        return frame.drop(columns=constant)

    # ------------------------------------------------------------------ pieces
    def _transformer(self, frame: pd.DataFrame) -> tuple[ColumnTransformer, list[str]]:
        numeric = [c for c in frame.columns if not _is_categorical(frame[c])]
        cats = [c for c in frame.columns if _is_categorical(frame[c])]
        logged = [
            c for c in numeric
            if frame[c].min() >= 0 and skew(frame[c].to_numpy(float)) > self.skew_threshold
        ]
        plain = [c for c in numeric if c not in logged]
        parts = []
        if logged:
            parts.append(("log", make_pipeline(
                FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
                StandardScaler()), logged))
        if plain:
            parts.append(("num", StandardScaler(), plain))
        if cats:
            parts.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                          cats))
        return ColumnTransformer(parts, sparse_threshold=0.0), logged

    def _model(self, k: int, seed: int, start: Any = None) -> Any:
        """A k-means or mixture model; ``start`` (a fitted model) gives its initial values."""
        if self.method == "gmm":
            if start is None:
                return GaussianMixture(k, covariance_type="full", n_init=self.n_init,
                                       reg_covar=1e-4, random_state=seed)
            return GaussianMixture(k, covariance_type="full", reg_covar=1e-4,
                                   weights_init=start.weights_, means_init=start.means_,
                                   precisions_init=start.precisions_, random_state=seed)
        if start is None:
            return KMeans(k, n_init=self.n_init, random_state=seed)
        return KMeans(k, init=start.cluster_centers_, n_init=1, random_state=seed)

    def _sweep(self, x: np.ndarray, ks: list[int], rng: np.random.Generator
               ) -> tuple[pd.DataFrame, dict[int, Any], str]:
        m = len(x)
        rows = []
        models = {}
        for k in ks:
            model = self._model(k, int(rng.integers(2**31 - 1))).fit(x)
            models[k] = model
            labels = model.predict(x)
            n_lab = len(np.unique(labels))
            row: dict[str, Any] = {"k": k}
            row["inertia"] = float(model.inertia_) if self.method == "kmeans" else np.nan
            seed = int(rng.integers(2**31 - 1))
            row["silhouette"] = (
                float(silhouette_score(x, labels, sample_size=min(m, _SILHOUETTE_N),
                                       random_state=seed)) if n_lab > 1 else np.nan
            )
            row["calinski_harabasz"] = (
                float(calinski_harabasz_score(x, labels)) if n_lab > 1 else np.nan
            )
            row["bic"] = float(model.bic(x)) if self.method == "gmm" else np.nan
            aris = []
            for _ in range(self.n_bootstrap):
                idx = rng.integers(0, m, m)
                boot = self._model(k, int(rng.integers(2**31 - 1))).fit(x[idx])
                aris.append(adjusted_rand_score(labels, boot.predict(x)))
            if aris:
                row["stability"] = float(np.mean(aris))
                row["stability_ci_low"], row["stability_ci_high"] = (
                    float(v) for v in np.percentile(aris, [2.5, 97.5]))
            else:
                row["stability"] = row["stability_ci_low"] = row["stability_ci_high"] = np.nan
            rows.append(row)
        table = pd.DataFrame(rows)
        table["stable"] = (table["stability"] >= self.stability_threshold) | (
            self.n_bootstrap == 0)
        crit = self.criterion
        if crit == "auto":
            crit = "bic" if self.method == "gmm" else "silhouette"
        pool = table[table["stable"]] if table["stable"].any() else table
        score = -pool["bic"] if crit == "bic" else pool[crit]
        best = pool.index[0] if score.isna().all() else score.idxmax()
        table["chosen"] = table.index == best
        rule = ((f"max {crit}" if crit != "bic" else "min bic")
                + f" among solutions with mean bootstrap ARI >= {self.stability_threshold}")
        return table, models, rule

    @staticmethod
    def _names(z: pd.DataFrame, levels: list[str]) -> dict[int, str]:
        """Name each segment by its (at most two) most distinctive features, |z| >= 0.5;
        a category level counts only where it is over-represented ("channel=web")."""
        names: dict[int, str] = {}
        for label, row in z.iterrows():
            keep = row[[c for c in row.index if c not in levels or row[c] > 0]]
            top = keep.abs().sort_values(ascending=False, kind="stable")
            parts = [f if f in levels else f"{'high' if row[f] > 0 else 'low'} {f}"
                     for f in top.index[:2] if abs(row[f]) >= 0.5]
            name = " / ".join(parts) or "average"
            base, i = name, 2
            while name in names.values():
                name, i = f"{base} ({i})", i + 1
            names[int(label)] = name
        return names

    # ------------------------------------------------------------------ fit steps
    def _prepare(self, features: pd.DataFrame) -> tuple[pd.DataFrame, list[int], list[str],
                                                         list[str]]:
        """Validated features, the k to try, the constant columns left out and the notes."""
        ks = self._check_params()
        frame = self._check_features(features, ks)
        notes = []
        given = [c for c in features.columns if c != "customer_id"]
        dropped = [c for c in given if c not in frame.columns]
        if dropped:
            notes.append(f"constant feature(s) left out: {', '.join(dropped)} (the same value "
                         "for every customer separates nobody)")
        cap = len(frame) // MIN_PER_SEGMENT
        if max(ks) > cap:
            ks = [k for k in ks if k <= cap]
            notes.append(f"{len(frame)} customers: k capped at {cap} (at least "
                         f"{MIN_PER_SEGMENT} customers per segment)")
        return frame, ks, dropped, notes

    def _select(self, x: np.ndarray, ks: list[int], rng: np.random.Generator
                ) -> tuple[pd.DataFrame, str, Any, np.ndarray]:
        """The k sweep on a sample, the chosen model (refined on all customers when the sample
        is smaller) and each customer's raw cluster."""
        n = len(x)
        sample = np.sort(rng.choice(n, self.sample_size, replace=False)) \
            if n > self.sample_size else np.arange(n)
        with threadpool_limits(limits=1):  # many small fits: threads only add overhead
            selection, models, rule = self._sweep(x[sample], ks, rng)
            k = int(selection.loc[selection["chosen"], "k"].iloc[0])
            seed = int(rng.integers(2**31 - 1))
            model = models[k]
            if len(sample) < n:  # refine on all customers from the sample solution
                model = self._model(k, seed, start=model).fit(x)
            raw = model.predict(x)
        return selection, rule, model, raw

    @staticmethod
    def _model_columns(frame: pd.DataFrame, transformer: ColumnTransformer, logged: list[str],
                       x: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
        """Raw profile columns (numeric means, 0/1 levels) and the model's features on the z
        scale (0/1 levels standardised too, for the profile only), and the level columns."""
        numeric = [c for c in frame.columns if not _is_categorical(frame[c])]
        cats = [c for c in frame.columns if _is_categorical(frame[c])]
        raw_cols = frame[numeric].astype("float64")
        for c in cats:
            dummies = pd.get_dummies(frame[c].astype("string"), prefix=c, prefix_sep="=",
                                     dtype="float64")
            raw_cols = pd.concat([raw_cols, dummies], axis=1)
        model_cols = [*logged, *(c for c in numeric if c not in logged)]
        if cats:
            enc = transformer.named_transformers_["cat"]
            model_cols += [f"{c}={v}" for c, levels in zip(cats, enc.categories_, strict=True)
                           for v in levels]
        xz = pd.DataFrame(x, columns=model_cols)
        dummy_cols = model_cols[len(numeric):]
        if dummy_cols:
            d = xz[dummy_cols]
            xz[dummy_cols] = (d - d.mean()) / d.std(ddof=0).replace(0, 1)
        xz = xz[[c for c in raw_cols.columns if c in xz.columns]]
        return raw_cols.reset_index(drop=True), xz, dummy_cols

    def _profiles(self, frame: pd.DataFrame, transformer: ColumnTransformer, logged: list[str],
                  x: np.ndarray, labels: np.ndarray, k: int) -> tuple[pd.DataFrame, dict]:
        """Per segment: name, size, the raw means / level shares and the z means."""
        raw_cols, xz, dummy_cols = self._model_columns(frame, transformer, logged, x)
        z = xz.groupby(labels).mean()
        names = self._names(z, dummy_cols)
        prof = pd.DataFrame(index=pd.Index(range(k), name="segment"))
        prof["name"] = [names[i] for i in range(k)]
        prof["size"] = np.bincount(labels, minlength=k)
        return prof.join(raw_cols.groupby(labels).mean()).join(z.add_prefix("z_")), names

    # ------------------------------------------------------------------ API
    def fit(self, features: pd.DataFrame, y: Any = None) -> ClusterSegmenter:
        """Fit the segments on ``features`` (one row per customer); returns ``self``.

        ``features`` holds numeric and categorical columns, and optionally ``customer_id``
        (used as the index of ``labels_``). Missing or infinite values raise
        :class:`CRMError` naming the column. Constant columns are left out, and the k tried
        are capped at ``n // 2`` (at least two customers per segment; ``n_clusters`` too),
        each said in ``note_``; only when every column is constant or there are fewer than
        two customers per segment of the smallest k is the fit refused.

        Parameters
        ----------
        features : DataFrame
            One row per customer, e.g. :func:`crmlib.segmentation.customer_features`.
        y : ignored
            For scikit-learn compatibility.

        Returns
        -------
        ClusterSegmenter
            ``self``, fitted.
        """
        frame, ks, dropped, notes = self._prepare(features)
        rng = check_random_state(self.random_state)
        transformer, logged = self._transformer(frame)
        x = np.asarray(transformer.fit_transform(frame), dtype="float64")
        selection, rule, model, raw = self._select(x, ks, rng)
        k = int(selection.loc[selection["chosen"], "k"].iloc[0])
        order = np.argsort(-np.bincount(raw, minlength=k), kind="stable")  # 0 = the largest
        relabel = np.empty(k, dtype="int64")
        relabel[order] = np.arange(k)
        labels = relabel[raw]
        self._profile_table, self.names_ = self._profiles(frame, transformer, logged, x,
                                                          labels, k)
        self.dropped_features_ = dropped
        self.note_ = "; ".join(notes)
        self.rule_ = rule
        self.transformer_ = transformer
        self.log_features_ = logged
        self.feature_names_in_ = list(frame.columns)
        self.model_ = model
        self._relabel = relabel
        self.n_clusters_ = k
        self.n_ = len(x)
        self.selection_ = selection
        self.labels_ = pd.Series(labels, index=frame.index, name="segment")
        self.profiles_ = self.summary()
        return self

    def predict(self, features: pd.DataFrame) -> pd.Series:
        """The segment of each customer in ``features`` (same columns as in ``fit``)."""
        self._check_fitted(["model_"])
        check_frame(features, name="features", required=self.feature_names_in_)
        frame = features.set_index("customer_id") if "customer_id" in features.columns \
            else features
        for col in self.feature_names_in_:
            if frame[col].isna().any():
                raise CRMError(f"features: column {col!r} has missing values")
        x = np.asarray(self.transformer_.transform(frame[self.feature_names_in_]), float)
        return pd.Series(self._relabel[self.model_.predict(x)], index=frame.index,
                         name="segment")

    def fit_predict(self, features: pd.DataFrame, y: Any = None) -> pd.Series:
        """Fit and return ``labels_``."""
        return self.fit(features).labels_

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """The share of customers in each segment with its Wilson interval.

        Parameters
        ----------
        alpha : float, optional
            One minus the confidence level; default the constructor's ``alpha``.

        Returns
        -------
        DataFrame
            Indexed by ``segment``: ``name, size, share, ci_low, ci_high``.
        """
        self._check_fitted(["names_"])
        alpha = self._alpha(alpha)
        prof = self._profile_table
        est = [proportion_estimate(int(s), self.n_, alpha=alpha) for s in prof["size"]]
        return pd.DataFrame({"name": prof["name"], "size": prof["size"],
                             "share": [e.value for e in est],
                             "ci_low": [e.ci_low for e in est],
                             "ci_high": [e.ci_high for e in est]}, index=prof.index)

    def summary(self, alpha: float | None = None) -> pd.DataFrame:
        """The segment profiles: size and share with its Wilson interval, the mean of each raw
        numeric feature and the share of each category level, then ``z_<feature>``.

        Parameters
        ----------
        alpha : float, optional
            One minus the confidence level; default the constructor's ``alpha``.

        Returns
        -------
        DataFrame
            One row per segment (0 = the largest): ``name, size, share, share_ci_low,
            share_ci_high``, the feature means and the z means.
        """
        ci = self.conf_int(alpha)
        shares = ci[["share", "ci_low", "ci_high"]].rename(
            columns={"ci_low": "share_ci_low", "ci_high": "share_ci_high"})
        prof = self._profile_table
        return pd.concat([prof[["name", "size"]], shares, prof.drop(columns=["name", "size"])],
                         axis=1)

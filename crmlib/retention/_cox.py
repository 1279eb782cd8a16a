"""Cox proportional-hazards model for churn drivers, matching R's ``survival::coxph``.

Efron ties by default (as R), Breslow on request; strata, left truncation and time-varying
covariates in counting-process ``(start, stop]`` form, case weights, robust (clustered)
sandwich standard errors, the likelihood-ratio, Wald and score tests, Harrell's concordance,
the proportional-hazards test of ``cox.zph`` and predicted survival for profiles.
"""

from __future__ import annotations

import warnings
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlib._lazy import lazy_module
from crmlib.base import Estimator
from crmlib.errors import ConvergenceWarning, CRMError
from crmlib.intervals import normal_interval
from crmlib.results import Estimate, TestResult
from crmlib.retention._concordance import concordance
from crmlib.retention._cox_engine import CoxData, CoxTerms, newton_raphson
from crmlib.retention._kaplan_meier import KaplanMeier
from crmlib.retention._validation import check_durations, check_entry, check_weights
from crmlib.utils.validation import (
    _preview,
    check_alpha,
    check_binary,
    check_frame,
    check_option,
    check_scalar,
)

if TYPE_CHECKING:
    from scipy import linalg, stats
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    linalg = lazy_module("scipy.linalg")
    stats = lazy_module("scipy.stats")

TIES = ("efron", "breslow")
ZPH_TRANSFORMS = ("km", "identity", "rank", "log")


def _design(frame: pd.DataFrame, covariates: list[str]) -> tuple[np.ndarray, list[str], dict]:
    """Numeric design matrix; text and categorical columns become 0/1 indicators against a
    reference level (the first category of a pandas Categorical, else the first sorted
    level). NaN cells raise a CRMError naming the column and rows."""
    blocks, names, levels = [np.zeros((len(frame), 0))], [], {}
    for col in covariates:
        s = frame[col]
        if s.isna().any():
            rows = s.index[s.isna()].tolist()
            raise CRMError(
                f"data: covariate {col!r} has {len(rows)} missing value(s) at row(s) "
                f"{_preview(rows)}; drop or impute them before fitting"
            )
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            blocks.append(s.to_numpy(dtype=float)[:, None])
            names.append(col)
        else:
            if isinstance(s.dtype, pd.CategoricalDtype):
                cats = [c for c in s.cat.categories if (s == c).any()]
            else:
                cats = sorted(pd.unique(s).tolist(), key=str)
            levels[col] = cats
            for c in cats[1:]:
                blocks.append((s == c).to_numpy(dtype=float)[:, None])
                names.append(f"{col}={c}")
    return np.hstack(blocks), names, levels


def _collinear(X: np.ndarray, names: list[str]) -> list[str]:
    """Columns that are (numerically) linear combinations of the earlier ones or constant."""
    if not X.shape[1]:
        return []
    Xc = X - X.mean(axis=0)
    # singular values of column subsets of Xc / scale are those of the same columns of
    # R / scale, R from the QR decomposition of Xc: one O(n p^2) pass, then p x p work
    R = np.linalg.qr(Xc, mode="r") if X.shape[1] else np.zeros((0, 0))
    scale = np.sqrt((R**2).sum(axis=0))  # column norms of Xc
    R = R / np.where(scale > 0, scale, 1.0)
    big = np.maximum(np.abs(X.max(axis=0)), np.abs(X.min(axis=0))) if len(X) else scale
    bad, kept = [], []
    for j in range(X.shape[1]):
        if scale[j] <= 1e-12 * max(1.0, big[j]):
            bad.append(names[j])
            continue
        cand = [*kept, j]
        sv = np.linalg.svd(R[:, cand], compute_uv=False)
        if sv[-1] < 1e-8 * sv[0]:
            bad.append(names[j])
        else:
            kept.append(j)
    return bad


def _covariate_columns(frame: pd.DataFrame, roles: list[str],
                       covariates: list[str] | None) -> list[str]:
    """The covariates named, or every numeric or boolean column not in a role."""
    check_frame(frame, name="data", required=roles + list(covariates or []))
    if covariates is not None:
        return list(covariates)
    found = [c for c in frame.columns if c not in roles
             and (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))]
    if not found:
        raise CRMError("covariates: no covariate columns to fit")
    return found


def _outcome(frame: pd.DataFrame, duration: str, event: str, entry: str | None,
             weights: str | None, with_covariates: bool
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Checked exit times, events, entry times and weights."""
    t = check_durations(frame[duration], name=f"data[{duration!r}]")
    d = check_binary(frame[event], name=f"data[{event!r}]")
    if d.sum() == 0 and with_covariates:
        raise CRMError(
            f"data[{event!r}]: no events (all {d.size} rows censored); a Cox model needs "
            "at least one observed churn"
        )
    start = None if entry is None else check_entry(frame[entry], t, name=f"data[{entry!r}]")
    w = None if weights is None else check_weights(frame[weights], t.size,
                                                   name=f"data[{weights!r}]")
    return t, d, start, w


def _checked_design(frame: pd.DataFrame, covariates: list[str]
                    ) -> tuple[np.ndarray, list[str], dict]:
    """The design matrix; collinear columns are an error, no column at all a warning."""
    X, names, levels = _design(frame, covariates)
    bad = _collinear(X, names)
    if bad:
        raise CRMError(
            f"covariates: {', '.join(map(repr, bad))} constant or collinear with the other "
            "covariates; drop them"
        )
    if not names:
        warnings.warn("CoxModel: no covariates to fit (an empty list, or every column "
                      "filtered out): the null model is fitted, with no coefficients and "
                      "concordance 0.5", UserWarning, stacklevel=3)
    return X, names, levels


def _strata_codes(frame: pd.DataFrame, strata_cols: list[str]
                  ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The strata labels and each row's code (both ``None`` without strata)."""
    if not strata_cols:
        return None, None
    keys = frame[strata_cols].astype(str).agg("|".join, axis=1)
    return np.unique(keys.to_numpy(), return_inverse=True)


def _infinite(names: list[str], beta: np.ndarray, step: np.ndarray, fit: CoxTerms,
              null: CoxTerms, tol: float) -> list[str]:
    """Coefficients that are infinite: Newton still moves them (R's rule), or the likelihood
    has gone flat in them: their information is a vanishing fraction of that at zero (the
    step test can miss this once the information underflows)."""
    flat = np.diag(fit.info) <= 1e-10 * np.maximum(np.diag(null.info), np.finfo(float).tiny)
    return [names[j] for j in range(len(names))
            if (abs(step[j]) > tol and abs(step[j]) > np.sqrt(tol) * abs(beta[j])) or flat[j]]


def _score_test(full: np.ndarray, kk: np.ndarray, u: np.ndarray, df: float,
                note: str | None) -> tuple[float, float, float]:
    """Score statistic ``u' I^-1 u`` on the rows/columns ``kk`` of the information."""
    if note is not None:
        return (float("nan"), df, float("nan"))
    try:
        stat = float(u @ np.linalg.solve(full[np.ix_(kk, kk)], u))
    except np.linalg.LinAlgError:
        return (float("nan"), df, float("nan"))
    return (stat, df, float(stats.chi2.sf(stat, df)))


class CoxModel(Estimator):
    """Cox proportional-hazards regression by Newton-Raphson on the partial likelihood.

    Parameters
    ----------
    ties : {"efron", "breslow"}, default "efron"
        Handling of tied churn times; Efron (1977) is R's default and more accurate with
        heavy ties (whole days, months).
    alpha : float, default 0.05
        One minus the confidence level of the intervals (overridable per call in
        :meth:`summary` and :meth:`conf_int`).
    robust : bool, default False
        Report the robust sandwich covariance (Lin & Wei 1989) as ``cov_params_``; also
        switched on by ``cluster=`` in :meth:`fit`.
    max_iter : int, default 50
        Newton-Raphson iterations before giving up with a ConvergenceWarning.
    tol : float, default 1e-9
        Convergence tolerance on the relative change in the log-likelihood (R's ``eps``).

    Attributes
    ----------
    params_, bse_ : Series
        Log hazard ratios and their standard errors (robust when requested).
    cov_params_ : DataFrame
        Their covariance matrix. ``naive_cov_params_`` is the model-based one.
    hazard_ratios_ : Series
        ``exp(params_)``.
    covariates_ : list of str
        The covariate columns fitted (before expansion into indicators).
    log_likelihood_, log_likelihood_null_ : float
        Log partial likelihood at the estimate and at zero.
    lr_test_, wald_test_, score_test_ : TestResult
        Global tests of all coefficients being zero (robust score and Wald when robust).
    concordance_ : Estimate
        Harrell's C with the standard error of R's ``concordance()`` (computed on first use).
    baseline_cumulative_hazard_ : DataFrame
        ``stratum, time, cumhaz`` at the event times, for covariates all zero (R's
        ``basehaz(fit, centered = FALSE)``).
    converged_, n_iter_, n_, events_, robust_ : bool, int, int, float, bool

    References
    ----------
    Cox, D. R. (1972). Regression models and life-tables. JRSS B 34, 187-220. Efron, B.
    (1977). The efficiency of Cox's likelihood function for censored data. JASA 72, 557-565.
    Lin, D. Y. & Wei, L. J. (1989). The robust inference for the Cox proportional hazards
    model. JASA 84, 1074-1078. Grambsch, P. M. & Therneau, T. M. (1994). Proportional hazards
    tests and diagnostics based on weighted residuals. Biometrika 81, 515-526. Harrell, F. E.
    et al. (1982). Evaluating the yield of medical tests. JAMA 247, 2543-2546.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "tenure": [2, 4, 4, 7, 9, 3, 5, 8, 8, 9, 1, 6, 6, 10, 12, 2, 3, 7, 11, 12],
    ...     "churned": [1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0],
    ...     "promo": [0, 1] * 10,
    ...     "plan": ["basic"] * 10 + ["premium"] * 10})
    >>> cox = CoxModel().fit(frame, duration="tenure", event="churned",
    ...                      covariates=["promo", "plan"])
    >>> cox.summary()[["estimate", "se", "p"]].round(3)
                  estimate     se      p
    covariate
    promo            0.419  0.574  0.465
    plan=premium    -0.624  0.631  0.323
    >>> round(cox.concordance_.value, 3), round(cox.lr_test_.p_value, 3)
    (0.548, 0.461)
    """

    def __init__(
        self,
        *,
        ties: str = "efron",
        alpha: float = 0.05,
        robust: bool = False,
        max_iter: int = 50,
        tol: float = 1e-9,
    ) -> None:
        self.ties = ties
        self.alpha = alpha
        self.robust = robust
        self.max_iter = max_iter
        self.tol = tol

    # ---- fitting ---------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, *, duration: str = "tenure", event: str = "churned",
            covariates: list[str] | None = None, strata: str | list[str] | None = None,
            entry: str | None = None, cluster: str | None = None,
            weights: str | None = None) -> CoxModel:
        """Fit the model to one row per customer (or per ``(entry, duration]`` interval).

        Parameters
        ----------
        frame : DataFrame
            The data; it is not modified.
        duration, event : str
            Columns with the exit time (> 0) and the 0/1 churn indicator.
        covariates : list of str, optional
            Covariate columns (default: every other numeric or boolean column); text or
            categorical ones become indicators against their first level. An empty list
            fits the null model (R's ``coxph(Surv(t, d) ~ 1)``) with a warning: no
            coefficients, concordance 0.5. Without any event and with covariates: an error.
        strata : str or list of str, optional
            Columns defining strata with their own baseline hazard.
        entry : str, optional
            Entry times: left truncation, or counting-process ``(start, stop]`` rows.
        cluster : str, optional
            Cluster column (e.g. customer id): robust standard errors summed within it.
        weights : str, optional
            Positive case weights.

        Returns
        -------
        CoxModel
            ``self``, fitted.
        """
        ties = check_option(self.ties, name="ties", options=TIES)
        check_alpha(self.alpha)
        strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
        roles = [duration, event, *strata_cols] + [
            c for c in (entry, cluster, weights) if c is not None
        ]
        covariates = _covariate_columns(frame, roles, covariates)
        t, d, start, w = _outcome(frame, duration, event, entry, weights, bool(covariates))
        X, names, levels = _checked_design(frame, covariates)
        self._strata_levels, s_codes = _strata_codes(frame, strata_cols)
        data = CoxData(t, d, X, w, s_codes, start, efron=ties == "efron")
        beta, fit, null, V = self._solve(data, names)
        self._data, self._beta, self._levels = data, beta, levels
        self.covariates_ = list(covariates)
        self._strata_cols = strata_cols
        self._frame_info = (t, d, start, s_codes, X, w)
        self._cluster = None if cluster is None else frame[cluster].to_numpy()
        self.robust_ = bool(self.robust) or cluster is not None
        cov = self._sandwich(data, beta, V, w) if self.robust_ else V
        self._store(names, beta, cov, V, fit, null, t, d, w)
        self.baseline_cumulative_hazard_ = self._baseline()
        self.__dict__.pop("concordance_", None)
        return self

    def _solve(self, data: CoxData, names: list[str]
               ) -> tuple[np.ndarray, CoxTerms, CoxTerms, np.ndarray]:
        """Newton-Raphson from zero; warns when it did not converge or a coefficient runs
        off to infinity. Returns the estimate, the terms there and at zero, and the inverse
        information."""
        max_iter = check_scalar(self.max_iter, name="max_iter", kind=int, min_value=1)
        tol = check_scalar(self.tol, name="tol", min_value=0, include_min=False)
        p = len(names)
        null = data.terms(np.zeros(p))
        beta, fit, n_iter, converged = newton_raphson(data, np.zeros(p), max_iter=max_iter,
                                                      eps=tol, start=null)
        try:
            V = np.linalg.inv(fit.info)
        except np.linalg.LinAlgError:
            V = linalg.pinvh(fit.info)
        infinite = _infinite(names, beta, V @ fit.grad, fit, null, tol)
        if not converged or infinite or not np.all(np.isfinite(beta)):
            converged = False
            which = f" (coefficient(s) {', '.join(infinite)} may be infinite: monotone " \
                "likelihood, e.g. a covariate that separates churners)" if infinite else ""
            warnings.warn(
                f"CoxModel did not converge in {n_iter} iterations{which}",
                ConvergenceWarning, stacklevel=3,
            )
        self.converged_, self.n_iter_ = converged, n_iter
        return beta, fit, null, V

    def _clustered(self, resid: np.ndarray, w: np.ndarray | None) -> np.ndarray:
        """Score residuals weighted and summed within clusters (when there are any)."""
        if w is not None:
            resid = resid * w[:, None]
        if self._cluster is not None:
            resid = pd.DataFrame(resid).groupby(self._cluster, sort=False).sum().to_numpy()
        return resid

    def _sandwich(self, data: CoxData, beta: np.ndarray, V: np.ndarray,
                  w: np.ndarray | None) -> np.ndarray:
        """The robust (Lin-Wei) covariance ``D' D`` with ``D`` the dfbeta residuals."""
        D = self._clustered(data.score_residuals(beta), w) @ V
        return D.T @ D

    def _store(self, names: list[str], beta: np.ndarray, cov: np.ndarray, naive: np.ndarray,
               fit: CoxTerms, null: CoxTerms, t: np.ndarray, d: np.ndarray,
               w: np.ndarray | None) -> None:
        """Set the fitted attributes: coefficients, covariances, likelihoods, global tests."""
        idx = pd.Index(names, name="covariate")
        self.params_ = pd.Series(beta, index=idx, name="log_hr")
        self.cov_params_ = pd.DataFrame(cov, index=idx, columns=idx)
        self.naive_cov_params_ = pd.DataFrame(naive, index=idx, columns=idx)
        self.bse_ = pd.Series(np.sqrt(np.diag(cov)), index=idx, name="se")
        self.hazard_ratios_ = np.exp(self.params_).rename("hazard_ratio")
        self.log_likelihood_ = fit.loglik
        self.log_likelihood_null_ = null.loglik
        self.n_ = int(t.size)
        self.events_ = float(d.sum() if w is None else (w * d).sum())
        self._global_tests(beta, cov, fit, null, w)

    def _global_tests(self, beta: np.ndarray, cov: np.ndarray, fit: CoxTerms, null: CoxTerms,
                      w: np.ndarray | None) -> None:
        """Likelihood-ratio, Wald and score tests of all coefficients being zero."""
        p = beta.size
        lr = 2 * (fit.loglik - null.loglik)
        try:
            wald = float(beta @ np.linalg.solve(cov, beta)) if p else 0.0
        except np.linalg.LinAlgError:  # an infinite coefficient (monotone likelihood)
            wald = float(beta @ linalg.pinvh(cov) @ beta)
        if self.robust_:
            # robust score test at beta = 0, as R's summary(coxph)$robscore
            r0 = self._clustered(self._data.score_residuals(np.zeros(p)), w)
            u = r0.sum(axis=0)
            score = float(u @ np.linalg.solve(r0.T @ r0, u)) if p else 0.0
        else:
            score = float(null.grad @ np.linalg.solve(null.info, null.grad)) if p else 0.0
        robust = " (robust)" if self.robust_ else ""
        self.lr_test_ = TestResult(lr, float(p), float(stats.chi2.sf(lr, p)),
                                   "likelihood ratio", self.n_)
        self.wald_test_ = TestResult(wald, float(p), float(stats.chi2.sf(wald, p)),
                                     "Wald" + robust, self.n_)
        self.score_test_ = TestResult(score, float(p), float(stats.chi2.sf(score, p)),
                                      "score (log-rank)" + robust, self.n_)

    def _baseline(self) -> pd.DataFrame:
        data = self._data
        inc = data.hazard_increments(self._beta) * np.exp(-data.x_mean @ self._beta)
        out = pd.DataFrame({"stratum": data.gstrata, "time": data.gtime, "hazard": inc})
        out["cumhaz"] = out.groupby("stratum")["hazard"].cumsum()
        if self._strata_levels is not None:
            out["stratum"] = self._strata_levels[out["stratum"].to_numpy()]
        else:
            out["stratum"] = "all"
        return out[["stratum", "time", "cumhaz"]]

    # ---- results ---------------------------------------------------------------------------
    @cached_property
    def concordance_(self) -> Estimate:
        """Harrell's C of the linear predictor, with R's infinitesimal-jackknife SE
        (clustered when the model was fitted with ``cluster=``)."""
        self._check_fitted(["params_"])
        t, d, start, s, X, w = self._frame_info
        c, se, counts = concordance(t, d, X @ self._beta, strata=s, start=start, weights=w,
                                    cluster=self._cluster)
        low, high = normal_interval(c, se, self._alpha())
        return Estimate(c, se, float(low), float(high), self.n_, self._alpha(),
                        "Harrell (R concordance)", "concordance", extra=counts)

    def summary(self, alpha: float | None = None) -> pd.DataFrame:
        """One row per covariate: ``estimate, se, ci_low, ci_high, z, p, hazard_ratio,
        hr_ci_low, hr_ci_high`` (Wald intervals at level ``alpha``, default the
        constructor's). Model facts are attributes: ``n_``, ``events_``, ``converged_``,
        ``log_likelihood_``, ``lr_test_``, ...; the global tests are in :meth:`tests`."""
        self._check_fitted(["params_"])
        b, se = self.params_, self.bse_
        out = pd.DataFrame({"estimate": b, "se": se})
        ci = self.conf_int(alpha)
        out["ci_low"], out["ci_high"] = ci["ci_low"], ci["ci_high"]
        out["z"] = b / se
        out["p"] = 2 * stats.norm.sf(np.abs(b / se))
        out["hazard_ratio"] = np.exp(b)
        out["hr_ci_low"] = np.exp(out["ci_low"])
        out["hr_ci_high"] = np.exp(out["ci_high"])
        return out

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Wald intervals of the log hazard ratios: ``ci_low, ci_high`` per covariate
        (exponentiate them for the hazard ratios)."""
        self._check_fitted(["params_"])
        low, high = normal_interval(self.params_.to_numpy(), self.bse_.to_numpy(),
                                    self._alpha(alpha))
        return pd.DataFrame({"ci_low": low, "ci_high": high}, index=self.params_.index)

    def tests(self) -> pd.DataFrame:
        """The likelihood-ratio, Wald and score tests as one tidy frame."""
        self._check_fitted(["params_"])
        return pd.concat(
            [r.to_frame() for r in (self.lr_test_, self.wald_test_, self.score_test_)],
            ignore_index=True,
        )

    # ---- diagnostics -----------------------------------------------------------------------
    def _zph_parts(self, transform: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        data = self._data
        t, d, start, *_ = self._frame_info
        times = data.gtime[data.gid]  # each event's time, in the engine's event order
        if transform == "km":
            km = KaplanMeier().fit(t, d, entry=start).survival_
            pos = np.searchsorted(km["time"].to_numpy(), times, side="left")
            s_prev = np.concatenate([[1.0], km["survival"].to_numpy()])[pos]
            g = 1 - s_prev
        elif transform == "identity":
            g = times
        elif transform == "log":
            g = np.log(times)
        else:
            g = stats.rankdata(t)[data.order][data.ev]
        return times, g, data.schoenfeld(self._beta), data.ev

    def check_proportional_hazards(self, *, transform: str = "km") -> pd.DataFrame:
        """Test of proportional hazards per covariate and globally, as R's ``cox.zph``.

        The score test for adding ``x * g(t)`` to the model at the fitted coefficients, with
        g the chosen time transform (``"km"``: one minus the Kaplan-Meier estimate just before
        t, R's default) centred at its mean over the events, and the full information matrix
        (survival >= 3.0).

        Parameters
        ----------
        transform : {"km", "identity", "rank", "log"}, default "km"
            The time transform g.

        Returns
        -------
        DataFrame
            Index: covariates then ``GLOBAL``; columns ``chisq, df, p``. Where the test is
            undefined (every churn at one tenure, or a singular information matrix) the
            statistic and p-value are ``nan`` and a ``note`` column says why.

        References
        ----------
        Grambsch, P. M. & Therneau, T. M. (1994). Proportional hazards tests and diagnostics
        based on weighted residuals. Biometrika 81, 515-526.
        """
        self._check_fitted(["params_"])
        transform = check_option(transform, name="transform", options=ZPH_TRANSFORMS)
        _, g, _, ev = self._zph_parts(transform)
        u2, full = self._zph_score(g, ev)
        p = self.params_.size
        note = None
        if g.size == 0 or np.ptp(g) == 0:
            note = ("every churn happened at the same tenure: there is no change over time to "
                    "test")
        rows = {}
        for j, name in enumerate(self.params_.index):
            kk = np.r_[np.arange(p), p + j]
            rows[name] = _score_test(full, kk, np.r_[np.zeros(p), u2[j]], 1.0, note)
        rows["GLOBAL"] = _score_test(full, np.arange(2 * p), np.r_[np.zeros(p), u2], float(p),
                                     note)
        if note is None and any(np.isnan(r[0]) for r in rows.values()):
            note = ("the test's information matrix is singular for the rows with no "
                    "statistic (too little variation in churn times)")
        out = pd.DataFrame.from_dict(rows, orient="index", columns=["chisq", "df", "p"])
        if note is not None:
            out["note"] = np.where(np.isnan(out["chisq"].to_numpy()), note, "")
        return out

    def _zph_score(self, g: np.ndarray, ev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The score for the ``x * g(t)`` terms and the full information matrix."""
        data = self._data
        gc = g - g.mean() if g.size else g
        gg = np.add.reduceat(gc, data.gstart) / data.m  # constant within a tie group
        core = data._core(self._beta)
        contrib = data.w[ev][:, None] * data.X[ev] - data.meanwt[:, None] * core["xbar"]
        u2 = (contrib * gc[:, None]).sum(axis=0)
        i11, i12, i22 = data._info(core), data._info(core, gg), data._info(core, gg**2)
        return u2, np.block([[i11, i12], [i12.T, i22]])

    def schoenfeld_residuals(self, *, transform: str = "km", scaled: bool = True) -> pd.DataFrame:
        """(Scaled) Schoenfeld residuals, one row per event: ``time, g_time`` and one column per
        covariate. Scaled residuals are ``beta + events * V r`` (Grambsch & Therneau 1994),
        whose smooth against ``g_time`` estimates the time-varying coefficient."""
        self._check_fitted(["params_"])
        transform = check_option(transform, name="transform", options=ZPH_TRANSFORMS)
        times, g, r, _ = self._zph_parts(transform)
        if scaled:
            r = self._beta + r @ self.naive_cov_params_.to_numpy() * r.shape[0]
        out = pd.DataFrame(r, columns=self.params_.index)
        out.insert(0, "g_time", g)
        out.insert(0, "time", times)
        return out.sort_values("time", kind="stable").reset_index(drop=True)

    # ---- prediction ------------------------------------------------------------------------
    def _profile_matrix(self, profiles: pd.DataFrame) -> np.ndarray:
        check_frame(profiles, name="profiles", required=self.covariates_)
        cols = [np.zeros(len(profiles))]
        for col in self.covariates_:
            if col in self._levels:
                for c in self._levels[col][1:]:
                    cols.append((profiles[col] == c).to_numpy(dtype=float))
            else:
                cols.append(profiles[col].to_numpy(dtype=float))
        return np.column_stack(cols)[:, 1:]

    def predict_log_hazard(self, profiles: pd.DataFrame) -> pd.Series:
        """Linear predictor ``x' beta`` (log relative hazard against all-zero covariates)."""
        self._check_fitted(["params_"])
        return pd.Series(self._profile_matrix(profiles) @ self._beta, index=profiles.index,
                         name="log_hazard")

    def predict_survival(self, profiles: pd.DataFrame, times: Any) -> pd.DataFrame:
        """Predicted survival ``exp(-H0(t) exp(x' beta))`` for each profile at each time.

        With strata, ``profiles`` must hold the strata columns too. Returns a frame indexed
        by ``times`` with one column per profile (the profiles' index), as R's
        ``summary(survfit(fit, newdata), times)``.
        """
        self._check_fitted(["params_"])
        lp = self._profile_matrix(profiles) @ self._beta
        times = np.atleast_1d(np.asarray(times, dtype=float))
        base = self.baseline_cumulative_hazard_
        if self._strata_cols:
            check_frame(profiles, name="profiles", required=self._strata_cols)
            keys = profiles[self._strata_cols].astype(str).agg("|".join, axis=1).to_numpy()
        else:
            keys = np.array(["all"] * len(profiles))
        out = {}
        for j, label in enumerate(profiles.index):
            b = base[base["stratum"] == keys[j]]
            pos = np.searchsorted(b["time"].to_numpy(), times, side="right") - 1
            H = np.where(pos >= 0, np.concatenate([[0.0], b["cumhaz"].to_numpy()])[pos + 1],
                         0.0)
            out[label] = np.exp(-H * np.exp(lp[j]))
        return pd.DataFrame(out, index=pd.Index(times, name="time"))

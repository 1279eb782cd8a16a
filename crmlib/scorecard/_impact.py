"""Initiative impact: interrupted time series and difference-in-differences on statsmodels.

The effect of a CRM initiative on a metric's periodic series is the change that would not
have happened anyway: the counterfactual is the unit's own pre-trend (ITS) or the other
units over the same periods (DiD).

Interrupted time series (ITS) is the segmented regression of Wagner et al. (2002),

    y_t = b0 + b1 t + b2 post_t + b3 (t - t0) post_t  (+ month-of-year dummies),

fitted by OLS with Newey-West (1987) heteroskedasticity- and autocorrelation-consistent
(HAC) standard errors, as recommended for serially correlated series by Bernal, Cummins &
Gasparrini (2017). ``b2`` is the level change at the start, ``b3`` the change of slope.

Difference-in-differences (DiD) is the two-way fixed-effects regression (Angrist & Pischke
2009, ch. 5)

    y_ut = a_u + g_t + d (treated_u x post_t) + e_ut,

with standard errors robust to serial and cross-sectional correlation (Driscoll & Kraay
1998, ``cov="hac"``) or clustered by unit (``cov="cluster"``; unreliable with few units).
Its identifying assumption, parallel trends, is checked on the pre-period: the coefficient
of ``treated x t`` in the same regression restricted to pre-period rows (Angrist & Pischke
2009, sec. 5.2.1), tested with the same standard errors. Serial correlation makes naive
DiD standard errors far too small (Bertrand, Duflo & Mullainathan 2004), hence the
Driscoll-Kraay or cluster-robust covariance.

References
----------
Wagner, A. K., Soumerai, S. B., Zhang, F. & Ross-Degnan, D. (2002). Segmented regression
analysis of interrupted time series studies. *J Clin Pharm Ther* 27, 299-309.
Newey, W. K. & West, K. D. (1987). A simple, positive semi-definite, heteroskedasticity and
autocorrelation consistent covariance matrix. *Econometrica* 55, 703-708.
Driscoll, J. C. & Kraay, A. C. (1998). Consistent covariance matrix estimation with spatially
dependent panel data. *Rev Econ Stat* 80, 549-560.
Angrist, J. D. & Pischke, J.-S. (2009). *Mostly Harmless Econometrics*, ch. 5.
Bertrand, M., Duflo, E. & Mullainathan, S. (2004). How much should we trust
differences-in-differences estimates? *QJE* 119, 249-275.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlib import intervals
from crmlib._lazy import lazy_module
from crmlib.errors import CRMError
from crmlib.results import Estimate, TestResult
from crmlib.utils.validation import check_alpha, check_option

if TYPE_CHECKING:
    import statsmodels.api as sm
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    sm = lazy_module("statsmodels.api")

__all__ = ["ImpactResult", "as_panel", "initiative_impact", "newey_west_lags"]

METHODS = ("its", "did")
COVS = ("hac", "cluster", "hc1")


@dataclass(frozen=True)
class ImpactResult:
    """The estimated effect of an initiative on one series.

    Attributes
    ----------
    method : str
        ``"its"`` or ``"did"``.
    start : pandas.Period
        The first treated period.
    effect : Estimate
        The headline effect: the level change at the start (ITS) or the treated x post
        coefficient (DiD).
    effects : pandas.DataFrame
        One row per effect (``level_change``, ``slope_change``, ``effect_at_end``,
        ``mean_post_effect`` for ITS; ``did`` for DiD) with columns ``estimate, se, ci_low,
        ci_high, t, p`` (Student t with the residual degrees of freedom ``df``; normal for
        the Driscoll-Kraay covariance), at level ``alpha``.
    frame : pandas.DataFrame
        The treated series: ``period, date, observed, fitted, counterfactual, cf_low,
        cf_high, post`` (DiD adds ``control_mean``, the mean of the control units).
    fit : statsmodels RegressionResults
        The fitted regression with the robust covariance used.
    parallel_trends : TestResult or None
        DiD only: test of ``treated x t`` on pre-period rows (statistic t, p_value), with
        the estimate and its CI in ``extra``.
    pretrend_fit : statsmodels RegressionResults or None
        The regression behind ``parallel_trends``.
    alpha, cov_type, hac_lags, note
        The level of the intervals, the covariance used, its lags, and what was compared.
    n, df
        The number of observations and the residual degrees of freedom.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from crmlib import scorecard
    >>> t = np.arange(24)
    >>> y = pd.Series(0.6 + 0.002 * t + 0.05 * (t >= 16) + 0.01 * np.sin(t),
    ...               index=pd.period_range("2022-01", periods=24, freq="M"))
    >>> res = scorecard.initiative_impact(y, start="2023-05-01", method="its")
    >>> res.summary().round(3).loc["level_change", ["estimate", "ci_low", "ci_high"]].tolist()
    [0.045, 0.032, 0.057]
    >>> res.summary(alpha=0.5).round(3).loc["level_change", ["ci_low", "ci_high"]].tolist()
    [0.04, 0.049]
    """

    method: str
    start: pd.Period
    effect: Estimate
    effects: pd.DataFrame
    frame: pd.DataFrame
    fit: Any = field(repr=False)
    parallel_trends: TestResult | None = None
    pretrend_fit: Any = field(default=None, repr=False)
    alpha: float = 0.05
    cov_type: str = ""
    hac_lags: int | None = None
    note: str = ""
    n: int = 0
    df: float = math.nan

    def summary(self, alpha: float | None = None) -> pd.DataFrame:
        """The effects table: ``estimate, se, ci_low, ci_high, t, p`` per effect.

        ``alpha`` (default: the level of the fit) sets the level of the intervals, from the
        same estimates and standard errors (Student t on ``df``, or normal for the
        Driscoll-Kraay covariance).
        """
        out = self.effects.copy()
        if alpha is None or alpha == self.alpha:
            return out
        alpha = check_alpha(alpha)
        out["ci_low"], out["ci_high"] = _interval(self.fit, out["estimate"].to_numpy(),
                                                  out["se"].to_numpy(), alpha)
        return out

    def to_frame(self) -> pd.DataFrame:
        """The observed series with the fitted values and the counterfactual (``frame``)."""
        return self.frame.copy()


def newey_west_lags(n: int) -> int:
    """Newey & West's (1994) rule for the Bartlett-kernel bandwidth, ``floor(4 (n/100)^(2/9))``.

    Parameters
    ----------
    n
        The number of periods of the series.

    Returns
    -------
    int
        The number of lags of the HAC covariance.

    References
    ----------
    Newey, W. K. & West, K. D. (1994). Automatic lag selection in covariance matrix
    estimation. *Review of Economic Studies* 61, 631-653.

    Examples
    --------
    >>> from crmlib import scorecard
    >>> scorecard.newey_west_lags(12), scorecard.newey_west_lags(40), scorecard.newey_west_lags(100)
    (2, 3, 4)
    """
    return math.floor(4 * (n / 100) ** (2 / 9))


def _interval(fit: Any, estimate: Any, se: Any, alpha: float, df: float | None = None
              ) -> tuple[Any, Any]:
    """``1 - alpha`` intervals of estimates with the fit's distribution: Student t on the
    degrees of freedom of its inference (``df``; default the clusters - 1 of a clustered
    covariance, else the residual df), or normal when the covariance is asymptotic."""
    if fit.use_t:
        if df is None:
            df = getattr(fit, "df_resid_inference", fit.df_resid)
        return intervals.t_interval(estimate, se, df, alpha)
    return intervals.normal_interval(estimate, se, alpha)


# ------------------------------------------------------------------------------------ inputs
def _to_periods(values: Any, freq: str | None, what: str) -> pd.PeriodIndex:
    if isinstance(values, pd.PeriodIndex) or isinstance(
        getattr(values, "dtype", None), pd.PeriodDtype
    ):
        return pd.PeriodIndex(values)
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(values))
    except (TypeError, ValueError) as exc:
        raise CRMError(f"{what}: periods must be dates or pandas Periods ({exc})") from None
    if freq is None:
        freq = pd.infer_freq(stamps.sort_values().unique()) if len(stamps.unique()) >= 3 else None
        if freq is None:
            raise CRMError(
                f"{what}: cannot infer the period length of the dates; pass pandas Periods "
                "(e.g. a PeriodIndex with freq 'M')"
            )
        freq = {"MS": "M", "ME": "M", "QS": "Q", "QE": "Q", "YS": "Y", "YE": "Y"}.get(
            freq.split("-")[0], freq.split("-")[0]
        )
    return stamps.to_period(freq)


def as_panel(series: Any, *, unit: str = "treated", what: str = "series") -> pd.DataFrame:
    """A series as a tidy panel: ``unit, period (pandas Period), value``.

    Accepts a Series indexed by dates or Periods, or a DataFrame with ``period`` and
    ``value`` columns (and ``unit``; ``n`` and other columns are kept).
    """
    if isinstance(series, pd.Series):
        frame = pd.DataFrame({"period": series.index, "value": series.to_numpy()})
    elif isinstance(series, pd.DataFrame):
        missing = [c for c in ("period", "value") if c not in series.columns]
        if missing:
            raise CRMError(
                f"{what}: missing column(s) {', '.join(missing)}; "
                f"it has {', '.join(map(str, series.columns))}"
            )
        frame = series.copy()
    else:
        raise CRMError(
            f"{what}: expected a pandas Series or DataFrame, got {type(series).__name__}"
        )
    if "unit" not in frame.columns:
        frame["unit"] = unit
    frame["unit"] = frame["unit"].astype(str)
    frame["period"] = _to_periods(frame["period"], None, what)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    bad = ~np.isfinite(frame["value"].to_numpy())
    if bad.any():
        frame = frame.loc[~bad]
    dup = frame.duplicated(["unit", "period"])
    if dup.any():
        first = frame.loc[dup].iloc[0]
        raise CRMError(
            f"{what}: {int(dup.sum())} duplicate unit x period row(s), e.g. "
            f"{first['unit']!r} {first['period']}"
        )
    return frame.sort_values(["unit", "period"]).reset_index(drop=True)


def _start_period(start: Any, freq: Any) -> pd.Period:
    if isinstance(start, pd.Period):
        return start.asfreq(freq, how="start")
    try:
        return pd.Timestamp(start).to_period(freq)
    except (TypeError, ValueError) as exc:
        raise CRMError(f"start: expected a date, got {start!r} ({exc})") from None


def _linear(fit: Any, weights: np.ndarray, name: str, alpha: float) -> dict[str, Any]:
    """A linear combination of the coefficients with the fit's covariance and distribution
    (Student t with the residual degrees of freedom)."""
    res = fit.t_test(np.asarray(weights, dtype=float)[None, :])
    est, se = float(np.squeeze(res.effect)), float(np.squeeze(res.sd))
    low, high = _interval(fit, est, se, alpha)
    return {"effect": name, "estimate": est, "se": se, "ci_low": float(low),
            "ci_high": float(high), "t": float(np.squeeze(res.tvalue)),
            "p": float(np.squeeze(res.pvalue))}


def _coef(fit: Any, name: str, alpha: float, label: str | None = None) -> dict[str, Any]:
    weights = (np.asarray(fit.params.index) == name).astype(float)
    return _linear(fit, weights, label or name, alpha)


def _predict(fit: Any, design: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Mean predictions with ``1 - alpha`` intervals from the fit's (robust) covariance.

    The variance x' V x is clipped at 0: with many fixed effects a robust V can be
    indefinite by rounding error."""
    x = design.to_numpy(dtype=float)
    mean = x @ np.asarray(fit.params)
    var = np.einsum("ij,jk,ik->i", x, np.asarray(fit.cov_params()), x)
    se = np.sqrt(np.clip(var, 0.0, None))
    low, high = _interval(fit, mean, se, alpha, df=fit.df_resid)
    return pd.DataFrame({"mean": mean, "mean_ci_lower": low, "mean_ci_upper": high})


# ----------------------------------------------------------------------------------------- ITS
def its_design(periods: pd.PeriodIndex, start: pd.Period, *, seasonality: bool) -> pd.DataFrame:
    """The ITS design matrix: const, t, post, t_post (= (t - t0) post) and month dummies."""
    first = periods.min()
    t = np.array([(p - first).n for p in periods], dtype=float)
    t0 = float((start - first).n)
    post = (periods >= start).astype(float)
    design = pd.DataFrame(
        {"const": 1.0, "t": t, "post": post, "t_post": (t - t0) * post}, index=range(len(t))
    )
    if seasonality:
        months = np.array([p.start_time.month for p in periods])
        for m in sorted(set(months))[1:]:
            design[f"month_{m:02d}"] = (months == m).astype(float)
    return design


def _fit_ols(y: np.ndarray, design: pd.DataFrame, cov: str, lags: int, groups: Any = None) -> Any:
    model = sm.OLS(y, design)
    if cov == "hac":
        if groups is None:
            return model.fit(cov_type="HAC", use_t=True,
                             cov_kwds={"maxlags": lags, "use_correction": True})
        # Driscoll-Kraay is asymptotic in the number of periods: normal intervals
        return model.fit(cov_type="hac-groupsum", use_t=False,
                         cov_kwds={"time": groups, "maxlags": lags})
    if cov == "cluster":
        return model.fit(cov_type="cluster", use_t=True, cov_kwds={"groups": groups})
    return model.fit(cov_type="HC1", use_t=True)


def _its(panel: pd.DataFrame, start: pd.Period, seasonality: bool, alpha: float,
         lags: int | None, cov: str) -> ImpactResult:
    periods = pd.PeriodIndex(panel["period"])
    n_pre = int((periods < start).sum())
    n_post = int((periods >= start).sum())
    if n_pre < 3 or n_post < 2:
        raise CRMError(
            f"series: interrupted time series needs >= 3 periods before and >= 2 from start "
            f"{start}; it has {n_pre} and {n_post}"
        )
    design = its_design(periods, start, seasonality=seasonality)
    y = panel["value"].to_numpy(dtype=float)
    lags = newey_west_lags(len(y)) if lags is None else int(lags)
    if cov == "cluster":
        raise CRMError("cov: 'cluster' needs units; use 'hac' or 'hc1' for a single series")
    fit = _fit_ols(y, design, cov, lags)
    names = list(design.columns)
    w_level = np.array([c == "post" for c in names], dtype=float)
    w_slope = np.array([c == "t_post" for c in names], dtype=float)
    t0 = float((start - periods.min()).n)
    t_end = float(design["t"].max())
    mean_post = float(design.loc[design["post"] == 1, "t"].mean())
    rows = [
        _coef(fit, "post", alpha, "level_change"),
        _coef(fit, "t_post", alpha, "slope_change"),
        _linear(fit, w_level + (t_end - t0) * w_slope, "effect_at_end", alpha),
        _linear(fit, w_level + (mean_post - t0) * w_slope, "mean_post_effect", alpha),
    ]
    effects = pd.DataFrame(rows).set_index("effect")
    pred = _predict(fit, design.assign(post=0.0, t_post=0.0), alpha)
    frame = pd.DataFrame({
        "period": periods,
        "date": periods.start_time,
        "observed": y,
        "fitted": np.asarray(fit.fittedvalues),
        "counterfactual": pred["mean"].to_numpy(),
        "cf_low": pred["mean_ci_lower"].to_numpy(),
        "cf_high": pred["mean_ci_upper"].to_numpy(),
        "post": periods >= start,
    })
    if "n" in panel.columns:
        frame["n"] = panel["n"].to_numpy()
    lvl = effects.loc["level_change"]
    effect = Estimate(float(lvl["estimate"]), float(lvl["se"]), float(lvl["ci_low"]),
                      float(lvl["ci_high"]), len(y), alpha, f"its-{cov}", "level_change")
    return ImpactResult("its", start, effect, effects, frame, fit, alpha=alpha,
                        cov_type=fit.cov_type, hac_lags=lags if cov == "hac" else None,
                        note=f"{n_pre} periods before and {n_post} from {start}", n=len(y),
                        df=float(fit.df_resid))


# ----------------------------------------------------------------------------------------- DiD
def twfe_design(panel: pd.DataFrame, treated: str, start: pd.Period) -> pd.DataFrame:
    """The two-way fixed-effects design: const, unit and period dummies (first dropped), did."""
    unit_d = pd.get_dummies(panel["unit"], prefix="unit", dtype=float).iloc[:, 1:]
    per = panel["period"].astype(str)
    period_d = pd.get_dummies(per, prefix="period", dtype=float).iloc[:, 1:]
    did = ((panel["unit"] == treated) & (pd.PeriodIndex(panel["period"]) >= start)).astype(float)
    design = pd.concat([unit_d, period_d], axis=1)
    design.insert(0, "const", 1.0)
    design["did"] = did.to_numpy()
    return design.reset_index(drop=True)


def _groups(panel: pd.DataFrame, cov: str) -> np.ndarray:
    if cov == "cluster":
        return pd.factorize(panel["unit"], sort=True)[0]
    first = pd.PeriodIndex(panel["period"]).min()
    return np.array([(p - first).n for p in panel["period"]])


def _check_did_panel(panel: pd.DataFrame, treated: str, start: pd.Period) -> list[str]:
    """The panel's units, after checking it has the treated unit, a control, and treated
    periods before and after ``start`` and control periods after."""
    units = sorted(panel["unit"].unique())
    if treated not in units or len(units) < 2:
        raise CRMError(
            f"control: difference-in-differences needs the treated unit {treated!r} and at least "
            f"one control unit; the panel has {', '.join(units)}"
        )
    periods = pd.PeriodIndex(panel["period"])
    is_t = (panel["unit"] == treated).to_numpy()
    pre_t, post_t = int((is_t & (periods < start)).sum()), int((is_t & (periods >= start)).sum())
    ctrl_post = int((~is_t & (periods >= start)).sum())
    if pre_t < 2 or post_t < 1 or ctrl_post < 1:
        raise CRMError(
            f"series: difference-in-differences needs treated periods before and after {start} "
            f"and control periods after; treated has {pre_t} before, {post_t} after"
        )
    return units


def _parallel_trends(panel: pd.DataFrame, treated: str, start: pd.Period, alpha: float,
                     lags: int, cov: str) -> tuple[TestResult | None, Any]:
    """Parallel pre-trends: ``treated x t`` in the TWFE regression on the pre-period rows,
    with the same fixed effects and standard errors (the same HAC lags as the full panel;
    None without 3 periods and 2 units)."""
    pre = panel.loc[pd.PeriodIndex(panel["period"]) < start].reset_index(drop=True)
    if pre["period"].nunique() < 3 or pre["unit"].nunique() < 2:
        return None, None
    pdesign = twfe_design(pre, treated, start).drop(columns="did")
    first = pd.PeriodIndex(pre["period"]).min()
    t = np.array([(p - first).n for p in pre["period"]], dtype=float)
    pdesign["treated_t"] = np.where(pre["unit"] == treated, t, 0.0)
    pre_fit = _fit_ols(pre["value"].to_numpy(float), pdesign, cov, lags, _groups(pre, cov))
    r = _coef(pre_fit, "treated_t", alpha)
    trends = TestResult(
        statistic=float(r["t"]), df=float(pre_fit.df_resid) if pre_fit.use_t else np.nan,
        p_value=float(r["p"]),
        test="parallel pre-trends: treated x linear time in a pre-period TWFE regression (t)",
        n=len(pre),
        extra={"estimate": r["estimate"], "se": r["se"], "ci_low": r["ci_low"],
               "ci_high": r["ci_high"]},
    )
    return trends, pre_fit


def _did_frame(panel: pd.DataFrame, treated: str, fit: Any, design: pd.DataFrame,
               start: pd.Period, alpha: float) -> pd.DataFrame:
    """The treated unit observed, fitted and without the initiative, with the controls' mean."""
    is_t = (panel["unit"] == treated).to_numpy()
    rows = np.flatnonzero(is_t)
    pred = _predict(fit, design.iloc[rows].assign(did=0.0), alpha)
    treated_panel = panel.iloc[rows]
    periods = pd.PeriodIndex(treated_panel["period"])
    control_mean = (panel.loc[~is_t].groupby("period")["value"].mean()
                    .reindex(treated_panel["period"]).to_numpy())
    return pd.DataFrame({
        "period": periods,
        "date": periods.start_time,
        "observed": treated_panel["value"].to_numpy(),
        "fitted": np.asarray(fit.fittedvalues)[rows],
        "counterfactual": pred["mean"].to_numpy(),
        "cf_low": pred["mean_ci_lower"].to_numpy(),
        "cf_high": pred["mean_ci_upper"].to_numpy(),
        "post": periods >= start,
        "control_mean": control_mean,
    })


def _did(panel: pd.DataFrame, treated: str, start: pd.Period, alpha: float,
         lags: int | None, cov: str) -> ImpactResult:
    """Difference-in-differences of ``treated`` against the other units of ``panel``."""
    units = _check_did_panel(panel, treated, start)
    n_periods = len(pd.PeriodIndex(panel["period"]).unique())
    used_lags = newey_west_lags(n_periods) if lags is None else int(lags)
    design = twfe_design(panel, treated, start)
    y = panel["value"].to_numpy(dtype=float)
    fit = _fit_ols(y, design, cov, used_lags, _groups(panel, cov))
    effects = pd.DataFrame([_coef(fit, "did", alpha)]).set_index("effect")
    trends, pre_fit = _parallel_trends(panel, treated, start, alpha, used_lags, cov)
    frame = _did_frame(panel, treated, fit, design, start, alpha)
    d = effects.loc["did"]
    effect = Estimate(float(d["estimate"]), float(d["se"]), float(d["ci_low"]),
                      float(d["ci_high"]), len(y), alpha, f"did-twfe-{cov}", "did")
    note = (f"treated {treated!r} against {', '.join(u for u in units if u != treated)}; "
            f"{n_periods} periods")
    return ImpactResult("did", start, effect, effects, frame, fit, trends, pre_fit,
                        alpha=alpha, cov_type=fit.cov_type,
                        hac_lags=used_lags if cov == "hac" else None, note=note, n=len(y),
                        df=float(fit.df_resid))


# ------------------------------------------------------------------------------------ public
def initiative_impact(
    series: Any,
    *,
    start: Any,
    method: str = "its",
    control: Any = None,
    seasonality: bool = False,
    alpha: float = 0.05,
    hac_lags: int | None = None,
    cov: str = "hac",
    treated: str = "treated",
) -> ImpactResult:
    """The effect of an initiative that started at ``start`` on a metric's series.

    Parameters
    ----------
    series, treated
        The treated unit's series (indexed by dates or Periods, or a frame ``period,
        value``), or a panel with ``unit`` (:func:`metric_panel`): the rows of unit
        ``treated`` are treated, the others the DiD controls.
    start
        The initiative's start date (its period is the first treated one).
    method, control
        ``"its"`` (segmented regression) or ``"did"`` (two-way fixed effects against
        ``control``: a frame ``unit, period, value`` or ``{unit: series}``).
    seasonality, alpha
        ITS only: month-of-year dummies; the intervals' level (Student t on the residual df,
        normal for Driscoll-Kraay).
    hac_lags, cov
        Bartlett-kernel lags (default :func:`newey_west_lags`); ``cov`` ``"hac"`` (Newey-West
        with n/(n-k) for ITS; Driscoll-Kraay for DiD), ``"cluster"`` (by unit) or ``"hc1"``.

    Returns
    -------
    ImpactResult

    References
    ----------
    Wagner et al. (2002); Newey & West (1987); Angrist & Pischke (2009); Bertrand et al. (2004).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from crmlib import scorecard
    >>> y = pd.Series(0.6 + 0.05 * (np.arange(24) >= 12) + 0.01 * np.sin(np.arange(24)),
    ...               index=pd.period_range("2023-01", periods=24, freq="M"))
    >>> effect = scorecard.initiative_impact(y, start="2024-01-01", method="its").effect
    >>> round(effect.value, 3), round(effect.ci_low, 3), round(effect.ci_high, 3)
    (0.055, 0.044, 0.067)
    """
    method, cov, alpha = _check_options(method, cov, alpha, hac_lags)
    panel, control = _split_stacked(as_panel(series, unit=treated), control, treated, method)
    if method == "its" and control is not None:
        raise CRMError("control: only used with method='did'")
    full = _did_panel(panel, control) if method == "did" else panel
    start_p = _start_period(start, panel["period"].iloc[0].freq)
    if method == "its":
        return _its(panel, start_p, bool(seasonality), alpha, hac_lags, cov)
    return _did(full, str(panel["unit"].iloc[0]), start_p, alpha, hac_lags, cov)


def _check_options(method: str, cov: str, alpha: float, hac_lags: Any) -> tuple[str, str, float]:
    checked = (check_option(method, name="method", options=METHODS),
               check_option(cov, name="cov", options=COVS), check_alpha(alpha))
    if hac_lags is not None and (isinstance(hac_lags, bool) or not isinstance(hac_lags, int)
                                 or hac_lags < 0):
        raise CRMError(f"hac_lags: expected a non-negative integer or None, got {hac_lags!r}")
    return checked


def _split_stacked(panel: pd.DataFrame, control: Any, treated: str, method: str
                   ) -> tuple[pd.DataFrame, Any]:
    """The treated unit's rows of a stacked panel, and the other units as the DiD control."""
    if panel["unit"].nunique() > 1:  # a stacked panel: the treated unit and its controls
        units = sorted(panel["unit"].unique())
        if treated not in units:
            raise CRMError(
                f"treated: {treated!r} is not a unit of series; it has {', '.join(units)}"
            )
        if control is not None:
            raise CRMError("control: give either a stacked series with units, or control")
        is_t = panel["unit"] == treated
        if method == "did":
            control = panel.loc[~is_t].reset_index(drop=True)
        panel = panel.loc[is_t].reset_index(drop=True)
    if panel.empty:
        raise CRMError(f"series: no finite values for {treated!r}")
    return panel, control


def _did_panel(panel: pd.DataFrame, control: Any) -> pd.DataFrame:
    """The treated series and the control units in one panel, sorted by period and unit."""
    if control is None:
        raise CRMError("control: difference-in-differences needs the control units' series")
    treated_name = str(panel["unit"].iloc[0])
    if isinstance(control, dict):
        parts = [as_panel(s, unit=str(u), what=f"control[{u!r}]") for u, s in control.items()]
        ctrl = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    else:
        ctrl = as_panel(control, unit="control", what="control")
    if ctrl.empty:
        raise CRMError("control: no control series given")
    if treated_name in set(ctrl["unit"]):
        raise CRMError(f"control: the treated unit {treated_name!r} is also among the controls")
    freq = panel["period"].iloc[0].freq
    if any(p.freq != freq for p in ctrl["period"].iloc[:1]):
        raise CRMError("control: its periods have another frequency than series'")
    full = pd.concat([panel, ctrl], ignore_index=True)
    return full.sort_values(["period", "unit"]).reset_index(drop=True)

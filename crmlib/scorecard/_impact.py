"""Initiative impact: interrupted time series and difference-in-differences on statsmodels.

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
2009, sec. 5.2.1), tested with the same standard errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from crmlib.errors import CRMError
from crmlib.results import Estimate, TestResult
from crmlib.utils.validation import check_alpha, check_option

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
        ci_high, t, p`` (Student t with the residual degrees of freedom); ``attrs`` hold n,
        df, cov_type, hac_lags and alpha.
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

    def summary(self) -> pd.DataFrame:
        """The effects table (same as ``effects``)."""
        return self.effects


def newey_west_lags(n: int) -> int:
    """Newey & West's (1994) rule for the Bartlett-kernel bandwidth: floor(4 (n/100)^(2/9))."""
    return math.floor(4 * (n / 100) ** (2 / 9))


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
    low, high = np.squeeze(res.conf_int(alpha=alpha))
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
    crit = (stats.t.ppf(1 - alpha / 2, fit.df_resid) if fit.use_t
            else stats.norm.ppf(1 - alpha / 2))
    return pd.DataFrame({"mean": mean, "mean_ci_lower": mean - crit * se,
                         "mean_ci_upper": mean + crit * se})


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
    effects.attrs.update(n=len(y), df=float(fit.df_resid), n_pre=n_pre, n_post=n_post,
                         cov_type=fit.cov_type,
                         hac_lags=lags if cov == "hac" else None, alpha=alpha,
                         seasonality=seasonality, method="its")
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
                        note=f"{n_pre} periods before and {n_post} from {start}")


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


def _did(panel: pd.DataFrame, treated: str, start: pd.Period, alpha: float,
         lags: int | None, cov: str) -> ImpactResult:
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
    n_periods = len(periods.unique())
    lags = newey_west_lags(n_periods) if lags is None else int(lags)
    design = twfe_design(panel, treated, start)
    y = panel["value"].to_numpy(dtype=float)
    fit = _fit_ols(y, design, cov, lags, _groups(panel, cov))
    effects = pd.DataFrame([_coef(fit, "did", alpha)]).set_index("effect")
    effects.attrs.update(n=len(y), df=float(fit.df_resid), n_units=len(units), n_periods=n_periods,
                         cov_type=fit.cov_type, hac_lags=lags if cov == "hac" else None,
                         alpha=alpha, method="did", treated=treated, controls=[
                             u for u in units if u != treated])

    # parallel trends: treated x t on the pre-period rows, same fixed effects and SEs
    pre = panel.loc[periods < start].reset_index(drop=True)
    trends = None
    pre_fit = None
    if pre["period"].nunique() >= 3 and pre["unit"].nunique() >= 2:
        pdesign = twfe_design(pre, treated, start).drop(columns="did")
        first = pd.PeriodIndex(pre["period"]).min()
        t = np.array([(p - first).n for p in pre["period"]], dtype=float)
        pdesign["treated_t"] = np.where(pre["unit"] == treated, t, 0.0)
        pre_fit = _fit_ols(pre["value"].to_numpy(float), pdesign, cov,
                           newey_west_lags(pre["period"].nunique()) if lags is None else lags,
                           _groups(pre, cov))
        r = _coef(pre_fit, "treated_t", alpha)
        trends = TestResult(
            statistic=float(r["t"]), df=float(pre_fit.df_resid) if pre_fit.use_t else np.nan,
            p_value=float(r["p"]),
            test="parallel pre-trends: treated x linear time in a pre-period TWFE regression (t)",
            n=len(pre),
            extra={"estimate": r["estimate"], "se": r["se"], "ci_low": r["ci_low"],
                   "ci_high": r["ci_high"]},
        )

    # observed vs counterfactual for the treated unit
    rows = np.flatnonzero(is_t)
    pred = _predict(fit, design.iloc[rows].assign(did=0.0), alpha)
    treated_panel = panel.iloc[rows]
    control_mean = (panel.loc[~is_t].groupby("period")["value"].mean()
                    .reindex(treated_panel["period"]).to_numpy())
    frame = pd.DataFrame({
        "period": pd.PeriodIndex(treated_panel["period"]),
        "date": pd.PeriodIndex(treated_panel["period"]).start_time,
        "observed": treated_panel["value"].to_numpy(),
        "fitted": np.asarray(fit.fittedvalues)[rows],
        "counterfactual": pred["mean"].to_numpy(),
        "cf_low": pred["mean_ci_lower"].to_numpy(),
        "cf_high": pred["mean_ci_upper"].to_numpy(),
        "post": pd.PeriodIndex(treated_panel["period"]) >= start,
        "control_mean": control_mean,
    })
    d = effects.loc["did"]
    effect = Estimate(float(d["estimate"]), float(d["se"]), float(d["ci_low"]),
                      float(d["ci_high"]), len(y), alpha, f"did-twfe-{cov}", "did")
    note = (f"treated {treated!r} against {', '.join(u for u in units if u != treated)}; "
            f"{n_periods} periods")
    return ImpactResult("did", start, effect, effects, frame, fit, trends, pre_fit,
                        alpha=alpha, cov_type=fit.cov_type,
                        hac_lags=lags if cov == "hac" else None, note=note)


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
    series
        The treated unit's series: a Series indexed by dates or pandas Periods, or a
        DataFrame with ``period`` and ``value`` columns (e.g. from :func:`rate_series`).
    start
        The initiative's start date; the period holding it is the first treated period.
    method
        ``"its"`` (segmented regression on ``series`` alone) or ``"did"`` (two-way fixed
        effects against ``control``).
    control
        DiD only: the untreated units, a DataFrame with ``unit, period, value`` columns or a
        dict ``{unit: series}``.
    seasonality
        ITS only: add month-of-year dummies (needs more than a year of data). In DiD the
        period fixed effects absorb seasonality.
    alpha
        Intervals are ``1 - alpha``, from Student t with the residual degrees of freedom
        (normal for the Driscoll-Kraay covariance of DiD, which is asymptotic in periods).
    hac_lags
        Bartlett-kernel lags of the HAC covariance; default Newey & West's (1994) rule
        ``floor(4 (T/100)^(2/9))`` with T the number of periods.
    cov
        ``"hac"`` (Newey-West with the small-sample correction n/(n-k) for ITS;
        Driscoll-Kraay across units for DiD), ``"cluster"``
        (DiD: clustered by unit) or ``"hc1"`` (heteroskedasticity only).
    treated
        The name of the treated unit: when ``series`` is a stacked panel (a ``unit``
        column, e.g. from :func:`metric_panel`), its rows are the treated series and, for
        DiD, the other units are the controls.

    Returns
    -------
    ImpactResult

    References
    ----------
    Wagner, Soumerai, Zhang & Ross-Degnan (2002), Segmented regression analysis of interrupted
    time series studies, J Clin Pharm Ther 27:299-309. Newey & West (1987, 1994). Driscoll &
    Kraay (1998). Angrist & Pischke (2009), Mostly Harmless Econometrics, ch. 5.
    """
    method = check_option(method, name="method", options=METHODS)
    cov = check_option(cov, name="cov", options=COVS)
    alpha = check_alpha(alpha)
    if hac_lags is not None and (isinstance(hac_lags, bool) or not isinstance(hac_lags, int)
                                 or hac_lags < 0):
        raise CRMError(f"hac_lags: expected a non-negative integer or None, got {hac_lags!r}")
    panel = as_panel(series, unit=treated)
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
    if method == "its":
        if control is not None:
            raise CRMError("control: only used with method='did'")
        start_p = _start_period(start, panel["period"].iloc[0].freq)
        return _its(panel, start_p, bool(seasonality), alpha, hac_lags, cov)
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
    full = pd.concat([panel, ctrl], ignore_index=True)
    freq = panel["period"].iloc[0].freq
    if any(p.freq != freq for p in ctrl["period"].iloc[:1]):
        raise CRMError("control: its periods have another frequency than series'")
    full = full.sort_values(["period", "unit"]).reset_index(drop=True)
    start_p = _start_period(start, freq)
    return _did(full, treated_name, start_p, alpha, hac_lags, cov)

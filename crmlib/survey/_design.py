"""Design-based estimation for complex survey samples: a pandas front end to ``svy``.

:class:`SurveyDesign` takes a pandas DataFrame and the design columns (strata, one or two
stages of clusters, weights, finite population corrections) and returns tidy pandas frames.
The arithmetic is done by ``svy`` (Taylor linearisation, calibration-aware variances after
post-stratification and raking), which the tests check against R's ``survey`` package on the
``api`` data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlib._lazy import lazy_module
from crmlib.defaults import ALPHA
from crmlib.errors import CRMError
from crmlib.results import TestResult
from crmlib.utils.validation import check_alpha, check_frame, check_option, check_scalar

if TYPE_CHECKING:
    import polars as pl
    import svy
    from scipy import stats
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    stats = lazy_module("scipy.stats")
    pl = lazy_module("polars")
    svy = lazy_module("svy")

#: R ``options(survey.lonely.psu=)`` values and the ``svy`` singleton rule for each.
LONELY_PSU = {
    "fail": None,
    "adjust": "center",
    "average": "scale",
    "remove": "skip",
    "certainty": "self_representing",
}

_OUT = ["estimate", "se", "ci_low", "ci_high", "deff", "df", "n"]


def _svy_message(exc: Exception) -> str:
    """One line from an svy error: its title and detail when it has them."""
    title = getattr(exc, "title", None)
    detail = getattr(exc, "detail", None)
    text = "; ".join(str(t) for t in (title, detail) if t) or str(exc)
    return " ".join(text.split())


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _checked_frame(frame: pd.DataFrame, design_cols: list[str], weights: str | None
                   ) -> pd.DataFrame:
    """The survey frame, with its design columns present and complete and its weights
    positive; a one-line error naming the column and rows otherwise."""
    frame = check_frame(frame, name="survey frame", required=design_cols)
    if frame.empty:
        raise CRMError("survey frame: no rows")
    for col in design_cols:
        if frame[col].isna().any():
            rows = frame.index[frame[col].isna()][:5].tolist()
            raise CRMError(f"survey frame: design column {col!r} is missing at rows {rows}")
    if weights is not None:
        w = pd.to_numeric(frame[weights], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(w) | (w <= 0)
        if bad.any():
            rows = frame.index[bad][:5].tolist()
            raise CRMError(
                f"survey frame: weight column {weights!r} has {int(bad.sum())} zero, "
                f"negative or missing value(s) at rows {rows}: {w[bad][:5].tolist()}"
            )
    return frame


def _with_deff(call: Any, *, strict: bool) -> Any:
    """``call(deff="wor")``, or, when the design effect cannot be computed (no variance,
    weights summing to no more than the sample size) and not ``strict``, ``call(None)``:
    the estimate and its standard error without a design effect."""
    try:
        return call("wor")
    except svy.SvyError as exc:
        if strict or "Design effect" not in _svy_message(exc):
            raise
        return call(None)


def _pop_size(fpcs: list[str]) -> Any:
    """svy's population size: one fpc column, or the PSU and SSU columns of two stages."""
    if len(fpcs) == 1:
        return fpcs[0]
    if len(fpcs) == 2:
        return svy.PopSize(psu=fpcs[0], ssu=fpcs[1])
    return None


class SurveyDesign:
    """A survey sample bound to its design, as R's ``svydesign``.

    Parameters
    ----------
    frame : DataFrame
        One row per responding unit.
    strata : str, optional
        Stratum column.
    cluster : str or [str, str], optional
        Primary sampling unit column, or the PSU and SSU columns of a two-stage design.
        Cluster codes are taken within strata (R's ``nest=TRUE``).
    weights : str, optional
        Sampling weight column (positive); equal weights when omitted.
    fpc : str or [str, str], optional
        Population size column(s) for the finite population correction, one per stage:
        the number of PSUs in the stratum, then the number of SSUs in the PSU.
    lonely_psu : {"fail", "adjust", "average", "remove", "certainty"}
        What to do with a stratum holding a single PSU, as R's
        ``options(survey.lonely.psu=)``: ``"fail"`` (R's default) raises naming the strata;
        ``"adjust"`` centres the lonely PSU at the grand mean rather than its stratum mean;
        ``"average"`` gives it the average variance of the other strata; ``"remove"``
        drops its contribution; ``"certainty"`` treats it as sampled with certainty (its
        SSUs become the PSUs).
    alpha : float
        One minus the level of every interval of the design; each estimate may override it
        (``design.mean("csat", alpha=0.1)``).

    Notes
    -----
    Standard errors are Taylor-linearised (Binder 1983; Wolter 2007, ch. 6) and, after
    :meth:`poststratify` or :meth:`rake`, computed on the residuals of the calibration as
    R's ``survey`` does (Lumley 2010, ch. 7). Intervals are Student t on the design degrees
    of freedom (PSUs minus strata); R's ``confint`` uses the normal quantile instead.
    Design effects compare with simple random sampling without replacement (Kish 1965),
    as R's ``deff=TRUE``. Missing values in an analysis column are dropped for that
    estimate while the whole design is kept (R's ``na.rm=TRUE``).

    ``SurveyDesign`` is a design, not an estimator: it is built once from the data (as R's
    ``svydesign``) and answers many estimation calls; it has no ``fit``.

    References
    ----------
    Lumley, T. (2004). Analysis of complex survey samples. *Journal of Statistical
    Software* 9(8), 1-19.
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.
    Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex
    surveys. *International Statistical Review* 51(3), 279-292.
    Kish, L. (1965). *Survey Sampling*. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"stratum": ["a"] * 4 + ["b"] * 4,
    ...                       "w": [10.0] * 4 + [30.0] * 4,
    ...                       "nps": [10, 9, 6, 8, 3, 10, 7, 9]})
    >>> design = SurveyDesign(frame, strata="stratum", weights="w", alpha=0.05)
    >>> design.nps("nps")[["estimate", "se", "n"]].round(2)
       estimate     se  n
    0      25.0  37.85  8
    >>> round(design.effective_sample_size(), 2)
    6.4
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        strata: str | None = None,
        cluster: str | Sequence[str] | None = None,
        weights: str | None = None,
        fpc: str | Sequence[str] | None = None,
        lonely_psu: str = "fail",
        alpha: float = ALPHA,
    ) -> None:
        self.strata = strata
        self.cluster = cluster
        self.weights = weights
        self.fpc = fpc
        self.lonely_psu = lonely_psu
        self.alpha = check_alpha(alpha)
        check_option(lonely_psu, name="lonely_psu", options=tuple(LONELY_PSU))
        clusters, fpcs = _as_list(cluster), _as_list(fpc)
        if len(clusters) > 2 or len(fpcs) > 2:
            raise CRMError("SurveyDesign: at most two stages of clusters and fpc columns")
        design_cols = [c for c in [strata, *clusters, weights, *fpcs] if c is not None]
        frame = _checked_frame(frame, design_cols, weights)
        data = frame.reset_index(drop=True)  # copy-on-write: the caller's frame is untouched
        wcol = weights
        if wcol is None:
            wcol = "_crm_weight"
            data[wcol] = 1.0
        self._wcol = wcol
        if strata is not None and clusters and lonely_psu == "fail":
            self._check_lonely(data, strata, clusters[0])
        design = svy.Design(
            stratum=strata,
            psu=clusters[0] if clusters else None,
            ssu=clusters[1] if len(clusters) > 1 else None,
            wgt=wcol,
            pop_size=_pop_size(fpcs),
            singleton=LONELY_PSU[lonely_psu],
        )
        try:
            self._sample = svy.Sample(pl.from_pandas(data), design)
        except svy.SvyError as exc:
            raise CRMError(f"SurveyDesign: {_svy_message(exc)}") from None
        self._frame = data
        self._calibrated = False

    @staticmethod
    def _check_lonely(data: pd.DataFrame, strata: str, psu: str) -> None:
        counts = data.groupby(strata, observed=True)[psu].nunique()
        lonely = counts.index[counts == 1].tolist()
        if lonely:
            raise CRMError(
                f"survey frame: stratum column {strata!r} has {len(lonely)} stratum/strata with "
                f"a single PSU ({lonely[:5]}); choose lonely_psu='adjust', 'average', 'remove' "
                "or 'certainty' (as R's options(survey.lonely.psu=))"
            )

    @classmethod
    def _derived(cls, parent: SurveyDesign, sample: svy.Sample) -> SurveyDesign:
        new = cls.__new__(cls)
        new.__dict__.update(parent.__dict__)
        new._sample = sample
        new._wcol = sample.design.wgt
        new._frame = sample.data.to_pandas()
        new.weights = new._wcol
        new._calibrated = True
        return new

    # ----------------------------------------------------------------- facts
    @property
    def frame(self) -> pd.DataFrame:
        """The data with the current weight column."""
        return self._frame

    @property
    def design_weights(self) -> pd.Series:
        """The current weights (after any post-stratification, raking or trimming)."""
        return self._frame[self._wcol].astype(float)

    def effective_sample_size(self) -> float:
        """Kish's effective sample size ``(sum w)^2 / sum w^2`` of the current weights."""
        w = self.design_weights.to_numpy()
        return float(w.sum() ** 2 / np.square(w).sum())

    def __repr__(self) -> str:
        return (
            f"SurveyDesign(n={len(self._frame)}, strata={self.strata!r}, "
            f"cluster={self.cluster!r}, weights={self._wcol!r}, fpc={self.fpc!r}, "
            f"lonely_psu={self.lonely_psu!r}, alpha={self.alpha!r})"
        )

    # ------------------------------------------------------------ estimation
    def _check_vars(self, cols: Sequence[str]) -> None:
        missing = [c for c in cols if c not in self._frame.columns]
        if missing:
            raise CRMError(f"survey frame: no column(s) {missing}")

    def _tidy(self, results: Any, variables: list[str], by: list[str], level: str | None
              ) -> pd.DataFrame:
        if not isinstance(results, list):
            results = [results]
        frames = []
        for var, res in zip(variables, results, strict=True):
            out = res.to_polars().to_pandas()
            out = out.rename(columns={"est": "estimate", "lci": "ci_low", "uci": "ci_high"})
            if level is not None:
                out = out.rename(columns={var if level == "" else level: "level"})
            if "deff" not in out.columns:
                out["deff"] = math.nan
            out.insert(0, "variable", var)
            keep = ["variable", *by, *(["level"] if level is not None else []), *_OUT]
            frames.append(out[keep])
        return pd.concat(frames, ignore_index=True)

    def _level(self, alpha: float | None) -> float:
        """The interval level of a call: ``alpha`` when given, else the design's."""
        return check_alpha(self.alpha if alpha is None else alpha)

    def _run(self, fn: str, y: Any, *, by: Any, alpha: float, require_deff: bool = False,
             sample: Any = None, **kw: Any) -> Any:
        est = getattr((self._sample if sample is None else sample).estimation, fn)
        try:
            return _with_deff(lambda deff: est(y, by=by, alpha=alpha, drop_nulls=True,
                                               deff=deff, **kw), strict=require_deff)
        except svy.SvyError as exc:
            raise CRMError(f"SurveyDesign.{fn}: {_svy_message(exc)}") from None

    def mean(self, var: str | Sequence[str], *, by: str | Sequence[str] | None = None,
             alpha: float | None = None, require_deff: bool = False) -> pd.DataFrame:
        """Design-based mean(s) of ``var``, overall or by domain (R ``svymean``/``svyby``).

        Returns a tidy frame: ``variable``, the ``by`` columns, ``estimate, se, ci_low,
        ci_high, deff, df, n``. ``deff`` is NaN where the design effect cannot be computed
        (no variance; weights summing to no more than the sample size), unless
        ``require_deff`` makes that an error.
        """
        vars_, by_ = _as_list(var), _as_list(by)
        self._check_vars([*vars_, *by_])
        alpha = self._level(alpha)
        res = self._run("mean", vars_ if len(vars_) > 1 else vars_[0], by=by_ or None,
                        alpha=alpha, require_deff=require_deff)
        return self._tidy(res, vars_, by_, None)

    def total(self, var: str | Sequence[str], *, by: str | Sequence[str] | None = None,
              alpha: float | None = None, require_deff: bool = False) -> pd.DataFrame:
        """Design-based total(s) of ``var`` (R ``svytotal``); columns as :meth:`mean`."""
        vars_, by_ = _as_list(var), _as_list(by)
        self._check_vars([*vars_, *by_])
        alpha = self._level(alpha)
        res = self._run("total", vars_ if len(vars_) > 1 else vars_[0], by=by_ or None,
                        alpha=alpha, require_deff=require_deff)
        return self._tidy(res, vars_, by_, None)

    def proportion(self, var: str, *, by: str | Sequence[str] | None = None,
                   alpha: float | None = None, ci_method: str = "logit") -> pd.DataFrame:
        """Share of each level of ``var`` (R ``svymean(~factor)``), with a ``level`` column.

        ``ci_method`` is ``"logit"`` (R ``svyciprop`` default), ``"wilson"``, ``"beta"`` or
        ``"korn-graubard"``.
        """
        by_ = _as_list(by)
        self._check_vars([var, *by_])
        check_option(ci_method, name="ci_method",
                     options=("logit", "wilson", "beta", "korn-graubard"))
        alpha = self._level(alpha)
        res = self._run("prop", var, by=by_ or None, alpha=alpha, ci_method=ci_method)
        return self._tidy(res, [var], by_, var)

    def ratio(self, num: str, den: str, *, by: str | Sequence[str] | None = None,
              alpha: float | None = None) -> pd.DataFrame:
        """Ratio of totals ``sum w*num / sum w*den`` (R ``svyratio``)."""
        by_ = _as_list(by)
        self._check_vars([num, den, *by_])
        alpha = self._level(alpha)
        try:
            res = _with_deff(lambda deff: self._sample.estimation.ratio(
                num, den, by=by_ or None, alpha=alpha, drop_nulls=True, deff=deff), strict=False)
        except svy.SvyError as exc:
            raise CRMError(f"SurveyDesign.ratio: {_svy_message(exc)}") from None
        return self._tidy(res, [f"{num}/{den}"], by_, None)

    def nps(self, var: str, *, by: str | Sequence[str] | None = None,
            alpha: float | None = None, require_deff: bool = False) -> pd.DataFrame:
        """Design-based Net Promoter Score of the 0..10 column ``var``, on the -100..100 scale.

        The NPS is the design-weighted mean of the trinomial score (+1 promoter 9-10, 0
        passive 7-8, -1 detractor 0-6), so its Taylor-linearised SE reflects strata,
        clusters and any post-stratification or raking. Columns as :meth:`mean`.
        """
        by_ = _as_list(by)
        self._check_vars([var, *by_])
        vals = pd.to_numeric(self._frame[var], errors="coerce")
        off = vals[(vals < 0) | (vals > 10) | (vals.notna() & (vals != vals.round()))]
        if len(off):
            raise CRMError(f"survey frame: column {var!r} has {len(off)} value(s) outside the "
                           f"0-10 scale: {off.unique()[:5].tolist()}")
        col = "_crm_nps"
        expr = (pl.when(pl.col(var) >= 9).then(1.0)
                .when(pl.col(var) <= 6).then(-1.0).otherwise(0.0))
        expr = pl.when(pl.col(var).is_null()).then(None).otherwise(expr)
        try:
            sample = self._sample.wrangling.mutate({col: expr})
        except svy.SvyError as exc:
            raise CRMError(f"SurveyDesign.nps: {_svy_message(exc)}") from None
        res = self._run("mean", col, by=by_ or None, alpha=self._level(alpha),
                        require_deff=require_deff, sample=sample)
        out = self._tidy(res, [col], by_, None)
        for c in ["estimate", "se", "ci_low", "ci_high"]:
            out[c] = 100 * out[c]
        out["variable"] = var
        return out

    def chisq(self, row: str, col: str, *, statistic: str = "F") -> TestResult:
        """Rao-Scott test of independence of ``row`` and ``col`` (R ``svychisq``).

        The Pearson X^2 of the weighted table scaled to the sample size is corrected with the
        generalised design effects ``Delta`` computed from the design-based covariance of
        the cell proportions (from ``svy``), exactly as R ``survey::svychisq`` does.
        ``statistic="F"``: second-order (Satterthwaite) correction ``X^2 / tr(Delta)``
        referred to F on ``(d0, d0 * nu)`` df, ``d0 = tr(Delta)^2 / tr(Delta^2)``, ``nu``
        the design df (R's default). ``"Chisq"``: the first-order correction, ``X^2`` (the
        reported statistic) divided by the mean eigenvalue of ``Delta`` and referred to
        chi-square on ``(r-1)(c-1)`` df.

        Parameters
        ----------
        row, col : str
            The two categorical columns.
        statistic : {"F", "Chisq"}
            The second-order (F) or first-order (chi-square) correction.

        Returns
        -------
        TestResult
            ``extra``: ``pearson_x2``, ``mean_deff``, ``design_df`` (and ``df_den`` for F).

        References
        ----------
        Rao, J. N. K. & Scott, A. J. (1984). On chi-squared tests for multiway contingency
        tables with cell proportions estimated from survey data. *Annals of Statistics*
        12(1), 46-60.

        Examples
        --------
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"a": list("xxyyxxyyxy"), "b": list("uvuvuuvvvu")})
        >>> res = SurveyDesign(frame).chisq("a", "b")
        >>> res.test, round(res.p_value, 3)
        ('Rao-Scott F (second-order)', 0.563)
        """
        check_option(statistic, name="statistic", options=("F", "Chisq"))
        self._check_vars([row, col])
        rows = sorted(self._frame[row].dropna().unique().tolist(), key=str)
        cols = sorted(self._frame[col].dropna().unique().tolist(), key=str)
        if len(rows) < 2 or len(cols) < 2:
            raise CRMError(f"crosstab of {row!r} by {col!r}: needs two levels of each, got "
                           f"{len(rows)} and {len(cols)}")
        p, V, nu = self._cell_proportions(row, col, rows, cols)
        N = len(self._frame)
        delta = _generalised_deff(p, V, len(rows), len(cols), N)
        x2 = _pearson_x2(p, len(rows), len(cols), N)
        n = int(self._frame[[row, col]].notna().all(axis=1).sum())
        return _rao_scott(x2, delta, nu, n, statistic)

    def _cell_proportions(self, row: str, col: str, rows: list[Any], cols: list[Any]
                          ) -> tuple[np.ndarray, np.ndarray, float]:
        """The design-based cell proportions (rows varying fastest, as R's
        ``interaction()``), their covariance matrix and the design df."""
        cell = "_crm_cell"
        expr = pl.concat_str([pl.col(row).cast(pl.String), pl.col(col).cast(pl.String)],
                             separator="\x1f")
        try:
            sample = self._sample.wrangling.mutate({cell: expr})
            res = sample.estimation.prop(cell, drop_nulls=True)
        except svy.SvyError as exc:
            raise CRMError(f"SurveyDesign.chisq: {_svy_message(exc)}") from None
        pos = {k: i for i, k in enumerate(res.to_polars()[cell].to_list())}
        order = [f"{r}\x1f{c}" for c in map(str, cols) for r in map(str, rows)]
        idx = np.array([pos.get(o, -1) for o in order])
        est = res.to_polars()["est"].to_numpy()
        seen = idx >= 0
        p = np.zeros(len(order))
        p[seen] = est[idx[seen]]
        V = np.zeros((len(order), len(order)))
        V[np.ix_(seen, seen)] = np.asarray(res.covariance)[np.ix_(idx[seen], idx[seen])]
        return p, V, float(res.design_df)

    # ------------------------------------------------------------- weighting
    @staticmethod
    def _controls(var: str, counts: Any) -> dict[Any, float]:
        if isinstance(counts, pd.DataFrame):
            if counts.shape[1] != 2:
                raise CRMError(f"population counts for {var!r}: expected two columns "
                               f"(level, count), got {list(counts.columns)}")
            counts = pd.Series(counts.iloc[:, 1].to_numpy(), index=counts.iloc[:, 0])
        if isinstance(counts, pd.Series):
            counts = counts.to_dict()
        if not isinstance(counts, Mapping):
            raise CRMError(f"population counts for {var!r}: expected a dict, Series or frame")
        out = {k: float(v) for k, v in counts.items()}
        bad = {k: v for k, v in out.items() if not v > 0}
        if bad:
            raise CRMError(f"population counts for {var!r}: non-positive count(s) {bad}")
        return out

    def _check_levels(self, var: str, controls: Mapping[Any, float]) -> None:
        self._check_vars([var])
        levels = set(self._frame[var].dropna().unique().tolist())
        missing = sorted(map(str, levels - set(controls)))
        if missing:
            raise CRMError(f"population counts for {var!r}: no count for sample level(s) "
                           f"{missing}")
        empty = sorted(map(str, set(controls) - levels))
        if empty:
            raise CRMError(f"population counts for {var!r}: level(s) {empty} have no "
                           "respondents; collapse them before weighting")

    def poststratify(self, var: str, population_counts: Any) -> SurveyDesign:
        """A new design post-stratified on ``var`` to known population counts.

        Parameters
        ----------
        var : str
            The post-stratification column.
        population_counts : dict, Series or two-column DataFrame
            Population count per level of ``var`` (R ``postStratify``'s ``population``).
        """
        controls = self._controls(var, population_counts)
        self._check_levels(var, controls)
        try:
            sample = self._sample.weighting.poststratify(controls=controls, cells=var,
                                                         wgt_name="_crm_ps_wgt")
        except svy.SvyError as exc:
            raise CRMError(f"SurveyDesign.poststratify: {_svy_message(exc)}") from None
        return self._derived(self, sample)

    def rake(self, margins: Mapping[str, Any], *, max_iter: int = 100,
             tol: float = 1e-8) -> SurveyDesign:
        """A new design raked (iterative proportional fitting) to several margins.

        Parameters
        ----------
        margins : dict
            ``{column: population counts per level}``; the counts as in
            :meth:`poststratify`. All margins must sum to the same population size.
        max_iter, tol : int, float
            Iteration limit and convergence tolerance; non-convergence raises.

        References
        ----------
        Deming, W. E. & Stephan, F. F. (1940). On a least squares adjustment of a sampled
        frequency table when the expected marginal totals are known. *Ann. Math. Stat.*
        11(4), 427-444.
        """
        check_scalar(max_iter, name="max_iter", kind=int, min_value=1)
        check_scalar(tol, name="tol", min_value=0, include_min=False)
        controls = {}
        for var, counts in margins.items():
            controls[var] = self._controls(var, counts)
            self._check_levels(var, controls[var])
        totals = {v: sum(c.values()) for v, c in controls.items()}
        if len({round(t, 6) for t in totals.values()}) > 1:
            raise CRMError(f"rake margins: population totals differ {totals}")
        try:
            sample = self._sample.weighting.rake(controls=controls, tol=tol,
                                                 max_iter=max_iter, wgt_name="_crm_rk_wgt")
        except svy.SvyError as exc:
            raise CRMError(f"SurveyDesign.rake: {_svy_message(exc)}") from None
        return self._derived(self, sample)

    def trim_weights(self, lower: float | None = None, upper: float | None = None
                     ) -> SurveyDesign:
        """A new design with weights capped to ``[lower, upper]``; the trimmed excess is
        redistributed over the other units so the weight total is kept (svy ``trim``)."""
        if lower is None and upper is None:
            raise CRMError("trim_weights: give lower, upper or both")
        if lower is not None and upper is not None and lower >= upper:
            raise CRMError(f"trim_weights: lower {lower} must be below upper {upper}")
        try:
            sample = self._sample.weighting.trim(upper=upper, lower=lower,
                                                 wgt_name="_crm_trim_wgt")
        except svy.SvyError as exc:
            raise CRMError(f"SurveyDesign.trim_weights: {_svy_message(exc)}") from None
        return self._derived(self, sample)


def _generalised_deff(p: np.ndarray, V: np.ndarray, nr: int, nc: int, N: int) -> np.ndarray:
    """Rao and Scott's (1984) matrix of generalised design effects ``Delta`` of the
    interaction contrasts of an ``nr`` x ``nc`` table (as R ``svychisq``)."""
    k = nr * nc
    rr = np.tile(np.arange(nr), nc)
    cc = np.repeat(np.arange(nc), nr)
    X1 = np.column_stack([np.ones(k)] + [(rr == i).astype(float) for i in range(1, nr)]
                         + [(cc == j).astype(float) for j in range(1, nc)])
    X12 = np.column_stack([((rr == i) & (cc == j)).astype(float)
                           for j in range(1, nc) for i in range(1, nr)])
    C = X12 - X1 @ np.linalg.lstsq(X1, X12, rcond=None)[0]
    inv = np.diag(np.where(p > 0, 1 / np.where(p > 0, p, 1), 0.0))
    denom = C.T @ (inv / N) @ C
    return np.linalg.solve(denom, C.T @ inv @ V @ inv @ C)


def _pearson_x2(p: np.ndarray, nr: int, nc: int, N: int) -> float:
    """Pearson's X^2 of the table of cell proportions ``p`` scaled to ``N``."""
    table = p.reshape(nc, nr).T
    expected = np.outer(table.sum(axis=1), table.sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(N * np.nansum((table - expected) ** 2 / expected))


def _rao_scott(x2: float, delta: np.ndarray, nu: float, n: int, statistic: str
               ) -> TestResult:
    """The first- or second-order Rao-Scott corrected test from X^2 and ``Delta``."""
    tr1 = float(np.trace(delta))
    tr2 = float(np.trace(delta @ delta))
    extra = {"pearson_x2": x2, "mean_deff": tr1 / delta.shape[0], "design_df": nu}
    if statistic == "F":
        d0 = tr1**2 / tr2
        f = x2 / tr1
        return TestResult(statistic=f, df=d0, p_value=float(stats.f.sf(f, d0, d0 * nu)),
                          test="Rao-Scott F (second-order)", n=n,
                          extra={"df_den": d0 * nu, **extra})
    dof = delta.shape[0]
    return TestResult(statistic=x2, df=float(dof),
                      p_value=float(stats.chi2.sf(x2 / (tr1 / dof), dof)),
                      test="Rao-Scott chi-square (first-order)", n=n, extra=extra)

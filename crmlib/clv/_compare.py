"""Which transaction model to use: fit and holdout accuracy side by side, and the choice.

The protocol is that of Fader, Hardie and Lee (2005): each model fitted to the calibration
period predicts the holdout, and the usable model with the smallest per-customer holdout
error is selected. The no-drop-out NBD (Ehrenberg 1959) is selected, deliberately and with a
warning, when the data show no measurable drop-out (:func:`crmlib.clv.dropout_test`).

References
----------
Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.

Ehrenberg, A. S. C. (1959). The pattern of consumer purchases. *Journal of the Royal
Statistical Society, Series C*, 8(1), 26-41.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlib.clv._dropout import DROPOUT_MODELS, dropout_test
from crmlib.defaults import ALPHA
from crmlib.errors import CRMError
from crmlib.results import TestResult
from crmlib.utils.validation import check_alpha, check_frame, check_scalar

__all__ = ["COMPARISON_COLUMNS", "ModelComparison", "compare_models", "refusal"]

COMPARISON_COLUMNS = ["model", "n", "k", "log_likelihood", "AIC", "BIC", "converged",
                      "reliable", "predicted_holdout", "actual_holdout", "error_pct", "mae",
                      "rmse", "excluded", "selected"]


@dataclass(frozen=True)
class ModelComparison:
    """The fitted models side by side, and the one to use (:func:`compare_models`).

    Attributes
    ----------
    table : DataFrame
        One row per model (indexed by its params name): ``model`` (label), ``n``, ``k``,
        ``log_likelihood``, ``AIC``, ``BIC``, ``converged``, ``reliable``,
        ``predicted_holdout``, ``actual_holdout``, ``error_pct``, ``mae``, ``rmse``,
        ``excluded`` (why it may not be selected, "" when it may) and ``selected``.
    selected : str or None
        Params name of the selected model; None when no model can be used.
    rule : str
        How it was selected.
    refused : str or None
        Why no model can be used for a valuation (None when one can).
    warning : str or None
        A caveat for every figure computed from the selected model (e.g. no measurable
        drop-out: the NBD is used).
    dropout_test : TestResult or None
        The likelihood-ratio test of drop-out against the NBD, when both were fitted.
    models : dict
        Params name -> fitted model (all of them, the NBD included).
    summary : DataFrame
        The calibration summary with its holdout columns.
    contractual : bool
        True for the renewals of a contractual unit (the sBG model).
    """

    table: pd.DataFrame
    selected: str | None
    rule: str
    refused: str | None = None
    warning: str | None = None
    dropout_test: TestResult | None = None
    models: dict[str, Any] = field(default_factory=dict)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    contractual: bool = False

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`table`."""
        return self.table.copy()

    @property
    def verdict(self) -> str:
        """The choice in one line: the refusal, the warning, or the selected model and rule."""
        return self.refused or self.warning or f"selected: {self.selected} ({self.rule})"

    @property
    def ranking(self) -> list[str]:
        """Usable model names in order of preference: the selected one, then the other
        usable models by holdout RMSE. Models flagged unusable (not converged, a parameter
        at or running towards a bound, no finite standard errors) are never listed."""
        c = self.table
        if self.selected is None or c.empty:
            return []
        ok = c[c["selected"] | (c["excluded"] == "")]
        order = ok.assign(_sel=~ok["selected"], _rmse=ok["rmse"].fillna(np.inf))
        return order.sort_values(["_sel", "_rmse"]).index.tolist()

    @property
    def shown(self) -> dict[str, Any]:
        """The models to show against the holdout: the usable ones and the selected one (the
        NBD only when it is selected)."""
        if self.selected is None:
            return {}
        return {k: m for k, m in self.models.items()
                if (k != "nbd" or self.selected == "nbd")
                and (bool(self.table.loc[k, "reliable"]) or k == self.selected)}

    def __str__(self) -> str:
        return f"{self.verdict}\n{self.table.to_string()}"

    def _repr_html_(self) -> str:
        from html import escape

        return f"<p><b>{escape(self.verdict)}</b></p>" + self.table.to_html()


def refusal(summary: pd.DataFrame, min_customers: int = 0) -> str | None:
    """Why the calibration customers cannot be modelled, in words, or None.

    Too few customers (``min_customers``, at least 2), none who bought again (a
    non-contractual summary) or nobody who churned (a contractual summary, one with a
    ``churned`` column).
    """
    check_scalar(min_customers, name="min_customers", kind=int, min_value=0)
    n, least = len(summary), max(int(min_customers), 2)
    if n < least:
        return (f"{n} customers who bought by the end of calibration, fewer than the minimum "
                f"of {least} (params clv.min_customers): the models are not fitted")
    if "churned" in summary.columns:
        if not summary["churned"].any():
            return (f"nobody churned among the {n} customers in the calibration period: the "
                    "churn probability cannot be estimated")
    elif not (summary["frequency"] > 0).any():
        return (f"none of the {n} customers bought again in the calibration period: no "
                "repeat purchase to estimate a purchase model from")
    return None


def _holdout_predictions(model: Any, summary: pd.DataFrame) -> np.ndarray:
    check_frame(summary, name="summary", required=["frequency_holdout", "duration_holdout"])
    horizon = float(summary["duration_holdout"].iloc[0])
    return np.asarray(model.expected_purchases(horizon, summary), dtype=float)


def _usable(m: Any) -> tuple[bool, str]:
    """Whether a fitted model may be used for predictions, and why not (in words)."""
    if getattr(m, "reliable_", getattr(m, "converged_", True)):
        return True, ""
    why = getattr(m, "reliability_reason_", None) or getattr(m, "convergence_message_", "")
    return False, f"not usable: {why or 'the fit did not converge'}"


def _short(m: Any, excluded: str) -> str:
    """A model's exclusion in a few words: the parameters at fault, or the reason."""
    params = list(getattr(m, "boundary_params_", []) or [])
    if params:
        shown = ", ".join(f"{p} = {float(m.params_[p]):.3g}" for p in params)
        return f"at or towards a bound, or not determined by the data ({shown})"
    return excluded


def _row(name: str, m: Any, summary: pd.DataFrame, actual: np.ndarray) -> dict[str, Any]:
    """One model's line of the comparison: in-sample fit and holdout accuracy."""
    pred = _holdout_predictions(m, summary)
    err = pred - actual
    ok, why = _usable(m)
    rmse = float(np.sqrt(np.mean(err**2)))
    if ok and not np.isfinite(rmse):
        why = "no finite holdout predictions"
    return {
        "name": name, "model": getattr(m, "_model_name", type(m).__name__), "n": m.n_,
        "k": len(m.params_), "log_likelihood": m.log_likelihood_, "AIC": m.AIC_,
        "BIC": m.BIC_, "converged": bool(m.converged_), "reliable": ok,
        "predicted_holdout": float(pred.sum()), "actual_holdout": float(actual.sum()),
        "error_pct": (100 * float(err.sum()) / float(actual.sum())
                      if actual.sum() > 0 else np.nan),
        "mae": float(np.mean(np.abs(err))), "rmse": rmse, "excluded": why,
    }


def _nbd_evidence(out: pd.DataFrame, pool: pd.DataFrame, test: TestResult | None,
                  nbd_ok: bool, failed: str, alpha: float) -> list[str]:
    """Why the data show no measurable drop-out: the test, the holdout, the bounds."""
    evidence = []
    if test is not None and test.p_value >= alpha:
        evidence.append(f"likelihood-ratio test of drop-out against the NBD p = "
                        f"{test.p_value:.2g}")
    if nbd_ok and not pool.empty and out.loc["nbd", "rmse"] <= pool["rmse"].min():
        evidence.append(f"the NBD predicts the holdout as well (RMSE "
                        f"{out.loc['nbd', 'rmse']:.4g} against {pool['rmse'].min():.4g})")
    if pool.empty and failed:
        evidence.insert(0, f"the drop-out models run to their bounds: {failed}")
    return evidence


def _no_usable(out: pd.DataFrame, everyone: dict[str, Any], models: dict[str, Any],
               test: TestResult | None, failed: str, alpha: float) -> str:
    """The refusal when no model can be used (``out`` marks the NBD's exclusion)."""
    nbd = everyone.get("nbd")
    if nbd is None:
        what = "retention" if set(models) == {"sbg"} else "purchase"
        return f"no {what} model can be used: {failed}"
    if out.loc["nbd", "excluded"]:
        nbd_why = _short(nbd, out.loc["nbd", "excluded"])
        if test is not None and test.p_value >= alpha:
            return (f"no measurable drop-out ({failed}) and the no-drop-out NBD is not "
                    f"usable either ({nbd_why}; purchase rates may not differ between "
                    "customers): not valued")
        return f"no purchase model can be used: {failed}; the no-drop-out NBD: {nbd_why}"
    out.loc["nbd", "excluded"] = "the data show drop-out"
    return (f"the drop-out models cannot be used ({failed}) although the data show "
            f"drop-out (likelihood-ratio test against the NBD: p = {test.p_value:.2g}): "
            "not valued")


def _select(out: pd.DataFrame, everyone: dict[str, Any], models: dict[str, Any],
            test: TestResult | None, alpha: float) -> tuple[str | None, str, Any, Any]:
    """(selected, rule, refused, warning); marks the exclusions in ``out``."""
    pool = out[(out["excluded"] == "") & (out.index != "nbd")]
    nbd_ok = "nbd" in everyone and not out.loc["nbd", "excluded"]
    failed = "; ".join(f"{out.loc[n, 'model']} {_short(everyone[n], out.loc[n, 'excluded'])}"
                       for n in out.index if n != "nbd" and out.loc[n, "excluded"])
    evidence = _nbd_evidence(out, pool, test, nbd_ok, failed, alpha)
    if nbd_ok and (evidence if not pool.empty else (test is None or test.p_value >= alpha)):
        for n in pool.index:
            out.loc[n, "excluded"] = "no measurable drop-out: the NBD is used"
        return ("nbd", "no measurable drop-out, so the NBD (no drop-out; Ehrenberg 1959) is "
                "used deliberately", None,
                f"no measurable drop-out ({'; '.join(evidence)}): valued with the NBD "
                "(no-churn) model")
    if not pool.empty:
        if "nbd" in everyone:
            out.loc["nbd", "excluded"] = (out.loc["nbd", "excluded"] or
                                          "the data show drop-out: a drop-out model is used")
        return (str(pool["rmse"].idxmin()), "smallest per-customer holdout RMSE among the "
                "usable models (converged, no parameter at or running towards a bound, finite "
                "standard errors)", None, None)
    return None, "no usable model", _no_usable(out, everyone, models, test, failed,
                                               alpha), None


def _refused(summary: pd.DataFrame, reason: str) -> ModelComparison:
    """A comparison without models: an empty table, and why."""
    return ModelComparison(table=pd.DataFrame(columns=COMPARISON_COLUMNS), selected=None,
                           rule="no model fitted", refused=reason, summary=summary,
                           contractual="churned" in summary.columns)


def compare_models(
    models: dict[str, Any], summary: pd.DataFrame, *, nbd: Any = None, alpha: float = ALPHA,
    min_customers: int = 0,
) -> ModelComparison:
    """Fit and holdout accuracy of fitted transaction models, and the model to use.

    Parameters
    ----------
    models : dict
        Params name -> fitted model (:func:`crmlib.clv.fit_models`); ``"nbd"`` is the
        no-drop-out NBD fitted to the same customers.
    summary : DataFrame
        The calibration summary with its holdout columns (:func:`crmlib.clv.summarise`).
    nbd : NBDModel, optional
        The NBD, when not among ``models``: selected, with a warning, when the data show no
        measurable drop-out (:func:`crmlib.clv.dropout_test` at ``alpha``, or the holdout).
    alpha, min_customers
        Level of the drop-out test; without models, the refusal's minimum (:func:`refusal`).

    Returns
    -------
    ModelComparison
        One row per model; the usable one with the smallest per-customer holdout RMSE is
        selected (unless the NBD is), with the rule, refusal or warning and drop-out test.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy
    way: an alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import example_orders
    >>> s = clv.summarise(example_orders(), calibration_end="2024-06-30",
    ...                   observation_end="2024-12-31")
    >>> comparison = clv.compare_models(clv.fit_models(s, ["bg_nbd"]), s)
    >>> comparison.selected, list(comparison.table.index)
    ('bg_nbd', ['bg_nbd', 'nbd'])
    """
    alpha = check_alpha(alpha)
    everyone = dict(models) if nbd is None else {**models, "nbd": nbd}
    drop_models = {k: m for k, m in everyone.items() if k != "nbd"}
    if not everyone:
        reason = refusal(summary, min_customers)
        if reason is None:
            raise CRMError("models: no fitted model to compare")
        return _refused(summary, reason)
    actual = summary["frequency_holdout"].to_numpy(float) if len(summary) else np.array([])
    out = pd.DataFrame([_row(n, m, summary, actual) for n, m in everyone.items()]
                       ).set_index("name")
    test = None
    if "nbd" in everyone and any(n in DROPOUT_MODELS for n in drop_models):
        test = dropout_test(drop_models, everyone["nbd"])
    best, rule, refused, warning = _select(out, everyone, drop_models, test, alpha)
    out["selected"] = out.index == best
    return ModelComparison(table=out, selected=best, rule=rule, refused=refused,
                           warning=warning, dropout_test=test, models=everyone,
                           summary=summary, contractual="churned" in summary.columns)

"""The survey figures a notebook records (:func:`headline`), each a
:class:`crmlib.results.Metric` with its interval, n, status and reason.

Reliability rules, each figure on its own:

* fewer than ``min_n`` answers: ``not available`` ("3 nps answers, fewer than the minimum of
  30"); the raked figures also warn when the Kish (1965) effective size is below ``min_n``,
  and are ``not available`` when the responses could not be weighted;
* every answer in one NPS group (NPS 100: "every answer is a promoter"), a share of exactly 0
  or 1: ``warning`` (the interval is then a score interval that keeps its width); a mean of
  identical answers: ``warning`` without an interval;
* ``top_driver_importance`` only when one driver's bootstrap rank interval alone includes 1
  (a tie for first is ``not available`` with the finding in words);
* a figure whose computation fails on the data (a ``CRMError``) is ``not available`` with
  the message; the others are still returned.

Each figure's ``definition`` gives ``weighting``, ``population`` and ``period`` (the years of
the answers), so the scorecard compares like with like.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlib.defaults import ALPHA, NPS_BOOTSTRAP, NPS_METHOD, SURVEY_MIN_N
from crmlib.errors import CRMError
from crmlib.results import Metric
from crmlib.survey._common import LABELS, METRICS, RAKED, UNWEIGHTED, empty_reason
from crmlib.survey._drivers import KeyDriverModel
from crmlib.survey._findings import finding_of, top_drivers
from crmlib.survey._nonresponse import response_rates
from crmlib.survey._scales import item_reliability
from crmlib.survey._scores import ces, csat, kish_n, nps, nps_degenerate
from crmlib.survey._weighting import WeightedResponses, raked_estimate
from crmlib.utils.figures import figure

#: failures of one headline figure on valid data that must not take the others with it
_FIGURE_ERRORS = (CRMError, np.linalg.LinAlgError)
_UNITS = {"nps": "points", "csat_top2": "share", "csat_mean": "points (1-5)",
          "ces_mean": "points (1-7)"}


def _figure(name: str, description: str, definition: dict[str, Any] | None, *,
            value: Any = None, reason: str | None = None, warnings: Sequence[str] = (),
            **kw: Any) -> Metric:
    """One headline figure: ``not available`` when ``value`` is None (``reason`` says why,
    and is the note), ``warning`` when ``warnings`` has any, else ``ok``."""
    if value is None or not math.isfinite(float(value)):
        kw = {k: v for k, v in kw.items() if k in ("n", "unit")}
        return figure(name, None, description=description, definition=definition,
                      note=reason, reason=reason, **kw)
    return figure(name, value, description=description, definition=definition,
                  warnings=list(warnings), **kw)


def _answer_period(frame: pd.DataFrame) -> str | None:
    """The calendar years of the answers, e.g. ``"answers 2022 to 2024"`` (to the year, so
    that surveys run over the same years compare)."""
    if frame.empty or "answered_at" not in frame.columns:
        return None
    dates = pd.to_datetime(frame["answered_at"]).dropna()
    if dates.empty:
        return None
    first, last = dates.min().year, dates.max().year
    return f"answers {first}" if first == last else f"answers {first} to {last}"


def _few(n: int, min_n: int, what: str = "answers") -> str | None:
    return f"{n} {what}, fewer than the minimum of {min_n}" if n < min_n else None


def _share_warning(value: float, n: int, all_text: str, none_text: str) -> list[str]:
    if value >= 1.0:
        return [f"{all_text} (share exactly 1 of {n})"]
    if value <= 0.0:
        return [f"{none_text} (share exactly 0 of {n})"]
    return []


def _unweighted(metric: str, y: pd.Series, *, nps_method: str, alpha: float, min_n: int,
                n_boot: int, random_state: Any) -> dict[str, Any]:
    """The respondents' own estimate of one metric (as :func:`nps`, :func:`csat`,
    :func:`ces`)."""
    if metric == "nps":
        est = nps(y, method=nps_method, alpha=alpha, min_n=min_n, n_boot=n_boot,
                  random_state=random_state)
    elif metric == "csat_top2":
        est = csat(y, metric="top2", alpha=alpha, min_n=min_n)
    elif metric == "csat_mean":
        est = csat(y, metric="mean", alpha=alpha, min_n=min_n)
    else:
        est = ces(y, metric="mean", alpha=alpha, min_n=min_n)
    return {"estimate": est.value, "se": est.se, "ci_low": est.ci_low,
            "ci_high": est.ci_high, "n": est.n}


def _raked(metric: str, y: pd.Series, weighted: WeightedResponses, *, alpha: float,
           min_n: int) -> tuple[dict[str, Any], list[str]]:
    """The raked estimate and its warnings (small effective n, margins left out)."""
    row = raked_estimate(weighted, metric, alpha=alpha, min_n=min_n)
    n_eff = kish_n(weighted.frame.loc[y.index, "weight"].to_numpy(dtype=float), len(y))
    warnings_ = []
    if n_eff < min_n:
        warnings_.append(f"effective sample size after weighting {n_eff:.0f}, below the "
                         f"minimum of {min_n}")
    return row, warnings_ + list(weighted.skipped.values())


def _degenerate(metric: str, y: pd.Series, row: dict[str, Any]) -> list[str]:
    """Warnings of a score whose answers all fall in one group or do not vary; a share of
    0 or 1 loses its SE and a mean of identical answers its interval (in ``row``)."""
    n = len(y)
    if metric == "nps":
        counts = y.to_numpy()
        degenerate = nps_degenerate(float((counts >= 9).mean()), float((counts <= 6).mean()))
        return [degenerate] if degenerate else []
    if metric == "csat_top2":
        share = _share_warning(float((y >= 4).mean()), n, "every answer is 4 or 5",
                               "no answer is 4 or 5")
        if share:  # the Wald SE is 0; the Wilson interval keeps its width
            row["se"] = None
        return share
    if y.nunique() == 1:
        row.update(estimate=float(y.iloc[0]), se=None, ci_low=None, ci_high=None)
        return [f"every one of the {n} answers is {y.iloc[0]:g}: no spread, no interval"]
    return []


def _score_figure(name: str, metric: str, weighted: WeightedResponses, *, raked: bool,
                  definition: dict[str, Any], alpha: float, min_n: int, **kw: Any) -> Metric:
    """A raked or unweighted NPS / CSAT / CES headline figure (see :func:`headline`)."""
    frame = weighted.frame
    column = METRICS[metric][0]
    label = f"{LABELS[metric]}, {RAKED if raked else UNWEIGHTED}"
    unit = _UNITS[metric]
    if frame.empty:
        return _figure(name, label, definition, reason=empty_reason(frame), unit=unit)
    if column not in frame.columns or frame[column].isna().all():
        return _figure(name, label, definition, reason=f"the survey has no {column} answers",
                       unit=unit)
    y = frame[column].dropna()
    if (few := _few(len(y), min_n, f"{column} answers")) is not None:
        return _figure(name, label, definition, n=len(y), reason=few, unit=unit)
    warnings_: list[str] = []
    if raked and weighted.design is None:
        return _figure(name, label, definition, n=len(y), unit=unit,
                       reason=f"{weighted.note}: see the unweighted figure")
    if raked:
        row, warnings_ = _raked(metric, y, weighted, alpha=alpha, min_n=min_n)
    else:
        row = _unweighted(metric, y, alpha=alpha, min_n=min_n, **kw)
    warnings_ += _degenerate(metric, y, row)
    return _figure(name, label, definition, value=row["estimate"], se=row["se"],
                   ci_low=row["ci_low"], ci_high=row["ci_high"], n=row["n"], unit=unit,
                   warnings=warnings_)


def _response_rate_figure(weighted: WeightedResponses, customers: pd.DataFrame, *,
                          alpha: float, min_n: int, definition: dict[str, Any]) -> Metric:
    label = "share of customers who answered the survey"
    frame = weighted.frame
    if frame.empty:
        return _figure("survey_response_rate", label, definition, unit="share",
                       reason=empty_reason(frame))
    r = response_rates(customers, frame[["customer_id"]], alpha=alpha).iloc[0]
    n = int(r.customers)
    se = math.sqrt(r.estimate * (1 - r.estimate) / n) if 0 < r.estimate < 1 else None
    warnings_ = _share_warning(float(r.estimate), n, "every customer answered",
                               "no customer answered")
    if (few := _few(n, min_n, "customers")) is not None:
        warnings_.append(few)
    return _figure("survey_response_rate", label, definition, unit="share",
                   value=r.estimate, se=se, ci_low=r.ci_low, ci_high=r.ci_high, n=n,
                   warnings=warnings_)


def _alpha_figure(frame: pd.DataFrame, *, alpha: float, min_n: int,
                  definition: dict[str, Any]) -> Metric:
    label = "Cronbach's alpha of the q_* items (Feldt interval)"
    est, note = item_reliability(frame, alpha=alpha)
    if est is None:
        return _figure("cronbach_alpha", label, definition, reason=note)
    if (few := _few(est.n, min_n, "complete answers")) is not None:
        return _figure("cronbach_alpha", label, definition, n=est.n, reason=few)
    warnings_ = [note.split("; ", 1)[1]] if "; " in note else []
    return _figure("cronbach_alpha", label, definition, value=est.value, se=est.se,
                   ci_low=est.ci_low, ci_high=est.ci_high, n=est.n, warnings=warnings_)


def _driver_figure(table: pd.DataFrame, *, n: int, target: str, alpha: float,
                   reason: str | None, min_n: int, definition: dict[str, Any]) -> Metric:
    """The top driver's share of R-squared from a key-driver table
    (:meth:`KeyDriverModel.summary`), only when one driver alone may rank first."""
    label = "the top driver's share of the R-squared of the NPS answer"
    unit = "share of R-squared"
    if table.empty:
        return _figure("top_driver_importance", label, definition, unit=unit,
                       reason=reason or "no key drivers")
    if (few := _few(n, min_n, "complete answers")) is not None:
        return _figure("top_driver_importance", label, definition, n=n, reason=few, unit=unit)
    first = top_drivers(table)
    finding = finding_of(table, target=target, alpha=alpha)
    if len(first) > 1:
        return _figure("top_driver_importance", label, definition, n=n, reason=finding,
                       unit=unit)
    r = table.set_index("driver").loc[first[0]]
    warnings_ = [finding] if "rank_ci_low" not in table.columns else []
    return _figure("top_driver_importance", f"{label}: {first[0]}", definition,
                   value=r.importance, ci_low=r.ci_low, ci_high=r.ci_high, n=n,
                   note=f"top driver: {first[0]}", warnings=warnings_, unit=unit)


def _builders(weighted: WeightedResponses, customers: pd.DataFrame,
              drivers: KeyDriverModel | None, *, alpha: float, min_n: int, **kw: Any
              ) -> list[tuple[str, str, Callable[[], Metric]]]:
    """``(name, what, build)`` of each headline figure, in the order recorded."""
    period = _answer_period(weighted.frame)
    raked_def = {"weighting": weighted.weighting if weighted.design is not None else RAKED,
                 "population": "customers (respondents raked to the customer base)",
                 "period": period}
    plain_def = {"weighting": UNWEIGHTED, "population": "survey respondents",
                 "period": period}
    score = dict(alpha=alpha, min_n=min_n, **kw)

    def scored(name: str, metric: str, raked: bool) -> Callable[[], Metric]:
        return lambda: _score_figure(name, metric, weighted, raked=raked,
                                     definition=raked_def if raked else plain_def, **score)

    out: list[tuple[str, str, Callable[[], Metric]]] = [
        ("nps", "NPS", scored("nps", "nps", True)),
        ("nps_unweighted", "NPS", scored("nps_unweighted", "nps", False)),
        ("csat", "CSAT", scored("csat", "csat_top2", True)),
        ("csat_mean", "CSAT", scored("csat_mean", "csat_mean", True)),
        ("ces", "CES", scored("ces", "ces_mean", True)),
        ("survey_response_rate", "response rate", lambda: _response_rate_figure(
            weighted, customers, alpha=alpha, min_n=min_n,
            definition={"population": "customers", "weighting": "unweighted",
                        "period": period})),
        ("cronbach_alpha", "reliability", lambda: _alpha_figure(
            weighted.frame, alpha=alpha, min_n=min_n, definition=plain_def)),
    ]
    if drivers is not None:
        out.append(("top_driver_importance", "key drivers", lambda: _driver_figure(
            drivers.summary(), n=int(drivers.n_), target=drivers.target_,
            alpha=drivers._alpha(), reason=drivers.reason_, min_n=min_n,
            definition={**plain_def, "method": drivers.method})))
    return out


def headline(
    weighted: WeightedResponses,
    customers: pd.DataFrame,
    *,
    nps_method: str = NPS_METHOD,
    alpha: float = ALPHA,
    min_n: int = SURVEY_MIN_N,
    n_boot: int = NPS_BOOTSTRAP,
    random_state: Any = None,
    drivers: KeyDriverModel | None = None,
) -> list[Metric]:
    """The survey figures a notebook records (reliability rules in the module docstring):
    ``nps`` raked to the population margins (:func:`raked_estimate`), ``nps_unweighted``
    the respondents' own (:func:`nps`), the raked ``csat`` (top-two-box), ``csat_mean`` and
    ``ces``, ``survey_response_rate`` (Wilson), ``cronbach_alpha`` (Feldt) and, with a
    fitted ``drivers`` model, ``top_driver_importance``.

    Parameters
    ----------
    weighted : WeightedResponses
        From :func:`weight_responses`; ``customers`` the base, for the response rate.
    nps_method, n_boot, random_state, alpha, min_n
        The unweighted NPS interval (:func:`nps`), every level, the minimum of answers.
    drivers : KeyDriverModel, optional
        A fitted key-driver model of the NPS answer.

    Returns
    -------
    list of Metric
        In the order above; :func:`crmlib.report.record_all` records them.

    References
    ----------
    Reichheld, F. F. (2003). The one number you need to grow. *Harvard Business Review*
    81(12), 46-54.
    Kish, L. (1965). *Survey Sampling*. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmlib.survey import population_margins, weight_responses
    >>> customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(40)],
    ...                           "channel": ["web", "shop"] * 20})
    >>> answers = customers.iloc[:32].assign(
    ...     nps=[10, 9, 7, 3] * 8, csat=[5, 4, 3, 2] * 8, ces=[6, 5, 3, 2] * 8,
    ...     answered_at=pd.Timestamp("2024-05-01"))
    >>> weighted = weight_responses(answers, population_margins(customers))
    >>> figures = headline(weighted, customers, min_n=20)
    >>> [(m.name, round(m.value, 2), m.status) for m in figures[:2]]
    [('nps', 25.0, 'ok'), ('nps_unweighted', 25.0, 'ok')]
    """
    kw = dict(nps_method=nps_method, n_boot=n_boot, random_state=random_state)
    figures = []
    for name, what, build in _builders(weighted, customers, drivers, alpha=alpha,
                                       min_n=min_n, **kw):
        try:
            figures.append(build())
        except _FIGURE_ERRORS as exc:
            figures.append(_figure(name, what, None, reason=f"could not be computed: {exc}"))
    return figures

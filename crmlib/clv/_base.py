"""Maximum-likelihood machinery shared by every model of :mod:`crmlib.clv`.

A model declares its parameter names, how to turn a summary frame into arrays, a starting
point, and its weighted log-likelihood with the gradient in the natural parameters. This base
then

* collapses rows with identical sufficient statistics (``_stat_keys``) into one weighted row
  before fitting: the likelihood is a weighted sum over rows, so this changes nothing but the
  order of a floating-point sum, and cuts the work per evaluation by the ratio of rows to
  distinct rows (large on daily or weekly time grids, where most customers share theirs);
* maximises the likelihood over the log-parameters (all BTYD parameters are positive) with
  BFGS and the analytic gradient, the mean log-likelihood per customer as objective (falling
  back to L-BFGS-B with bounds at 1e-8 and 1e8 when BFGS fails or heads for a bound);
* computes the observed information (the Hessian of minus the log-likelihood) by central
  differences of the analytic gradient in log-parameters (2p gradient evaluations), inverts
  it, and maps it to the natural parameters by the delta method (``cov = D cov_log D`` with
  ``D = diag(theta)``);
* reports Wald intervals on the log scale, ``exp(log theta +- z se_log)``, which stay positive
  and are the natural parameters' delta-method intervals to first order;
* checks convergence: the optimiser's own flag, a small gradient, no parameter within reach
  of its bound (``1e-8`` or ``1e8``), and a positive definite information matrix. Failing any
  of these sets ``converged_ = False`` and warns :class:`~crmlib.errors.ConvergenceWarning`;
* checks that the fit can be used (``reliable_``, ``reliability_reason_``): besides
  converging, no parameter runs towards a bound (a shape parameter beyond 1e5 or below 1e-5,
  where the model collapses to a simpler one, e.g. the BG/NBD to the NBD as its drop-out
  probability goes to 0) and every parameter has a finite standard error with a log-scale
  interval narrower than a factor of about 1e8 (``se(log theta) <= 5``). The parameters at
  fault are ``boundary_params_``. See :func:`fit_problems`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlib._lazy import lazy_module
from crmlib.base import Estimator
from crmlib.clv._summary import group_rows
from crmlib.defaults import ALPHA
from crmlib.errors import ConvergenceWarning, CRMError
from crmlib.intervals import z_value
from crmlib.utils.validation import check_frame, check_is_fitted, check_numeric

if TYPE_CHECKING:
    from scipy import optimize
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    optimize = lazy_module("scipy.optimize")

__all__ = ["_MLEModel", "blocks", "fit_problems", "softplus"]

#: rows per block of a likelihood evaluation: temporaries of 64 KB are served from the
#: allocator's free lists and stay in cache, where whole-column temporaries (8 MB at 1e6
#: rows) are fresh memory mappings, page-faulted on every evaluation
_CHUNK = 8192


def blocks(n: int) -> list[slice]:
    """Slices of at most ``_CHUNK`` consecutive rows covering ``range(n)``."""
    return [slice(i, min(i + _CHUNK, n)) for i in range(0, n, _CHUNK)]


def softplus(v: np.ndarray) -> np.ndarray:
    """``log(1 + exp(v))`` without overflow (as ``np.logaddexp(0, v)``, several times faster)."""
    return np.maximum(v, 0.0) + np.log1p(np.exp(-np.abs(v)))

_LOG_BOUND = np.log(1e8)
_BOUND_MARGIN = 1e-2
#: a shape parameter beyond 1e5 or below 1e-5 runs towards a bound of its space
_LOG_DRIFT = np.log(1e5)
#: largest standard error of a log-parameter of a usable fit (interval factor e^(2 z 5))
_MAX_SE_LOG = 5.0


def fit_problems(model: Any) -> tuple[list[str], list[str]]:
    """Why a fitted model cannot be used, in words, and the parameters at fault.

    A fit is unusable when it did not converge (``converged_`` False), when a parameter sits
    at the optimiser's bound (1e-8 or 1e8) or runs towards it (a shape parameter, i.e. not
    one of the model's ``_scale_params`` measured in time or money units, beyond 1e5 or
    below 1e-5: there the model collapses to a limiting case, such as the BG/NBD to the NBD
    when the drop-out probability goes to 0, and the likelihood is flat along the way), or
    when a parameter has no finite standard error or one so large (``se(log theta) > 5``)
    that its interval runs from about zero to infinity.

    Returns
    -------
    (problems, params) : tuple of lists
        Sentences a reader understands (empty for a usable fit) and the names of the
        parameters at or towards a bound or without a finite standard error.
    """
    theta = model.params_.to_numpy(dtype=float)
    names = list(model.params_.index)
    u = np.log(np.clip(theta, 1e-300, None))
    cov = np.asarray(getattr(model, "_cov_log", np.full((len(u), len(u)), np.nan)), float)
    se_log = np.sqrt(np.abs(np.diag(cov))) if cov.size else np.full(len(u), np.nan)
    scale = set(getattr(model, "_scale_params", ()))
    bound, drift, wide = [], [], []
    for name, v, s in zip(names, u, se_log, strict=True):
        if abs(v) > _LOG_BOUND - _BOUND_MARGIN:
            bound.append(f"{name} = {np.exp(v):.3g}")
        elif name not in scale and abs(v) > _LOG_DRIFT:
            drift.append(f"{name} = {np.exp(v):.3g}")
        elif not np.isfinite(s) or s > _MAX_SE_LOG:
            wide.append(name)
    problems = []
    if bound:
        problems.append(f"{', '.join(bound)} at the bound of the parameter space")
    if drift:
        problems.append(f"{', '.join(drift)} running towards a bound (the model collapses "
                        "to a simpler one)")
    if wide:
        problems.append(f"no finite interval for {', '.join(wide)} (the data do not "
                        "determine it)")
    if not getattr(model, "converged_", True) and not (bound or drift):
        problems.append(f"the optimiser did not converge ({model.convergence_message_})")
    at_fault = [n.split(" = ")[0] for n in bound + drift] + wide
    return problems, at_fault


class _MLEModel(Estimator):
    """Base of the CLV models: fit, inference and summary (not public)."""

    _parameters: tuple[str, ...] = ()
    _model_name: str = ""
    #: parameters measured in time or money units (their size depends on the units)
    _scale_params: tuple[str, ...] = ()
    #: data keys holding a row's sufficient statistics; rows equal on all of them are merged
    _stat_keys: tuple[str, ...] = ()

    def __init__(
        self, *, alpha: float = ALPHA, initial_params: dict[str, float] | None = None,
        max_iter: int = 2000,
    ) -> None:
        self.alpha = alpha
        self.initial_params = initial_params
        self.max_iter = max_iter

    # --- to be provided by each model ---------------------------------------------------
    def _loglik(
        self, theta: np.ndarray, data: dict[str, np.ndarray], w: np.ndarray, grad: bool
    ) -> tuple[float, np.ndarray | None]:
        """Weighted log-likelihood sum and (when ``grad``) its gradient in ``theta``."""
        raise NotImplementedError

    def _start(self, data: dict[str, np.ndarray], w: np.ndarray) -> np.ndarray:
        return np.ones(len(self._parameters))

    # --- shared machinery ---------------------------------------------------------------
    def _check_hyper(self) -> None:
        if self.initial_params is not None:
            if not isinstance(self.initial_params, dict) or set(self.initial_params) != set(
                self._parameters
            ):
                raise CRMError(
                    f"initial_params: expected a dict with keys {list(self._parameters)}, "
                    f"got {self.initial_params!r}"
                )
            check_numeric(list(self.initial_params.values()), name="initial_params",
                          min_value=1e-8)
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int) or (
            self.max_iter < 1
        ):
            raise CRMError(f"max_iter: expected a positive int, got {self.max_iter!r}")

    @staticmethod
    def _weights(frame: pd.DataFrame, weights_col: str | None) -> np.ndarray:
        if weights_col is None:
            return np.ones(len(frame))
        check_frame(frame, name="summary", required=[weights_col])
        return check_numeric(frame[weights_col], name=f"summary.{weights_col}", min_value=0)

    def _objective(
        self, data: dict[str, np.ndarray], w: np.ndarray, scale: float
    ) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
        def fun(u: np.ndarray) -> tuple[float, np.ndarray]:
            theta = np.exp(u)
            with np.errstate(all="ignore"):
                ll, g = self._loglik(theta, data, w, True)
            if not np.isfinite(ll) or g is None or not np.all(np.isfinite(g)):
                return np.inf, np.zeros_like(u)
            return -ll / scale, -(g * theta) / scale

        return fun

    def _grad_u(self, u: np.ndarray, data: dict[str, np.ndarray], w: np.ndarray) -> np.ndarray:
        theta = np.exp(u)
        _, g = self._loglik(theta, data, w, True)
        return g * theta

    def _information_u(
        self, u: np.ndarray, data: dict[str, np.ndarray], w: np.ndarray
    ) -> np.ndarray:
        """Observed information in log-parameters: central differences of the analytic
        gradient (2p gradient evaluations, accurate to about the square of the step)."""
        k = len(u)
        hess = np.empty((k, k))
        for i in range(k):
            h = 1e-5 * max(1.0, abs(u[i]))
            e = np.zeros(k)
            e[i] = h
            hess[i] = -(self._grad_u(u + e, data, w) - self._grad_u(u - e, data, w)) / (2 * h)
        return (hess + hess.T) / 2

    def _compress_rows(
        self, data: dict[str, np.ndarray], w: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Merge rows equal on ``_stat_keys`` into one row weighted by their total weight.

        Rows are grouped by hashing (:func:`crmlib.clv._summary.group_rows`, no sort); the
        result is used only when it removes at least a fifth of the rows.
        """
        keys = [k for k in self._stat_keys if k in data]
        n = len(w)
        if not keys or n < 1000:
            return data, w
        codes, first = group_rows([data[k] for k in keys], max_groups=int(0.8 * n))
        if codes is None:
            return data, w
        w_c = np.bincount(codes, weights=w, minlength=len(first))
        # derived arrays (keys starting with "_", e.g. distinct values) are rebuilt lazily
        return {k: v[first] for k, v in data.items() if not k.startswith("_")}, w_c

    def _fit_arrays(
        self, data: dict[str, np.ndarray], w: np.ndarray, *, n_rows: int | None = None
    ) -> _MLEModel:
        """Fit to arrays; ``n_rows`` given means they are already compressed from that many."""
        self._check_hyper()
        if n_rows is None:
            n_rows = len(w)
            data, w = self._compress_rows(data, w)
        n_obs = float(w.sum())
        if n_obs <= 0:
            raise CRMError(f"{type(self).__name__}.fit: no customers to fit (total weight 0)")
        if self.initial_params is not None:
            start = np.array([self.initial_params[k] for k in self._parameters], dtype=float)
        else:
            start = self._start(data, w)
        res = self._optimise(self._objective(data, w, n_obs), np.log(start))
        u = np.asarray(res.x, dtype=float)
        hess = self._information_u(u, data, w)
        problems, cov_u = self._convergence(res, u, hess, data, w, n_obs)
        self._store(u, cov_u, data, w, n_obs, n_rows, int(getattr(res, "nit", 0)))
        self._judge(problems)
        return self

    def _optimise(self, fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
                  u0: np.ndarray) -> Any:
        """Minimise ``fun`` over the log-parameters from ``u0``.

        BFGS first: in log-parameters an interior optimum needs no bounds, and its
        per-iteration overhead is a tenth of L-BFGS-B's (which matters once an evaluation
        costs about a millisecond); L-BFGS-B with the bounds when BFGS fails or wanders
        towards a bound (a parameter running off to 0 or infinity); a last BFGS attempt from
        the end point when that fails too.
        """
        u0 = np.clip(u0, -_LOG_BOUND + 1, _LOG_BOUND - 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = optimize.minimize(fun, u0, jac=True, method="BFGS",
                                    options={"maxiter": self.max_iter, "gtol": 1e-8})
        ok = (np.isfinite(res.fun) and np.all(np.abs(res.x) < _LOG_BOUND - 1)
              and np.max(np.abs(res.jac)) < 1e-6)
        if not ok:
            bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(self._parameters)
            res = optimize.minimize(
                fun, u0, jac=True, method="L-BFGS-B", bounds=bounds,
                options={"maxiter": self.max_iter, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 20},
            )
        if not res.success or not np.isfinite(res.fun):
            alt = optimize.minimize(fun, np.clip(res.x, -_LOG_BOUND, _LOG_BOUND), jac=True,
                                    method="BFGS", options={"maxiter": self.max_iter,
                                                            "gtol": 1e-8})
            if np.isfinite(alt.fun) and alt.fun <= res.fun:
                res = alt
        return res

    def _convergence(self, res: Any, u: np.ndarray, hess: np.ndarray,
                     data: dict[str, np.ndarray], w: np.ndarray,
                     n_obs: float) -> tuple[list[str], np.ndarray]:
        """The convergence problems of the optimum ``u`` and the covariance of log-params."""
        theta = np.exp(u)
        _, grad = self._loglik(theta, data, w, True)
        grad = grad * theta
        problems = []
        at_bound = [n for n, v in zip(self._parameters, u, strict=True)
                    if abs(v) > _LOG_BOUND - _BOUND_MARGIN]
        if at_bound:
            problems.append(f"parameter(s) {at_bound} at the bound (1e-8 or 1e8)")
        if not np.all(np.isfinite(grad)) or np.max(np.abs(grad)) / n_obs > 1e-5:
            # the optimiser's own flag is reported only when the gradient confirms a failure:
            # "precision loss" at an optimum that is as good as floating point allows is fine
            problems.append(
                f"optimiser: {res.message}; gradient not zero "
                f"(max |g|/n = {np.max(np.abs(grad)) / n_obs:.2g})"
            )
        try:
            np.linalg.cholesky(hess)
            cov_u = np.linalg.inv(hess)
        except np.linalg.LinAlgError:
            problems.append("information matrix not positive definite")
            cov_u = np.full((len(u), len(u)), np.nan)
        return problems, cov_u

    def _store(self, u: np.ndarray, cov_u: np.ndarray, data: dict[str, np.ndarray],
               w: np.ndarray, n_obs: float, n_rows: int, n_iter: int) -> None:
        """Set the fitted attributes: estimates, covariance (delta method), fit statistics."""
        theta = np.exp(u)
        ll, _ = self._loglik(theta, data, w, True)
        names = list(self._parameters)
        jac = np.diag(theta)
        self.params_ = pd.Series(theta, index=names, name="estimate")
        self.cov_params_ = pd.DataFrame(jac @ cov_u @ jac, index=names, columns=names)
        self.bse_ = pd.Series(np.sqrt(np.diag(self.cov_params_.to_numpy())), index=names,
                              name="se")
        self._cov_log = cov_u
        self.log_likelihood_ = float(ll)
        self.n_ = round(n_obs) if abs(n_obs - round(n_obs)) < 1e-9 else n_obs
        self.n_rows_ = n_rows
        self.n_iter_ = n_iter
        self.AIC_ = -2 * self.log_likelihood_ + 2 * len(names)
        self.BIC_ = -2 * self.log_likelihood_ + np.log(self.n_) * len(names)

    def _judge(self, problems: list[str]) -> None:
        """Set ``converged_`` and ``reliable_`` with their reasons, and warn when either fails."""
        self.converged_ = not problems
        self.convergence_message_ = "; ".join(problems) if problems else "converged"
        if problems:
            warnings.warn(
                f"{type(self).__name__}: did not converge: {self.convergence_message_}",
                ConvergenceWarning, stacklevel=4,
            )
        unusable, self.boundary_params_ = fit_problems(self)
        self.reliable_ = not unusable
        self.reliability_reason_ = "; ".join(unusable) if unusable else "usable"
        if unusable and not problems:
            warnings.warn(
                f"{type(self).__name__}: fit not usable: {self.reliability_reason_}",
                ConvergenceWarning, stacklevel=4,
            )

    # --- inference ----------------------------------------------------------------------
    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Wald intervals on the log scale, ``exp(log theta +- z se(log theta))``.

        Parameters
        ----------
        alpha : float, optional
            Level of the intervals (``1 - alpha``); the constructor's ``alpha`` by default.

        Returns
        -------
        DataFrame
            Indexed by parameter, columns ``ci_low`` and ``ci_high``.
        """
        self._check_fitted(["params_"])
        z = z_value(self._alpha(alpha))
        se_log = np.sqrt(np.diag(self._cov_log))
        logt = np.log(self.params_.to_numpy())
        return pd.DataFrame(
            {"ci_low": np.exp(logt - z * se_log), "ci_high": np.exp(logt + z * se_log)},
            index=self.params_.index,
        )

    def summary(self, alpha: float | None = None) -> pd.DataFrame:
        """One row per parameter: estimate, se (delta method) and the ``1 - alpha`` interval.

        The model-level facts are fitted attributes: ``n_`` (customers, the sum of the
        weights), ``n_rows_``, ``log_likelihood_``, ``AIC_``, ``BIC_``, ``converged_``,
        ``reliable_`` (converged, no parameter at or towards a bound, every standard error
        finite) and ``reliability_reason_`` (why not, in words).

        Parameters
        ----------
        alpha : float, optional
            Level of the intervals; the constructor's ``alpha`` by default.

        Returns
        -------
        DataFrame
            Indexed by ``parameter``: ``estimate``, ``se``, ``ci_low``, ``ci_high`` (Wald on
            the log scale; se by the delta method from the observed information).
        """
        self._check_fitted(["params_"])
        ci = self.conf_int(alpha)
        out = pd.DataFrame(
            {"estimate": self.params_, "se": self.bse_, "ci_low": ci["ci_low"],
             "ci_high": ci["ci_high"]}
        )
        out.index.name = "parameter"
        return out

    def sample_params(self, n_draws: int = 1000, random_state: Any = None) -> pd.DataFrame:
        """Draws from the asymptotic normal distribution of the log-parameters.

        Used to carry parameter uncertainty into predictions (a parametric bootstrap on the
        estimates, not on the data): evaluate a prediction at each draw and take quantiles.
        """
        from crmlib.utils.validation import check_random_state

        check_is_fitted(self, ["params_"])
        rng = check_random_state(random_state)
        draws = rng.multivariate_normal(np.log(self.params_.to_numpy()), self._cov_log,
                                        size=int(n_draws))
        return pd.DataFrame(np.exp(draws), columns=self.params_.index)

    def _theta(self) -> np.ndarray:
        check_is_fitted(self, ["params_"])
        return self.params_.to_numpy()


class _TransactionModel(_MLEModel):
    """Base of the (x, t_x, T) models: BG/NBD, MBG/NBD and Pareto/NBD (not public)."""

    _stat_keys = ("x", "tx", "T")

    def fit(
        self,
        summary: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
        weights_col: str | None = None,
    ) -> _TransactionModel:
        """Fit by maximum likelihood to a per-customer (or compressed, weighted) summary.

        Parameters
        ----------
        summary : DataFrame
            One row per customer (as from :func:`crmlib.clv.summarise`) or per distinct
            (frequency, recency, T) with a count in ``weights_col`` (see
            :func:`crmlib.clv.compress`).
        frequency_col, recency_col, T_col : str
            Columns holding x (repeat transactions), t_x (time of the last one after the
            first) and T (time from first purchase to end of calibration).
        weights_col : str, optional
            Column of row weights (customer counts); every row counts once when omitted.

        Returns
        -------
        self

        Raises
        ------
        CRMError
            On missing columns or invalid values (negative x, t_x > T, t_x > 0 with x = 0),
            fewer than two customers, or no repeat purchase at all (nothing to estimate the
            purchase and dropout processes from).
        """
        self._cols = {"frequency": frequency_col, "recency": recency_col, "T": T_col}
        data = self._arrays(summary)
        w = self._weights(summary, weights_col)
        if w.sum() < 2:
            raise CRMError(
                f"{type(self).__name__}.fit: need at least 2 customers, got {w.sum():g}"
            )
        if not np.any((data["x"] > 0) & (w > 0)):
            raise CRMError(
                f"{type(self).__name__}.fit: summary.{frequency_col} is 0 for all "
                f"{w.sum():g} customers (all one-time buyers): no repeat purchase to estimate "
                "the purchase and dropout processes from"
            )
        return self._fit_arrays(data, w)

    def _arrays(self, summary: pd.DataFrame) -> dict[str, np.ndarray]:
        cols = getattr(self, "_cols", {"frequency": "frequency", "recency": "recency",
                                       "T": "T"})
        check_frame(summary, name="summary", required=list(cols.values()))
        x = check_numeric(summary[cols["frequency"]], name=f"summary.{cols['frequency']}",
                          min_value=0, integer=True)
        tx = check_numeric(summary[cols["recency"]], name=f"summary.{cols['recency']}",
                           min_value=0)
        T = check_numeric(summary[cols["T"]], name=f"summary.{cols['T']}", min_value=0)
        bad = tx > T * (1 + 1e-12)
        if bad.any():
            raise CRMError(
                f"summary.{cols['recency']}: {int(bad.sum())} row(s) with recency > "
                f"{cols['T']}, e.g. row {int(np.argmax(bad))}"
            )
        bad = (x == 0) & (tx > 0)
        if bad.any():
            raise CRMError(
                f"summary.{cols['recency']}: {int(bad.sum())} row(s) with recency > 0 but "
                f"{cols['frequency']} 0, e.g. row {int(np.argmax(bad))}"
            )
        return {"x": x, "tx": np.minimum(tx, T), "T": T}

    def _start(self, data: dict[str, np.ndarray], w: np.ndarray) -> np.ndarray:
        # purchase rate of repeaters sets the NBD scale; the rest starts at 1
        rate = float(np.sum(w * data["x"]) / max(np.sum(w * data["T"]), 1e-12))
        start = np.ones(len(self._parameters))
        start[1] = 1.0 / max(rate, 1e-6)
        return start

    @staticmethod
    def _distinct_x(d: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Distinct values of x and each row's position among them, cached in ``d``.

        Special functions of x alone are evaluated once per distinct x (x takes few values).
        """
        if "_ux" not in d:
            ux, ix = np.unique(d["x"], return_inverse=True)
            d["_ux"], d["_ix"] = ux, ix.ravel()
        return d["_ux"], d["_ix"]

    def _index(self, summary: pd.DataFrame | None) -> pd.Index | None:
        return None if summary is None else summary.index

"""Is there measurable drop-out? A likelihood-ratio test of the drop-out models against the NBD.

The BG/NBD, MBG/NBD and Pareto/NBD models contain the NBD (Ehrenberg 1959) as the limit where
the drop-out probability (or rate) goes to zero, a point on the boundary of their parameter
space. Their likelihoods are written with the same constants as the NBD's
(:class:`crmlib.clv.NBDModel`), so twice the difference of the maximised log-likelihoods is a
likelihood-ratio statistic for "no drop-out". Because the null value sits on the boundary,
its distribution is not chi-squared with the difference in parameters as degrees of freedom;
the usual approximation for one parameter on the boundary is the 50:50 mixture of a point
mass at zero and a chi-squared with one degree of freedom (Self and Liang 1987), so the
p-value is ``0.5 P(chi2_1 > LR)`` for ``LR > 0`` and 1 for ``LR = 0``.

References
----------
Self, S. G., & Liang, K.-Y. (1987). Asymptotic properties of maximum likelihood estimators and
likelihood ratio tests under nonstandard conditions. *Journal of the American Statistical
Association*, 82(398), 605-610.

Ehrenberg, A. S. C. (1959). The pattern of consumer purchases. *Journal of the Royal
Statistical Society, Series C*, 8(1), 26-41.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmlib._lazy import lazy_module
from crmlib.errors import CRMError
from crmlib.results import TestResult

if TYPE_CHECKING:
    from scipy import stats
else:  # imported on first use (crmlib._lazy), so a notebook's kernel starts fast
    stats = lazy_module("scipy.stats")

__all__ = ["DROPOUT_MODELS", "dropout_test"]

#: params names of the transaction models with a drop-out process
DROPOUT_MODELS = ("bg_nbd", "pareto_nbd", "mbg_nbd")


def dropout_test(models: dict[str, Any], nbd: Any) -> TestResult:
    """Likelihood-ratio test of "no drop-out" (the NBD) against the best drop-out model.

    Parameters
    ----------
    models : dict
        Params name -> fitted transaction model; those of :data:`DROPOUT_MODELS` are used
        (converged or not: a fit that ran to the NBD boundary has the NBD's likelihood).
    nbd : NBDModel
        The NBD fitted to the same customers.

    Returns
    -------
    TestResult
        ``statistic`` = 2 (max log L of the drop-out models - log L of the NBD), clipped at
        0; ``p_value`` from the 50:50 mixture of chi2_0 and chi2_1 (Self and Liang 1987);
        ``df`` 1; ``n`` customers.

    References
    ----------
    Self, S. G., & Liang, K.-Y. (1987). Asymptotic properties of maximum likelihood
    estimators and likelihood ratio tests under nonstandard conditions. *JASA*, 82(398),
    605-610.

    Examples
    --------
    >>> from crmlib import clv
    >>> from crmlib.clv._simulate import example_orders
    >>> s = clv.summarise(example_orders(), calibration_end="2024-06-30",
    ...                   observation_end="2024-12-31")
    >>> fitted = clv.fit_models(s, ["bg_nbd"])
    >>> test = clv.dropout_test({"bg_nbd": fitted["bg_nbd"]}, fitted["nbd"])
    >>> round(test.statistic, 1), test.p_value < 0.001
    (618.3, True)
    """
    lls = [float(m.log_likelihood_) for name, m in models.items()
           if name in DROPOUT_MODELS and np.isfinite(getattr(m, "log_likelihood_", np.nan))]
    if not lls:
        raise CRMError("dropout_test: no fitted drop-out model (bg_nbd, pareto_nbd, mbg_nbd)")
    lr = max(0.0, 2.0 * (max(lls) - float(nbd.log_likelihood_)))
    p = 1.0 if lr <= 1e-9 else 0.5 * float(stats.chi2.sf(lr, 1))
    return TestResult(statistic=lr, df=1.0, p_value=p,
                      test="likelihood ratio, drop-out model vs NBD (chi-bar-squared 50:50)",
                      n=round(nbd.n_))

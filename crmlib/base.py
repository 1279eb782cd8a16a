"""The estimator contract every model of crmlib follows (the conventions of scikit-learn's
``BaseEstimator`` and statsmodels' results, in one small base class).

* The constructor only stores its arguments, under their own names; nothing is validated or
  computed there. :meth:`Estimator.get_params` reads them back from the constructor's
  signature, so :func:`sklearn.base.clone` and :meth:`Estimator.set_params` work.
* ``fit(...)`` validates, estimates and returns ``self``. What it estimates is stored in
  attributes whose names end in ``_`` (``params_``, ``n_``, ``converged_``).
* ``alpha`` (the level of every interval) is a constructor argument and may be overridden per
  call: ``summary(alpha=None)`` and ``conf_int(alpha=None)``. ``summary`` has exactly that
  signature and returns a :class:`pandas.DataFrame`.
* Asking a fitted-only question of an unfitted estimator raises
  :class:`crmlib.errors.NotFittedError`, which names the class and says to call ``fit``.
* ``repr`` is the constructor call with the arguments that differ from their defaults.

``tests/test_estimator_contract.py`` checks every public estimator against this contract.

Examples
--------
>>> import pandas as pd
>>> from crmlib.base import Estimator
>>> class MeanModel(Estimator):
...     def __init__(self, *, alpha=0.05):
...         self.alpha = alpha
...     def fit(self, x):
...         self.mean_ = float(pd.Series(x).mean())
...         return self
...     def summary(self, alpha=None):
...         self._check_fitted()
...         return pd.DataFrame({"mean": [self.mean_], "alpha": [self._alpha(alpha)]})
>>> MeanModel(alpha=0.1)
MeanModel(alpha=0.1)
>>> MeanModel().fit([1, 2, 3]).summary()
   mean  alpha
0   2.0   0.05
"""

from __future__ import annotations

import inspect
from typing import Any

from crmlib.defaults import ALPHA
from crmlib.errors import CRMError
from crmlib.utils.validation import check_alpha, check_is_fitted

__all__ = ["Estimator"]


class Estimator:
    """Base class of crmlib's estimators; see the module docstring for the contract.

    Subclasses define ``__init__`` with keyword arguments stored unchanged under their own
    names, ``fit(...) -> self``, and ``summary(alpha=None) -> DataFrame``; models with
    parameters also define ``conf_int(alpha=None) -> DataFrame``.

    Examples
    --------
    A model of a share with a Wilson interval, following the contract:

    >>> import pandas as pd
    >>> from sklearn.base import clone
    >>> from crmlib import intervals
    >>> from crmlib.base import Estimator
    >>> class ShareModel(Estimator):
    ...     def __init__(self, *, alpha=0.05):
    ...         self.alpha = alpha
    ...     def fit(self, events):
    ...         self.k_, self.n_ = int(sum(events)), len(events)
    ...         return self
    ...     def conf_int(self, alpha=None):
    ...         self._check_fitted()
    ...         low, high = intervals.wilson(self.k_, self.n_, self._alpha(alpha))
    ...         return pd.DataFrame({"ci_low": [low], "ci_high": [high]}, index=["share"])
    ...     def summary(self, alpha=None):
    ...         share = pd.DataFrame({"estimate": [self.k_ / self.n_]}, index=["share"])
    ...         return share.join(self.conf_int(alpha))
    >>> model = ShareModel(alpha=0.10).fit([1, 0, 0, 1, 0, 0, 0, 0, 1, 0])
    >>> model
    ShareModel(alpha=0.1)
    >>> model.summary().round(3)
           estimate  ci_low  ci_high
    share       0.3   0.127    0.558
    >>> model.summary(alpha=0.05).round(3)
           estimate  ci_low  ci_high
    share       0.3   0.108    0.603
    >>> clone(model).set_params(alpha=0.01).get_params()
    {'alpha': 0.01}
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        names = []
        for p in inspect.signature(init).parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must not take *args or **kwargs")
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments, by name (``deep`` is accepted for scikit-learn)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Estimator:
        """Set constructor arguments by name and return ``self``; unknown names are an error."""
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise CRMError(
                    f"{type(self).__name__}.set_params: unknown parameter {name!r}; "
                    f"valid: {', '.join(sorted(valid)) or 'none'}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        init = type(self).__init__
        defaults = {}
        if init is not object.__init__:
            defaults = {p.name: p.default for p in inspect.signature(init).parameters.values()}
        shown = []
        for name, value in self.get_params().items():
            default = defaults.get(name, inspect.Parameter.empty)
            try:
                same = default is not inspect.Parameter.empty and bool(value == default)
            except (TypeError, ValueError):
                same = value is default
            if not same:
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def _check_fitted(self, attributes: list[str] | None = None) -> None:
        """Raise :class:`crmlib.errors.NotFittedError` unless ``fit`` has been called."""
        check_is_fitted(self, attributes)

    def _alpha(self, alpha: float | None = None) -> float:
        """The interval level to use: ``alpha`` when given, else the constructor's (else
        :data:`crmlib.defaults.ALPHA`); checked to lie strictly between 0 and 1."""
        if alpha is None:
            alpha = getattr(self, "alpha", ALPHA)
        return check_alpha(alpha)

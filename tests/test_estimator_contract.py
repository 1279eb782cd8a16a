"""Every public estimator of crmlib follows one contract (crmlib.base; the scikit-learn
``check_estimator`` idea, adapted): parameters from the constructor, ``clone``, ``fit`` returns
self, fitted attributes end in ``_``, a clear error before fitting, ``alpha`` in the
constructor and overridable per call, one ``summary(alpha=None)`` signature, a useful repr."""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from crmlib.base import Estimator
from crmlib.errors import CRMError, NotFittedError
from tests.contract import AREAS, all_cases

CASES = all_cases()


def _public_estimators() -> list[type]:
    found = []
    for area in AREAS:
        module = importlib.import_module(f"crmlib.{area}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) and callable(getattr(obj, "fit", None)):
                found.append(obj)
    return found


@pytest.mark.parametrize("cls", _public_estimators(), ids=lambda c: c.__name__)
def test_every_public_estimator_has_a_case_and_the_base(cls):
    assert issubclass(cls, Estimator), f"{cls.__name__} does not derive from crmlib.base.Estimator"
    assert cls in {c.cls for c in CASES}, f"{cls.__name__} has no case in tests/contract/"


def _interval_columns(frame: pd.DataFrame) -> tuple[str, str]:
    low = [c for c in frame.columns if str(c) in ("ci_low", "lower")]
    high = [c for c in frame.columns if str(c) in ("ci_high", "upper")]
    assert low and high, f"no ci_low/ci_high columns in {list(frame.columns)}"
    return low[0], high[0]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
class TestContract:
    def test_params_come_from_the_constructor(self, case):
        est, _, _ = case.make()
        signature = inspect.signature(type(est).__init__)
        names = {p for p in signature.parameters if p != "self"}
        assert set(est.get_params()) == names
        assert "alpha" in names, "alpha must be a constructor argument"

    def test_clone_gives_equal_unfitted_params(self, case):
        est, _, _ = case.make()
        twin = clone(est)
        assert type(twin) is type(est)
        assert twin.get_params().keys() == est.get_params().keys()
        assert repr(twin) == repr(est)

    def test_set_params(self, case):
        est, _, _ = case.make()
        assert est.set_params(alpha=0.1) is est and est.alpha == 0.1
        with pytest.raises(CRMError, match="unknown parameter"):
            est.set_params(no_such_parameter=1)

    def test_repr_is_the_constructor_call(self, case):
        est, _, _ = case.make()
        assert repr(est).startswith(f"{type(est).__name__}(")
        assert "alpha=0.2" in repr(clone(est).set_params(alpha=0.2))

    def test_unfitted_summary_is_a_clear_error(self, case):
        est, _, _ = case.make()
        with pytest.raises(NotFittedError, match="fit"):
            est.summary()

    def test_fit_returns_self_and_sets_trailing_underscore_attributes(self, case):
        est, args, kwargs = case.make()
        before = set(vars(est))
        assert est.fit(*args, **kwargs) is est
        added = {k for k in set(vars(est)) - before if not k.startswith("_")}
        assert added and all(k.endswith("_") for k in added), sorted(added)
        assert set(est.get_params()) <= before, "fit must not change the constructor params"

    def test_summary_signature_and_alpha_override(self, case):
        est, args, kwargs = case.make()
        params = list(inspect.signature(type(est).summary).parameters.values())
        assert [p.name for p in params] == ["self", "alpha"] and params[1].default is None
        est.fit(*args, **kwargs)
        table = est.summary()
        assert isinstance(table, pd.DataFrame) and len(table) > 0
        assert not table.attrs, "results are not carried in DataFrame.attrs"
        assert est.summary(alpha=0.5).shape == table.shape

    def test_conf_int_narrows_as_alpha_grows(self, case):
        if not case.has_conf_int:
            pytest.skip(f"{case.id} has no parameter intervals")
        est, args, kwargs = case.make()
        params = list(inspect.signature(type(est).conf_int).parameters.values())
        assert [p.name for p in params] == ["self", "alpha"] and params[1].default is None
        est.fit(*args, **kwargs)
        wide, narrow = est.conf_int(alpha=0.01), est.conf_int(alpha=0.5)
        lo, hi = _interval_columns(wide)
        w_wide = (wide[hi] - wide[lo]).to_numpy(dtype=float)
        w_narrow = (narrow[hi] - narrow[lo]).to_numpy(dtype=float)
        ok = np.isfinite(w_wide) & np.isfinite(w_narrow)
        assert ok.any() and np.all(w_narrow[ok] <= w_wide[ok] + 1e-12)
        default = est.conf_int()
        assert np.allclose(default[lo].to_numpy(float), est.conf_int(alpha=est.alpha)[lo]
                           .to_numpy(float), equal_nan=True)

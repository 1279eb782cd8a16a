"""crmlib.base.Estimator: parameters from the constructor, set_params, sklearn clone, repr,
the not-fitted error and the alpha override."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from crmlib.base import Estimator
from crmlib.defaults import ALPHA
from crmlib.errors import CRMError, NotFittedError


class MeanModel(Estimator):
    def __init__(self, *, alpha: float = 0.05, trim: float = 0.0, weights=None):
        self.alpha = alpha
        self.trim = trim
        self.weights = weights

    def fit(self, x):
        self.mean_ = float(np.mean(x))
        return self

    def summary(self, alpha=None):
        self._check_fitted()
        return pd.DataFrame({"mean": [self.mean_], "alpha": [self._alpha(alpha)]})


class NoAlpha(Estimator):
    def __init__(self, k: int = 3):
        self.k = k


def test_get_params_reads_the_constructor_signature():
    model = MeanModel(alpha=0.1, trim=0.2)
    assert model.get_params() == {"alpha": 0.1, "trim": 0.2, "weights": None}
    assert model.get_params(deep=False) == model.get_params()


def test_set_params_sets_known_names_and_rejects_others():
    model = MeanModel()
    assert model.set_params(trim=0.1, alpha=0.2) is model
    assert (model.trim, model.alpha) == (0.1, 0.2)
    with pytest.raises(CRMError, match=r"MeanModel.set_params: unknown parameter 'trimm'.*trim"):
        model.set_params(trimm=0.1)


def test_clone_copies_params_and_drops_fitted_state():
    weights = np.array([1.0, 2.0])
    model = MeanModel(alpha=0.1, weights=weights).fit([1, 2, 3])
    twin = clone(model)
    assert type(twin) is MeanModel and twin is not model
    assert twin.alpha == 0.1 and np.array_equal(twin.weights, weights)
    assert not hasattr(twin, "mean_")


def test_repr_shows_only_arguments_that_differ_from_their_defaults():
    assert repr(MeanModel()) == "MeanModel()"
    assert repr(MeanModel(trim=0.25)) == "MeanModel(trim=0.25)"
    # an array argument (== is elementwise) is shown, not an error
    assert repr(MeanModel(weights=np.array([1, 2]))) == "MeanModel(weights=array([1, 2]))"
    assert repr(NoAlpha(k=5)) == "NoAlpha(k=5)"


def test_an_estimator_without_init_has_no_params():
    class Bare(Estimator):
        pass

    assert Bare().get_params() == {}
    assert repr(Bare()) == "Bare()"


def test_init_with_var_kwargs_is_refused():
    class Loose(Estimator):
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    with pytest.raises(TypeError, match="must not take"):
        Loose().get_params()


def test_not_fitted_error_names_the_class_and_says_call_fit():
    with pytest.raises(NotFittedError, match="MeanModel is not fitted yet; call fit"):
        MeanModel().summary()
    # a NotFittedError is both a CRMError and an AttributeError (hasattr-friendly)
    assert issubclass(NotFittedError, CRMError) and issubclass(NotFittedError, AttributeError)


def test_alpha_from_the_constructor_is_overridden_per_call():
    model = MeanModel(alpha=0.1).fit([1, 2, 3])
    assert model.summary()["alpha"].item() == 0.1
    assert model.summary(alpha=0.01)["alpha"].item() == 0.01
    assert model.alpha == 0.1, "a per-call alpha must not change the estimator"
    assert NoAlpha()._alpha() == ALPHA


@pytest.mark.parametrize("alpha", [0, 1, -0.5, 2, "0.05"])
def test_an_invalid_alpha_is_a_one_line_error(alpha):
    model = MeanModel().fit([1.0])
    with pytest.raises(CRMError, match="alpha"):
        model.summary(alpha=alpha)

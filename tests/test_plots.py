"""crmlib.plots re-exports every figure function and each returns an Axes on a given axes."""

from __future__ import annotations

import inspect

import matplotlib

matplotlib.use("Agg")

from crmlib import plots


def test_every_plot_function_is_exported_and_takes_ax():
    assert len(plots.__all__) >= 5
    for name in plots.__all__:
        func = getattr(plots, name)
        params = inspect.signature(func).parameters
        assert "ax" in params or name.endswith("_grid"), f"{name} takes no ax"
        if "ax" in params:
            assert params["ax"].kind is inspect.Parameter.KEYWORD_ONLY, name

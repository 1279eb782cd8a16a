"""The params of a business unit: ``params/defaults.yaml`` overridden by ``units/<unit>.yaml``.

Only this package reads params. :func:`load_params` returns a frozen, validated
:class:`UnitParams`; every mistake in a params file (a YAML syntax error, a duplicate key, an
unknown key, a value of the wrong type or out of range) is a one-line :class:`ParamsError`
naming the file, the dotted key, the value and what was expected. The sections of
:class:`UnitParams` are the classes below (one per notebook); the defaults an analysis
function shares with them are defined once in :mod:`crmlib.defaults`.

Examples
--------
>>> from crmlib import config
>>> params = config.UnitParams(unit="retail", data={"source": "data/sample"})
>>> params.segmentation.rfm_bins, params.service.channels["phone"].cost_per_contact
(5, 6.0)
"""

from crmlib.config._load import (
    ENV_ROOT,
    check_unit_name,
    list_units,
    load_params,
    project_root,
)
from crmlib.config._models import (
    NOTEBOOKS,
    ClvParams,
    CurrencyRates,
    DataParams,
    Initiative,
    RetentionParams,
    ScorecardMetric,
    ScorecardParams,
    SegmentationParams,
    ServiceParams,
    SurveyParams,
    UnitParams,
)
from crmlib.config._template import new_unit_template
from crmlib.errors import ParamsError

__all__ = [
    "ENV_ROOT",
    "NOTEBOOKS",
    "ClvParams",
    "CurrencyRates",
    "DataParams",
    "Initiative",
    "ParamsError",
    "RetentionParams",
    "ScorecardMetric",
    "ScorecardParams",
    "SegmentationParams",
    "ServiceParams",
    "SurveyParams",
    "UnitParams",
    "check_unit_name",
    "list_units",
    "load_params",
    "new_unit_template",
    "project_root",
]

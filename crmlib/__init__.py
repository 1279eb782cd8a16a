"""crmlib: the statistics behind the crm-notebooks suite.

The modules follow the flow of data: :mod:`crmlib.data` reads and validates
the four tables of the data contract, :mod:`crmlib.config` reads the params of a business
unit, the analysis modules are pure functions and estimators on DataFrames, and
:mod:`crmlib.batch` runs the notebooks for every business unit.
"""

from crmlib.errors import ConvergenceWarning, CRMError, DataError, NotFittedError, ParamsError

__version__ = "0.1.0"

__all__ = [
    "CRMError",
    "ConvergenceWarning",
    "DataError",
    "NotFittedError",
    "ParamsError",
    "__version__",
]

"""Defaults used in more than one place, defined once: the functions' keyword defaults and the
params models (:mod:`crmlib.config`) both read them from here.

Examples
--------
>>> from crmlib import defaults
>>> round(defaults.DAYS_PER_MONTH, 4)
30.4375
"""

from __future__ import annotations

__all__ = ["ALPHA", "DAYS_PER_MONTH", "DAYS_PER_YEAR"]

#: The level of every interval unless the params say otherwise (95% intervals).
ALPHA = 0.05
#: Days in a year and in an average month (the Julian year, as lifetimes and CLVTools use).
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12

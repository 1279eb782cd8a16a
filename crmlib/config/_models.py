"""Pydantic models of the params of one business unit.

Every model is frozen and forbids unknown keys, so a typo in a params file is an error and
never a silently ignored setting. Numbers and booleans are strict (``"5"`` or ``true`` is not
an integer); dates may be written ``2024-12-31`` (YAML reads them as dates) or as a quoted
ISO string. Validators that look at more than one field raise :class:`KeyValueError`, which
carries the key path below the model, so the loader can name the file and dotted key at fault.
"""

from __future__ import annotations

import os
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from crmlib import defaults
from crmlib.defaults import SCORECARD_METRICS

__all__ = [
    "NOTEBOOKS",
    "ChannelParams",
    "ClvParams",
    "CurrencyRates",
    "DataParams",
    "Initiative",
    "KeyValueError",
    "PrivacyParams",
    "RetentionParams",
    "ScorecardMetric",
    "ScorecardParams",
    "SegmentRule",
    "SegmentationParams",
    "ServiceParams",
    "ServiceTargets",
    "SurveyParams",
    "UnitParams",
]

NOTEBOOKS: tuple[str, ...] = (
    "00_customer_base",
    "01_segmentation",
    "02_lifetime_value",
    "03_retention",
    "04_survey",
    "05_service_quality",
    "06_scorecard",
)
"""The notebooks of the suite, in run order."""

UNIT_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_NO_VALUE = object()

Int = Annotated[int, Strict()]
PosInt = Annotated[int, Strict(), Field(gt=0)]
NonNegInt = Annotated[int, Strict(), Field(ge=0)]
NonNegFloat = Annotated[float, Strict(), Field(ge=0)]
Share = Annotated[float, Strict(), Field(ge=0, le=1)]
Bool = Annotated[bool, Strict()]
Name = Annotated[str, Field(min_length=1)]
Notebook = Literal[
    "00_customer_base",
    "01_segmentation",
    "02_lifetime_value",
    "03_retention",
    "04_survey",
    "05_service_quality",
    "06_scorecard",
]
Channel = Literal["phone", "chat", "email", "web"]
ClvModelName = Literal["bg_nbd", "pareto_nbd", "mbg_nbd", "bg_bb", "sbg", "gamma_gamma"]


class KeyValueError(ValueError):
    """A validation problem at ``path`` below the model that raised it.

    Parameters
    ----------
    path
        Keys (str) and list positions (int) from the model to the bad value.
    expected
        What was expected, e.g. ``"every cell of the grid in exactly one segment"``.
    value
        The offending value; omitted when the problem is not about one value.
    """

    def __init__(self, path: tuple[str | int, ...], expected: str, value: Any = _NO_VALUE):
        super().__init__(expected)
        self.path = path
        self.expected = expected
        self.value = value

    @property
    def has_value(self) -> bool:
        """Whether the problem is about one offending value."""
        return self.value is not _NO_VALUE


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _unique(values: list[Any], field: str) -> None:
    seen: set[Any] = set()
    for i, v in enumerate(values):
        if v in seen:
            raise KeyValueError((field, i), "expected each entry once (a duplicate)", v)
        seen.add(v)


# --------------------------------------------------------------------------------------- data
ENV_PREFIX = "env:"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _has_password(url: str) -> bool:
    """Whether a SQLAlchemy URL carries a password (``user:secret@host``)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password is not None
    except (ArgumentError, ValueError):
        return bool(re.match(r"[^:/]+://[^/@]*:[^/@]*@", url))


def _from_env(name: str) -> str:
    """The data source held by environment variable ``name`` (``source: env:NAME``).

    The value is a URL (it may hold a password: it never sits in a file) or a path.
    """
    if not _ENV_NAME.fullmatch(name):
        raise ValueError(
            "expected env:NAME with NAME an environment variable name, e.g. env:CRM_DB_URL"
        )
    value = os.environ.get(name, "").strip()
    if not value:
        raise KeyValueError(
            (), f"environment variable {name} is not set or empty"
        )
    return value


class DataParams(_Model):
    """Where the unit's data lives

    Examples
    --------
    >>> from crmlib.config import DataParams
    >>> DataParams(source="postgresql+psycopg://crm@db.example.com/crm").source
    'postgresql+psycopg://crm@db.example.com/crm'
    >>> DataParams(source="data/shop", in_database=["orders"]).in_database
    ['orders']
    """

    source: str = Field(
        description="Folder of CSV/Parquet tables, DuckDB file, SQLAlchemy URL without a "
        "password, or env:NAME (an environment variable holding one, e.g. env:CRM_DB_URL); "
        "relative paths are relative to the project root",
    )
    business_unit: str | None = Field(
        default=None,
        description="Value of customers.business_unit to select; null means the unit's name",
    )
    in_database: list[Literal["orders", "interactions", "survey_responses"]] = Field(
        default_factory=list,
        description="Tables left in the source and aggregated there (DuckDB for files, the "
        "database itself for a URL) instead of read into pandas: for units with tens of "
        "millions of rows. Empty: every table is read into pandas",
    )

    @field_validator("source")
    @classmethod
    def _resolve(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip():
            raise ValueError("expected a folder, a DuckDB file or a SQLAlchemy URL")
        from_env = value.startswith(ENV_PREFIX)
        if from_env:
            value = _from_env(value[len(ENV_PREFIX) :])
        if _URL.match(value):
            if not from_env and _has_password(value):
                # no value in the message: it would show the password
                raise KeyValueError(
                    (),
                    "a database URL with a password does not belong in a params file; put the "
                    "URL in an environment variable and write source: env:CRM_DB_URL",
                )
            return value
        path = os.path.expanduser(value)
        root = (info.context or {}).get("root")
        if root is not None and not os.path.isabs(path):
            path = os.path.join(os.fspath(root), path)
        return os.path.normpath(path) if os.path.isabs(path) else path


# ------------------------------------------------------------------------------- segmentation
class SegmentRule(_Model):
    """The recency and frequency score ranges (inclusive) of one named RFM segment."""

    r: tuple[PosInt, PosInt] = Field(description="Recency score range [low, high]; high = recent")
    f: tuple[PosInt, PosInt] = Field(description="Frequency score range [low, high]")

    @model_validator(mode="after")
    def _ordered(self) -> SegmentRule:
        for key in ("r", "f"):
            low, high = getattr(self, key)
            if low > high:
                raise KeyValueError((key,), "expected [low, high] with low <= high", [low, high])
        return self


DEFAULT_SEGMENTS: dict[str, dict[str, list[int]]] = {
    name: {"r": list(r), "f": list(f)} for name, (r, f) in defaults.RFM_GRID.items()
}
"""The widely used 10-segment grid on 5x5 recency x frequency scores (each cell once), from
:data:`crmlib.defaults.RFM_GRID`."""


class SegmentationParams(_Model):
    """RFM scoring, the named segment grid and clustering

    Examples
    --------
    >>> from crmlib.config import SegmentationParams
    >>> seg = SegmentationParams()
    >>> seg.rfm_bins, seg.k_range, len(seg.segments)
    (5, (2, 8), 10)
    >>> seg.segments["Champions"].r, seg.segments["Champions"].f
    ((5, 5), (4, 5))
    """

    key_segments: list[Name] = Field(
        default_factory=lambda: ["Champions", "Loyal", "At Risk", "Can't Lose"],
        description="Segments reported in the headline figures and tracked in migration tables",
    )
    rfm_bins: Int = Field(
        default=defaults.RFM_BINS, ge=2, le=10,
        description="Quantile bins of R, F and M (scores 1..rfm_bins)",
    )
    segments: dict[Name, SegmentRule] = Field(
        default_factory=lambda: {k: SegmentRule(**v) for k, v in DEFAULT_SEGMENTS.items()},
        description="Named segments: recency and frequency score ranges covering each cell once",
    )
    n_clusters: Literal["auto"] | int = Field(
        default="auto", description="Clusters for k-means segmentation: 'auto' picks k in k_range"
    )
    k_range: tuple[PosInt, PosInt] = Field(
        default=defaults.CLUSTER_K_RANGE,
        description="Smallest and largest k tried when n_clusters is 'auto'",
    )
    migration_dates: list[date] = Field(
        default_factory=list,
        description="Dates at which segments are recomputed for the migration matrix",
    )

    @field_validator("n_clusters", mode="before")
    @classmethod
    def _check_clusters(cls, value: Any) -> Any:
        if value == "auto" or (type(value) is int and value >= 2):
            return value
        raise ValueError("expected 'auto' or an integer >= 2")

    @model_validator(mode="after")
    def _check_grid(self) -> SegmentationParams:
        low, high = self.k_range
        if not 2 <= low <= high:
            raise KeyValueError(
                ("k_range",), "expected [low, high] with 2 <= low <= high", [low, high]
            )
        n = self.rfm_bins
        owner: dict[tuple[int, int], str] = {}
        for name, rule in self.segments.items():
            for key in ("r", "f"):
                if getattr(rule, key)[1] > n:
                    raise KeyValueError(
                        ("segments", name, key),
                        f"expected scores within 1..{n} (rfm_bins)",
                        list(getattr(rule, key)),
                    )
            for r in range(rule.r[0], rule.r[1] + 1):
                for f in range(rule.f[0], rule.f[1] + 1):
                    if (r, f) in owner:
                        raise KeyValueError(
                            ("segments", name),
                            f"cell r={r}, f={f} is also in segment {owner[(r, f)]!r}; "
                            "expected each cell in exactly one segment",
                        )
                    owner[(r, f)] = name
        missing = [(r, f) for r in range(1, n + 1) for f in range(1, n + 1) if (r, f) not in owner]
        if missing:
            r, f = missing[0]
            raise KeyValueError(
                ("segments",),
                f"cell r={r}, f={f} is in no segment ({len(missing)} uncovered); "
                "expected each cell in exactly one segment",
            )
        for i, name in enumerate(self.key_segments):
            if name not in self.segments:
                raise KeyValueError(
                    ("key_segments", i), "expected one of the segments' names", name
                )
        _unique(list(self.key_segments), "key_segments")
        _unique(list(self.migration_dates), "migration_dates")
        return self


# ------------------------------------------------------------------------------ lifetime value
class ClvParams(_Model):
    """Customer-base (BTYD) models and the lifetime-value horizon

    Examples
    --------
    >>> from crmlib.config import ClvParams
    >>> clv = ClvParams(time_unit="M", holdout_periods=6, horizon_periods=12)
    >>> clv.models
    ['bg_nbd', 'pareto_nbd', 'mbg_nbd', 'gamma_gamma']
    """

    time_unit: Literal["D", "W", "M"] = Field(
        default="W", description="Period of frequency, recency and T: days, weeks or months"
    )
    calibration_end: date | None = Field(
        default=None,
        description="Last day of the calibration period; null: holdout_periods before as_of",
    )
    holdout_periods: PosInt = Field(
        default=26, description="Length of the holdout period in time_unit periods"
    )
    horizon_periods: PosInt = Field(
        default=52, description="Lifetime-value horizon in time_unit periods"
    )
    models: list[ClvModelName] = Field(
        default_factory=lambda: ["bg_nbd", "pareto_nbd", "mbg_nbd", "gamma_gamma"],
        description="Models fitted: bg_nbd, pareto_nbd, mbg_nbd, bg_bb, sbg, gamma_gamma",
    )
    min_customers: PosInt = Field(
        default=100, description="Fewest customers with which a model is fitted"
    )

    @model_validator(mode="after")
    def _check(self) -> ClvParams:
        if not self.models:
            raise KeyValueError(("models",), "expected at least one model", [])
        _unique(list(self.models), "models")
        return self


# ----------------------------------------------------------------------------------- retention
class RetentionParams(_Model):
    """Churn definition, cohorts and survival horizons

    Examples
    --------
    >>> from crmlib.config import RetentionParams
    >>> RetentionParams(inactivity_days=180).horizons
    [30, 90, 180, 365]
    """

    inactivity_days: PosInt = Field(
        default=defaults.INACTIVITY_DAYS,
        description="Days without an order after which a customer counts as lapsed",
    )
    cohort_period: Literal["M", "Q"] = Field(
        default=defaults.COHORT_PERIOD,
        description="Acquisition cohorts by month (M) or quarter (Q)",
    )
    min_cohort_size: PosInt = Field(
        default=defaults.MIN_COHORT_SIZE,
        description="Smallest cohort shown in the cohort table",
    )
    horizons: list[PosInt] = Field(
        default_factory=lambda: [30, 90, 180, 365],
        description="Days at which survival / retention rates are reported",
    )

    @model_validator(mode="after")
    def _check(self) -> RetentionParams:
        _unique(list(self.horizons), "horizons")
        return self


# -------------------------------------------------------------------------------------- survey
class SurveyParams(_Model):
    """Survey estimation: NPS intervals, multiple testing and weighting

    Examples
    --------
    >>> from crmlib.config import SurveyParams
    >>> survey = SurveyParams(margins={"region": {"north": 0.4, "south": 0.6}})
    >>> survey.nps_method, survey.margins["region"]["south"]
    ('adjusted-wald', 0.6)
    """

    min_n: PosInt = Field(
        default=defaults.SURVEY_MIN_N, description="Fewest responses for a group to be reported"
    )
    nps_method: Literal["adjusted-wald", "wald", "bootstrap"] = Field(
        default=defaults.NPS_METHOD, description="Confidence interval of the NPS"
    )
    n_bootstrap: PosInt = Field(
        default=defaults.NPS_BOOTSTRAP,
        description="Bootstrap resamples when nps_method is 'bootstrap'",
    )
    multiple_testing: Literal["holm", "fdr_bh", "bonferroni"] = Field(
        default=defaults.MULTIPLE_TESTING,
        description="Correction of p-values when many groups are compared",
    )
    margins: dict[Name, dict[Name, Share]] = Field(
        default_factory=dict,
        description="Population shares per level of a column, for raking; each sums to 1",
    )
    weight_trim: tuple[NonNegFloat, NonNegFloat] = Field(
        default=defaults.WEIGHT_TRIM,
        description="Weights are trimmed to [low, high] times the mean weight",
    )

    @model_validator(mode="after")
    def _check(self) -> SurveyParams:
        for column, shares in self.margins.items():
            total = sum(shares.values())
            if not shares or abs(total - 1.0) > 1e-6:
                raise KeyValueError(
                    ("margins", column), f"expected shares summing to 1 (they sum to {total:.6g})"
                )
        low, high = self.weight_trim
        if not 0 <= low <= 1 <= high:
            raise KeyValueError(
                ("weight_trim",), "expected [low, high] with 0 <= low <= 1 <= high", [low, high]
            )
        return self


# ------------------------------------------------------------------------------------- service
class ChannelParams(_Model):
    """Service standard and cost of one contact channel."""

    service_level_seconds: NonNegFloat = Field(
        description="A contact answered within this many seconds meets the service level"
    )
    service_level_target: Share = Field(
        description="Target share of contacts answered within service_level_seconds"
    )
    cost_per_contact: NonNegFloat = Field(description="Cost of one contact, in the unit currency")


DEFAULT_CHANNELS: dict[str, dict[str, float]] = defaults.SERVICE_CHANNELS


class ServiceTargets(_Model):
    """Targets of the service KPIs."""

    fcr: Share = Field(
        default=defaults.SERVICE_TARGETS["fcr"],
        description="First-contact resolution rate (higher is better)"
    )
    abandonment: Share = Field(
        default=defaults.SERVICE_TARGETS["abandonment"],
        description="Share of contacts abandoned while waiting (lower is better)"
    )
    aht_seconds: NonNegFloat = Field(
        default=defaults.SERVICE_TARGETS["aht_seconds"],
        description="Average handle time in seconds (lower is better)"
    )
    asa_seconds: NonNegFloat = Field(
        default=defaults.SERVICE_TARGETS["asa_seconds"],
        description="Average speed of answer in seconds (lower is better)"
    )
    repeat_contact_rate: Share = Field(
        default=defaults.SERVICE_TARGETS["repeat_contact_rate"],
        description="Share of contacts followed by another within repeat_contact_days"
    )
    complaint_rate: NonNegFloat = Field(
        default=defaults.SERVICE_TARGETS["complaint_rate"],
        description="Complaints per customer per year: complaint contacts in the year to as_of "
        "over customer-years at risk (lower is better); 0.02 is 20 per 1,000 customers a year",
    )
    csat: Annotated[float, Strict(), Field(ge=1, le=5)] = Field(
        default=defaults.SERVICE_TARGETS["csat"],
        description="Mean contact CSAT on the 1-5 scale (higher is better)"
    )


class ServiceParams(_Model):
    """Service-quality KPIs: channel standards, repeat contacts and targets

    Examples
    --------
    >>> from crmlib.config import ServiceParams
    >>> service = ServiceParams()
    >>> service.channels["phone"].service_level_seconds, service.targets.fcr
    (20.0, 0.75)
    """

    channels: dict[Channel, ChannelParams] = Field(
        default_factory=lambda: {k: ChannelParams(**v) for k, v in DEFAULT_CHANNELS.items()},
        description="Service level threshold, target and cost per channel (phone, chat, ...)",
    )
    repeat_contact_days: PosInt = Field(
        default=defaults.REPEAT_CONTACT_DAYS,
        description="A contact within this many days of the previous one is a repeat"
    )
    short_abandon_seconds: NonNegFloat = Field(
        default=defaults.SHORT_ABANDON_SECONDS,
        description="Abandons within this many seconds are not counted"
    )
    targets: ServiceTargets = Field(
        default_factory=ServiceTargets, description="Targets of the service KPIs"
    )


# ----------------------------------------------------------------------------------- scorecard
class ScorecardMetric(_Model):
    """One metric of the scorecard, read from the metrics a notebook records

    Examples
    --------
    >>> from crmlib.config import ScorecardMetric
    >>> nps = ScorecardMetric(name="nps", level="customer_strategic", source="04_survey",
    ...                       direction="higher", target=30.0, tolerance=5.0)
    >>> nps.target - nps.tolerance
    25.0
    """

    name: Name = Field(description="Name under which the source notebook records the metric")
    level: Literal["corporate", "customer_strategic", "operational", "infrastructure"] = Field(
        description="Level of the metric hierarchy"
    )
    source: Notebook = Field(description="Notebook that records the metric")
    direction: Literal["higher", "lower"] = Field(description="Whether higher or lower is better")
    target: Annotated[float, Strict()] | None = Field(
        default=None, description="Target value; null: monitored without a target"
    )
    tolerance: NonNegFloat = Field(
        default=0.0,
        description="Miss of the target (in the metric's units) still rated 'at risk', not 'off'",
    )


#: The default metric hierarchy: the suite's standard metrics, defined once in crmlib.defaults
#: (their value ranges stay there; the scorecard checks targets against them).
DEFAULT_METRICS: list[dict[str, Any]] = [
    {k: v for k, v in m.items() if k not in ("low", "high")} for m in SCORECARD_METRICS
]


_ISO_CODE = re.compile(r"[A-Z]{3}")
_ISO_MSG = "expected an ISO 4217 code of three capital letters, e.g. EUR"


class CurrencyRates(_Model):
    """Exchange rates of one date, the only way money figures of units in different
    currencies are compared (``1 <code> = <rate> <to>``).

    Examples
    --------
    >>> from crmlib.config import CurrencyRates
    >>> rates = CurrencyRates(as_of="2024-12-31", to="EUR", rates={"USD": 0.93})
    >>> 100 * rates.rates["USD"], str(rates.as_of)
    (93.0, '2024-12-31')
    """

    as_of: date = Field(description="Date of the rates (YYYY-MM-DD), shown with every "
                        "converted value")
    to: str = Field(description="ISO 4217 code of the currency the figures are converted to")
    rates: dict[str, Annotated[float, Strict(), Field(gt=0)]] = Field(
        min_length=1,
        description="Units of 'to' per unit of each currency, e.g. {USD: 0.93} for 1 USD = "
        "0.93 EUR",
    )

    @field_validator("to")
    @classmethod
    def _check_to(cls, value: str) -> str:
        if not _ISO_CODE.fullmatch(value):
            raise ValueError(_ISO_MSG)
        return value

    @model_validator(mode="after")
    def _check(self) -> CurrencyRates:
        for code in self.rates:
            if not _ISO_CODE.fullmatch(code):
                raise KeyValueError(("rates", code), _ISO_MSG, code)
        if self.to in self.rates:
            raise KeyValueError(("rates", self.to), f"expected no rate for {self.to} itself "
                                "(the currency converted to)", self.rates[self.to])
        return self


class ScorecardParams(_Model):
    """The metric hierarchy of the scorecard (corporate down to infrastructure)

    Examples
    --------
    >>> from crmlib.config import ScorecardParams
    >>> [m.name for m in ScorecardParams().metrics][:4]
    ['revenue', 'customer_equity', 'clv_mean', 'retention_rate']
    """

    metrics: list[ScorecardMetric] = Field(
        default_factory=lambda: [ScorecardMetric(**m) for m in DEFAULT_METRICS],
        description="Metrics with level, source notebook, direction, target and tolerance",
    )
    currency_rates: CurrencyRates | None = Field(
        default=None,
        description="Exchange rates for comparing money figures of units in different "
        "currencies, e.g. {as_of: 2024-12-31, to: EUR, rates: {USD: 0.93}}; null: units in "
        "different currencies are not compared on money figures",
    )

    @model_validator(mode="after")
    def _check(self) -> ScorecardParams:
        _unique([m.name for m in self.metrics], "metrics")
        return self


# --------------------------------------------------------------------------------- initiatives
class Initiative(_Model):
    """A CRM initiative whose impact on scorecard metrics is estimated

    Examples
    --------
    >>> from crmlib.config import Initiative
    >>> call = Initiative(name="welcome call", start="2024-03-01", treated="services",
    ...                   metrics=["fcr"])
    >>> str(call.start), call.metrics
    ('2024-03-01', ['fcr'])
    """

    name: Name = Field(description="Name of the initiative")
    start: date = Field(description="Day the initiative started")
    treated: Name = Field(description="Business unit or segment the initiative was applied to")
    metrics: list[Name] = Field(
        min_length=1, description="Scorecard metrics whose change is attributed to it"
    )


# ------------------------------------------------------------------------------------- privacy
class PrivacyParams(_Model):
    """How customer identifiers appear in reports."""

    pseudonymise_ids: Bool = Field(
        default=True,
        description="Show customer ids in reports as keyed hashes (key from the environment "
        "variable CRM_PSEUDONYM_KEY); false shows the real ids",
    )


# ---------------------------------------------------------------------------------------- unit
class UnitParams(_Model):
    """The validated params of one business unit (``defaults.yaml`` < ``units/<unit>.yaml``)

    Examples
    --------
    Usually read by :func:`crmlib.config.load_params`; built directly, every key not given
    takes its default (those shared with the analyses come from :mod:`crmlib.defaults`).

    >>> from crmlib.config import UnitParams
    >>> params = UnitParams(unit="shop", data={"source": "data/shop"})
    >>> params.alpha, params.discount_rate, params.data.business_unit
    (0.05, 0.1, 'shop')
    >>> params.model_copy(update={"alpha": 0.1}).alpha
    0.1
    """

    unit: str = Field(description="Name of the business unit (the params file's name)")
    data: DataParams = Field(description="Where the unit's data lives")
    as_of: date | None = Field(
        default=None, description="Reporting date; null: the latest date in the data"
    )
    currency: str = Field(default="EUR", description="ISO 4217 code of amounts, e.g. EUR or USD")
    locale: str = Field(
        default="en_GB",
        description="Locale the reports write numbers, amounts and dates in (e.g. en_US, "
                    "de_DE, fr_FR): separators, and where the currency symbol goes")
    discount_rate: Annotated[float, Strict()] = Field(
        default=defaults.DISCOUNT_RATE, ge=0, lt=1,
        description="Annual discount rate of lifetime value, 0 <= r < 1"
    )
    contractual: Bool = Field(
        default=False, description="Whether churn is observed (subscriptions) or latent (retail)"
    )
    random_state: NonNegInt = Field(default=0, description="Seed of every random step")
    alpha: Annotated[float, Strict()] = Field(
        default=defaults.ALPHA, gt=0, lt=1,
        description="Significance level; intervals are 1 - alpha"
    )
    notebooks: list[Notebook] = Field(
        default_factory=lambda: list(NOTEBOOKS), description="Notebooks run for this unit"
    )
    segmentation: SegmentationParams = Field(
        default_factory=SegmentationParams, description="RFM segments and clustering"
    )
    clv: ClvParams = Field(default_factory=ClvParams, description="Customer lifetime value")
    retention: RetentionParams = Field(
        default_factory=RetentionParams, description="Retention and survival"
    )
    survey: SurveyParams = Field(default_factory=SurveyParams, description="Survey statistics")
    service: ServiceParams = Field(default_factory=ServiceParams, description="Service quality")
    scorecard: ScorecardParams = Field(
        default_factory=ScorecardParams, description="Scorecard metric hierarchy"
    )
    initiatives: list[Initiative] = Field(
        default_factory=list, description="Initiatives whose impact is estimated in the scorecard"
    )
    privacy: PrivacyParams = Field(
        default_factory=PrivacyParams, description="Customer identifiers in reports"
    )

    @model_validator(mode="before")
    @classmethod
    def _default_business_unit(cls, values: Any) -> Any:
        if isinstance(values, dict) and isinstance(values.get("data"), dict):
            data = values["data"]
            if data.get("business_unit") is None:
                values = {**values, "data": {**data, "business_unit": values.get("unit")}}
        return values

    @field_validator("unit")
    @classmethod
    def _check_unit(cls, value: str) -> str:
        if not UNIT_NAME.fullmatch(value):
            raise ValueError("expected lowercase letters, digits and _, starting with a letter")
        return value

    @field_validator("currency")
    @classmethod
    def _check_currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError("expected an ISO 4217 code of three capital letters, e.g. EUR")
        return value

    @field_validator("locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(value)
        except (ValueError, TypeError, UnknownLocaleError):
            raise ValueError("expected a locale such as en_GB, en_US, de_DE or fr_FR") from None
        return value

    @model_validator(mode="after")
    def _check(self) -> UnitParams:
        if not self.notebooks:
            raise KeyValueError(("notebooks",), "expected at least one notebook", [])
        _unique(list(self.notebooks), "notebooks")
        end = self.clv.calibration_end
        if end is not None and self.as_of is not None and end >= self.as_of:
            raise KeyValueError(("clv", "calibration_end"), "expected a date before as_of", end)
        names = {m.name for m in self.scorecard.metrics}
        for i, initiative in enumerate(self.initiatives):
            for j, metric in enumerate(initiative.metrics):
                if metric not in names:
                    raise KeyValueError(
                        ("initiatives", i, "metrics", j),
                        "expected the name of a scorecard metric",
                        metric,
                    )
        _unique([x.name for x in self.initiatives], "initiatives")
        return self

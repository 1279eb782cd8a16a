"""The formatting layer and the labels registry (issue 16: numbers for people, from one place).

Expected texts are written by hand from the rules: CLDR's separators and currency positions
for each locale, percentages with one decimal, m:ss, "< 0.001", and rounding to the first
significant digit of the standard error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlib import formatting as fmt
from crmlib import labels
from crmlib.results import Metric

EXPECTED = Path(__file__).parent / "headlines" / "expected"
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


def plain(text: str) -> str:
    """Non-breaking and narrow spaces as ordinary spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


@pytest.mark.parametrize(("x", "currency", "locale", "se", "expected"), [
    (1070000.4, "EUR", "en_GB", 15000, "€1,070,000"),
    (1070000.4, "EUR", "de_DE", 15000, "1.070.000 €"),
    (1070000.4, "EUR", "fr_FR", 15000, "1 070 000 €"),
    (290068.16, "USD", "en_US", None, "$290,068"),
    (290068.16, "USD", "en_GB", None, "US$290,068"),
    (42.3361, "EUR", "en_GB", None, "€42.34"),
    (42.3361, "EUR", "de_DE", None, "42,34 €"),
    (818312, "EUR", "en_GB", 4100, "€818,000"),
    (818312, "EUR", "en_GB", 410, "€818,300"),
    (-12.5, "GBP", "en_GB", None, "−£12.50"),
])
def test_money_follows_the_locale_and_the_standard_error(x, currency, locale, se, expected):
    assert plain(fmt.money(x, currency, se=se, locale=locale)) == expected


@pytest.mark.parametrize(("se", "default", "expected"), [
    (0.31, 1, 1), (0.031, 1, 2), (3.1, 1, 0), (4100, 0, -3), (9999, 0, -3), (None, 2, 2),
    (0.0, 2, 2), (float("nan"), 1, 1),
])
def test_decimals_follow_the_first_significant_digit_of_the_se(se, default, expected):
    assert fmt.decimals_for(se, default=default, most=4) == expected


@pytest.mark.parametrize(("x", "kwargs", "expected"), [
    (0.32714, {}, "32.7%"),
    (0.32714, {"se": 0.0004}, "32.71%"),  # SE 0.04 points: two decimals
    (0.32714, {"se": 0.04}, "33%"),  # SE 4 points: none
    (12.5, {"share": False}, "12.5%"),
    (0.024, {"sign": True}, "+2.4%"),
    (-0.024, {}, "−2.4%"),
    (0.00002, {}, "< 0.1%"),
    (0.0, {}, "0.0%"),
    (0.327, {"locale": "de_DE"}, "32,7 %"),
])
def test_percent(x, kwargs, expected):
    assert plain(fmt.percent(x, **kwargs)) == expected


@pytest.mark.parametrize(("seconds", "expected"), [
    (245.4, "4:05"), (59.4, "0:59"), (59.6, "1:00"), (0, "0:00"), (3725, "1:02:05"),
    (-65, "−1:05"), (None, "–"), (float("nan"), "–"),
])
def test_durations_are_minutes_and_seconds(seconds, expected):
    assert fmt.duration(seconds) == expected


@pytest.mark.parametrize(("p", "expected"), [
    (6.596065e-10, "< 0.001"), (0.00099, "< 0.001"), (0.001, "0.001"), (0.0234, "0.023"),
    (0.0499, "0.050"), (0.12, "0.12"), (0.5, "0.50"), (1.0, "1.00"),
])
def test_p_values(p, expected):
    assert fmt.p_value(p) == expected


@pytest.mark.parametrize(("args", "kwargs", "expected"), [
    ((0.3271, 0.3212, 0.3331, "share"), {}, "32.7% (32.1–33.3%)"),
    ((818312, 809100, 831050, "money"), {"currency": "EUR"}, "€818,000 (€809,000–€831,000)"),
    ((31.24, 27.1, 35.3, "points"), {}, "+31 (+27 to +35)"),
    ((1.17, 1.05, 1.31, "ratio"), {}, "1.17× (1.05–1.31×)"),
    ((-1.23, -1.9, -0.56, "number"), {}, "−1.2 (−1.9 to −0.6)"),
    ((182.4, 170.2, 195.9, "days"), {}, "182 days (170–196 days)"),
    ((245.0, 240.0, 250.0, "seconds"), {}, "4:05 (4:00–4:10)"),
    ((4.2, None, None, "rating"), {}, "4.20"),
    ((None, 1.0, 2.0, "number"), {}, "–"),
])
def test_intervals_are_rounded_alike_and_joined_readably(args, kwargs, expected):
    assert fmt.interval(*args, **kwargs) == expected


def test_money_without_a_currency_and_an_unknown_kind_are_errors():
    with pytest.raises(ValueError, match="currency"):
        fmt.value(12.0, "money")
    with pytest.raises(ValueError, match="unknown kind"):
        fmt.value(12.0, "furlongs")


@settings(max_examples=300, deadline=None)
@given(x=st.floats(min_value=-1e13, max_value=1e13, allow_nan=False),
       kind=st.sampled_from(fmt.KINDS), se=st.none() | st.floats(1e-9, 1e9))
def test_no_kind_ever_writes_scientific_notation(x, kind, se):
    text = fmt.value(x, kind, currency="EUR", se=se)
    assert not SCIENTIFIC.search(text), text
    assert text and text != "nan"


def test_metric_takes_its_kind_from_the_registry_then_its_unit():
    fcr = Metric("fcr", 0.7123, ci_low=0.701, ci_high=0.724, n=5000, unit="share")
    assert fmt.metric(fcr) == "71.2% (70.1–72.4%)"
    equity = {"name": "customer_equity", "value": 201873.0, "ci_low": 185000.0,
              "ci_high": 218000.0, "unit": "USD"}
    assert fmt.metric(equity) == "US$202,000 (US$185,000–US$218,000)"
    assert fmt.metric({"name": "aht_seconds", "value": 305.2}) == "5:05"
    assert fmt.metric({"name": "unknown", "value": 0.25, "unit": "share"}) == "25.0%"
    assert fmt.metric({"name": "unknown", "value": None, "unit": "share"}) == "–"


def _recorded_names() -> set[str]:
    names = set()
    for path in EXPECTED.glob("*.json"):
        for entry in json.loads(path.read_text()).values():
            for m in entry.get("metrics", []) if isinstance(entry, dict) else entry:
                names.add(m["name"])
    return names


def test_every_recorded_headline_figure_has_a_label():
    missing = sorted(n for n in _recorded_names()
                     if n not in labels.LABELS and not n.startswith("initiative_"))
    assert not missing, f"headline figures without a label: {missing}"


def test_labels_are_well_formed():
    for name, entry in labels.LABELS.items():
        assert entry.name == name
        assert entry.kind in fmt.KINDS, (name, entry.kind)
        assert entry.direction in (None, "higher", "lower"), (name, entry.direction)
        assert entry.label and "_" not in entry.label, (name, entry.label)


def test_unregistered_names_are_humanised_never_raw():
    assert labels.humanise("tenure_days") == "Tenure days"
    assert labels.label("unregistered_nps_by_channel") == "Unregistered NPS by channel"
    assert labels.topic("06_scorecard") == "Scorecard"

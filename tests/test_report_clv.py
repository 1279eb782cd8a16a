"""The manager-facing parts of notebook 02 (crmlib.report.clv): findings and report tables.

Every expected wording and number below is derived by hand from the small inputs.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from crmlib import formatting as fmt
from crmlib.report import clv as clv_report
from crmlib.results import Metric


def _comparison(selected="pareto_nbd", contractual=False, refused=None):
    table = pd.DataFrame(
        {"model": ["BG/NBD", "Pareto/NBD", "MBG/NBD", "NBD"],
         "predicted_holdout": [2400.0, 2513.11, 2300.0, 2000.0],
         "actual_holdout": [2518, 2518, 2518, 2518],
         "error_pct": [-4.7, -0.194, -8.7, -20.6],
         "reliable": [True, True, False, True],
         "selected": [False, selected == "pareto_nbd", False, selected == "nbd"]},
        index=["bg_nbd", "pareto_nbd", "mbg_nbd", "nbd"])
    return SimpleNamespace(table=table, selected=selected, contractual=contractual,
                           refused=refused, warning=None)


def _figures(err=-0.194, status="ok", reason=None):
    return [Metric("customer_equity", 202422.27, ci_low=185372.99, ci_high=218268.89,
                   status=status, reason=reason),
            Metric("clv_mean", 67.47, ci_low=61.79, ci_high=72.76, status=status,
                   reason=reason),
            Metric("expected_purchases_holdout", 2513.11),
            Metric("actual_purchases_holdout", 2518.0),
            Metric("holdout_error_pct", err)]


def _value(values, horizon=24, warnings=()):
    return SimpleNamespace(values=values, horizon_months=horizon, available=True,
                           warnings=tuple(warnings), reason=None)


def _ten_customers():
    # the top customer holds 18 of 100: 18%; the other nine 82/9 each
    return pd.DataFrame({"clv": [18.0] + [82.0 / 9] * 9},
                        index=pd.Index([f"c{i}" for i in range(10)], name="customer_id"))


# --- gini and concentration ------------------------------------------------------------------

def test_gini_by_hand():
    # sorted 1,2,3,4: sum (2i - 5) v_i = -3 - 2 + 3 + 12 = 10; / (4 * 10) = 0.25
    assert clv_report.gini(pd.DataFrame({"clv": [4.0, 1.0, 3.0, 2.0]})) == pytest.approx(0.25)
    # 82/9 nine times then 18: -9 * 82/9 + 9 * 18 = 80; / (10 * 100) = 0.08
    assert clv_report.gini(_ten_customers()) == pytest.approx(0.08)
    assert np.isnan(clv_report.gini(pd.DataFrame({"clv": [0.0, 0.0]})))


@pytest.mark.parametrize(("share", "words"), [
    (0.10, "fairly evenly spread"), (0.149, "fairly evenly spread"),
    (0.15, "moderately concentrated"), (0.18, "moderately concentrated"),
    (0.30, "concentrated"), (0.49, "concentrated"), (0.50, "highly concentrated"),
])
def test_concentration_words_follow_the_top_decile_share(share, words):
    assert clv_report.concentration_words(share) == words


def test_eighteen_percent_is_not_called_very_unequal():
    f = clv_report.key_findings(_figures(), _comparison(), _value(_ten_customers()))
    text = " ".join(f.sentences)
    assert ("Value is moderately concentrated: the most valuable tenth of customers holds 18% "
            "of it (an even spread would give 10%), Gini coefficient 0.08.") in f.sentences
    assert "very unequal" not in text


def test_highly_concentrated_value():
    # 20 customers, 2 of them worth 9 each, 18 worth 1: top tenth 18 / 36 = 50%
    v = pd.DataFrame({"clv": [9.0, 9.0] + [1.0] * 18})
    f = clv_report.key_findings(_figures(), _comparison(), _value(v))
    assert any(s.startswith("Value is highly concentrated") and "50%" in s for s in f.sentences)


# --- equity, mean and the model ---------------------------------------------------------------

def test_equity_and_mean_with_predictive_interval_and_currency():
    f = clv_report.key_findings(_figures(), _comparison(), _value(_ten_customers()),
                                currency="EUR")
    eq = fmt.interval(202422.27, 185372.99, 218268.89, "money", currency="EUR")
    assert f.sentences[0].startswith("Customer equity, the discounted value of the 10 customers"
                                     " who have bought over the next 24 months, is " + eq)
    assert "; the range is a 95% predictive interval covering the uncertain model parameters" \
        in f.sentences[0]
    assert "€" in f.sentences[0] and "e+" not in f.sentences[0]
    mean = fmt.interval(67.47, 61.79, 72.76, "money", currency="EUR")
    assert f.sentences[1] == f"A customer is worth {mean} on average over that horizon."


def test_close_model_in_words():
    f = clv_report.key_findings(_figures(err=-0.194), _comparison(), _value(_ten_customers()))
    assert ("The Pareto/NBD model was chosen because its customer-by-customer predictions of "
            "the holdout period were the closest; its prediction was close: 2,513 repeat "
            "purchases predicted against 2,518 made, 0.2% below the actual.") in f.sentences


def test_poor_model_and_its_warning_as_caution():
    why = "the selected model missed the holdout repeat purchases by -12.9% (more than 10%)"
    figs = _figures(err=-12.857, status="warning", reason=why)
    f = clv_report.key_findings(figs, _comparison(), _value(_ten_customers()))
    assert any("prediction was poor" in s and "12.9% below the actual" in s
               for s in f.sentences)
    assert f.cautions == ("The selected model missed the holdout repeat purchases by -12.9% "
                          "(more than 10%).",)


def test_a_warning_said_within_a_longer_one_is_not_repeated():
    short = "the selected model missed the holdout repeat purchases by -12.9% (more than 10%)"
    long = short + "; the Pareto/NBD model missed the value bought in the holdout by -15.8%"
    figs = [*_figures(err=-12.857, status="warning", reason=long),
            Metric("holdout_error_pct", -12.857, status="warning", reason=short)]
    f = clv_report.key_findings(figs, _comparison(), _value(_ten_customers()))
    assert f.cautions == (long[0].upper() + long[1:] + ".",)


def test_fair_model_over_the_actual():
    f = clv_report.key_findings(_figures(err=7.5), _comparison(), _value(_ten_customers()))
    assert any("prediction was fair" in s and "7.5% above the actual" in s for s in f.sentences)


def test_spend_model_replaced_and_correlation_are_cautions_said_once():
    replaced = "the Gamma-Gamma fit is not reliable: each customer's own mean spend is used"
    corr = ("spend per purchase is correlated with purchase frequency (r = 0.25, 0.20 to "
            "0.30): the Gamma-Gamma model assumes them independent, so values of frequent "
            "buyers are biased")
    figs = [*_figures(status="warning", reason=replaced),
            Metric("spend_frequency_corr", 0.25, ci_low=0.2, ci_high=0.3, status="warning",
                   reason=corr)]
    f = clv_report.key_findings(figs, _comparison(),
                                _value(_ten_customers(), warnings=(replaced, corr)))
    assert f.cautions == (replaced[0].upper() + replaced[1:] + ".",
                          corr[0].upper() + corr[1:] + ".")


def test_contractual_unit_speaks_of_subscribers_and_renewals():
    f = clv_report.key_findings(_figures(), _comparison(contractual=True),
                                _value(_ten_customers(), horizon=36))
    assert "the 10 subscribers still under contract over the next 36 months" in f.sentences[0]
    assert f.sentences[1].startswith("A subscriber is worth")
    assert any("2,513 renewals predicted against 2,518 made" in s for s in f.sentences)


# --- groups -----------------------------------------------------------------------------------

def _groups(web=(100.0, 90.0, 110.0), store=(50.0, 45.0, 55.0)):
    return pd.DataFrame({"variable": ["channel", "channel"], "group": ["web", "store"],
                         "customers": [5, 5], "clv_total": [500.0, 250.0],
                         "share": [2 / 3, 1 / 3], "clv_mean": [web[0], store[0]],
                         "se": [5.0, 2.5], "ci_low": [web[1], store[1]],
                         "ci_high": [web[2], store[2]]})


def test_group_named_only_when_its_interval_separates():
    f = clv_report.key_findings(_figures(), _comparison(), _value(_ten_customers()),
                                by_group=_groups())
    assert any(s.startswith("Customers of the acquisition channel web are worth most")
               and "clearly above every other acquisition channel" in s for s in f.sentences)


def test_no_group_named_when_intervals_overlap():
    f = clv_report.key_findings(_figures(), _comparison(), _value(_ten_customers()),
                                by_group=_groups(web=(100.0, 80.0, 120.0),
                                                 store=(90.0, 70.0, 110.0)))
    text = " ".join(f.sentences)
    assert "worth most" not in text
    assert ("No group stands out by acquisition channel: the interval of the most valuable "
            "group overlaps those of others.") in f.sentences


# --- degenerate units -------------------------------------------------------------------------

def test_no_valuation_says_why():
    figs = [Metric("customer_equity", None, status="not available",
                   reason="12 customers who bought by the end of calibration, fewer than the "
                          "minimum of 50")]
    comp = _comparison(selected=None, refused="too few customers to fit a model")
    f = clv_report.key_findings(figs, comp, SimpleNamespace(available=False, warnings=(),
                                                            reason="no model"))
    assert f.sentences == (
        "Customer equity is not available because 12 customers who bought by the end of "
        "calibration, fewer than the minimum of 50.",
        "No model could be used to value the customers because too few customers to fit a "
        "model.")


def test_nothing_at_all_never_raises():
    f = clv_report.key_findings([])
    assert f.sentences == ("Customer equity is not available because no model could be "
                           "fitted.",)


# --- report tables ----------------------------------------------------------------------------

def test_model_choice_lists_usable_models_chosen_first():
    t = clv_report.model_choice(_comparison())
    # MBG/NBD is unreliable, the NBD not selected: both left out
    assert t["model"].tolist() == ["Pareto/NBD", "BG/NBD"]
    assert t["model_chosen"].tolist() == ["yes", "no"]
    assert t["holdout_error"].tolist() == [-0.194, -4.7]
    assert clv_report.model_choice(_comparison(selected=None)).empty


def test_top_customers_table_at_most_15_rows_keys_as_given():
    v = pd.DataFrame({"clv": np.arange(40, 0, -1, dtype=float)},
                     index=pd.Index([f"p{i:02d}" for i in range(40)], name="customer_id"))
    t = clv_report.top_customers_table(v, 50)
    assert len(t) == 15
    assert t.columns.tolist() == ["clv_rank", "customer_id", "clv", "share"]
    # total 40 * 41 / 2 = 820; the top customer is worth 40
    assert t.iloc[0].tolist() == [1, "p00", 40.0, pytest.approx(40 / 820)]


def test_group_table_in_words_with_interval_columns():
    t = clv_report.group_table(_groups())
    assert t.columns.tolist() == ["value_attribute", "group", "customers", "clv_mean",
                                  "clv_mean_ci_low", "clv_mean_ci_high", "share"]
    assert t["value_attribute"].tolist() == ["acquisition channel"] * 2


def test_report_tables_render_with_currency():
    from crmlib import report

    html = report.table(clv_report.group_table(_groups()), currency="EUR",
                        sort_by="clv_mean")._repr_html_()
    assert "€100 (€90–€110)" in html or "€100.00 (€90.00–€110.00)" in html
    assert "Mean lifetime value" in html


def test_only_usable_model_is_not_said_to_have_predicted_best():
    comp = _comparison(contractual=True)
    comp.table = comp.table.loc[["pareto_nbd"]]
    f = clv_report.key_findings(_figures(), comp, _value(_ten_customers()))
    assert any(s.startswith("The Pareto/NBD model was chosen as the only usable model; its "
                            "prediction was close") for s in f.sentences)


def test_group_table_keeps_each_attribute_together_most_valuable_first():
    g = pd.concat([_groups(web=(40.0, 30.0, 50.0)),
                   _groups().assign(variable="segment", group=["Loyal", "New"])],
                  ignore_index=True)
    t = clv_report.group_table(g)
    # channel first (as given), store (50) above web (40); then the segments, 100 above 50
    assert t["group"].tolist() == ["store", "web", "Loyal", "New"]
    assert clv_report.group_table(g, ["segment"])["value_attribute"].tolist() == \
        ["RFM segment"] * 2


def test_a_refusal_already_given_is_not_repeated():
    why = "none of the 348 customers bought again in the calibration period"
    figs = [Metric("customer_equity", None, status="not available", reason=why)]
    f = clv_report.key_findings(figs, _comparison(selected=None, refused=why),
                                SimpleNamespace(available=False, warnings=(), reason=why))
    assert f.sentences == ("Customer equity is not available because none of the 348 "
                           "customers bought again in the calibration period.",)


def test_customers_not_valued_leave_the_tables_empty():
    v = pd.DataFrame({"clv": [np.nan] * 3}, index=pd.Index(list("abc"), name="customer_id"))
    assert clv_report.concentration_table(v).empty
    assert clv_report.top_customers_table(v).empty
    g = _groups().assign(clv_mean=np.nan, ci_low=np.nan, ci_high=np.nan)
    assert clv_report.group_table(g).empty
    # one valued customer of three is listed alone
    v.loc["b", "clv"] = 5.0
    assert clv_report.top_customers_table(v)["customer_id"].tolist() == ["b"]


def test_no_range_claimed_without_an_interval():
    figs = [Metric("customer_equity", 0.0, ci_low=0.0, ci_high=0.0, status="warning",
                   reason="no customer is under contract at the as-of date: the equity is 0")]
    f = clv_report.key_findings(figs, _comparison(contractual=True),
                                _value(pd.DataFrame({"clv": []}), horizon=24))
    assert f.sentences[0] == ("Customer equity, the discounted value of the subscribers still "
                              "under contract over the next 24 months, is €0.00.")


def test_overlap_sentence_names_every_attribute():
    g = pd.concat([_groups(web=(100.0, 80.0, 120.0), store=(90.0, 70.0, 110.0)),
                   _groups(web=(100.0, 80.0, 120.0), store=(90.0, 70.0, 110.0)).assign(
                       variable="region"),
                   _groups(web=(100.0, 80.0, 120.0), store=(90.0, 70.0, 110.0)).assign(
                       variable="segment")], ignore_index=True)
    f = clv_report.key_findings(_figures(), _comparison(), _value(_ten_customers()),
                                by_group=g)
    assert ("No group stands out by acquisition channel, region or RFM segment: the interval "
            "of the most valuable group overlaps those of others.") in f.sentences

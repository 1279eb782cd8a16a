"""Tests of crmlib.config: merging, paths, every error message, the template, the shipped units."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from crmlib import config
from crmlib.config import ParamsError, UnitParams
from crmlib.config._load import UniqueKeyLoader, merge

REPO = Path(__file__).resolve().parents[1]
NAME_MSG = "not a valid unit name (lowercase letters, digits and _, starting with a letter)"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project root holding a copy of the shipped defaults and no units."""
    (tmp_path / "params" / "units").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", tmp_path / "params" / "defaults.yaml")
    return tmp_path


def write_unit(project: Path, name: str, text: str) -> Path:
    path = project / "params" / "units" / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load(project: Path, name: str, text: str) -> UnitParams:
    write_unit(project, name, text)
    return config.load_params(name, params_dir=project / "params")


def error_of(project: Path, text: str, name: str = "retail") -> str:
    with pytest.raises(ParamsError) as info:
        load(project, name, text)
    message = str(info.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------------------ merging, paths
def test_unit_file_overrides_defaults_and_dicts_merge_recursively(project):
    params = load(
        project,
        "retail",
        "currency: USD\n"
        "service:\n"
        "  channels:\n"
        "    phone: {cost_per_contact: 7.5}\n"
        "  targets: {fcr: 0.8}\n"
        "retention:\n"
        "  horizons: [60]\n",
    )
    assert params.unit == "retail"
    assert params.currency == "USD"
    phone = params.service.channels["phone"]
    assert phone.cost_per_contact == 7.5  # from the unit file
    assert phone.service_level_seconds == 20  # kept from defaults.yaml
    assert phone.service_level_target == 0.80
    assert params.service.channels["email"].service_level_seconds == 86400
    assert params.service.targets.fcr == 0.8
    assert params.service.targets.abandonment == 0.05  # sibling kept
    assert params.retention.horizons == [60]  # lists replace, not append
    assert params.retention.inactivity_days == 365
    assert params.discount_rate == 0.10
    assert params.as_of == date(2024, 12, 31)


def test_null_over_a_mapping_removes_it(project):
    text = "segmentation:\n  segments:\n    New: null\n    Promising: {r: [4, 5], f: [1, 1]}\n"
    params = load(project, "retail", text)
    assert "New" not in params.segmentation.segments
    assert params.segmentation.segments["Promising"].r == (4, 5)
    assert len(params.segmentation.segments) == 9


def test_merge_does_not_change_its_inputs():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    over = {"a": {"c": [3]}, "e": 2}
    merged = merge(base, over)
    assert merged == {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}


def test_relative_source_resolved_against_project_root(project, monkeypatch, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(elsewhere)  # resolution must not depend on the working directory
    params = load(project, "retail", "data: {source: data/other}\n")
    assert params.data.source == str(project / "data" / "other")
    assert Path(params.data.source).is_absolute()
    params = load(project, "retail", "data: {source: ../shared/crm.duckdb}\n")
    assert params.data.source == str(project.parent / "shared" / "crm.duckdb")


def test_default_source_is_data_sample_under_the_root(project):
    params = load(project, "retail", "")
    assert params.data.source == str(project / "data" / "sample")


def test_absolute_path_and_url_are_kept(project):
    params = load(project, "retail", "data: {source: /srv/crm/data}\n")
    assert params.data.source == "/srv/crm/data"
    url = "postgresql+psycopg://crm@db.example/crm"
    params = load(project, "retail", f"data: {{source: '{url}'}}\n")
    assert params.data.source == url


def test_business_unit_defaults_to_unit_name(project):
    assert load(project, "retail", "").data.business_unit == "retail"
    params = load(project, "retail", "data: {business_unit: shop}\n")
    assert params.data.business_unit == "shop"


def test_params_file_replaces_the_unit_file(project, tmp_path_factory):
    other = tmp_path_factory.mktemp("elsewhere") / "trial.yaml"
    other.write_text("currency: GBP\n", encoding="utf-8")
    params = config.load_params("trial", params_dir=project / "params", params_file=other)
    assert params.unit == "trial"
    assert params.currency == "GBP"
    assert params.discount_rate == 0.10  # defaults still apply


def test_loaded_params_are_frozen(project):
    params = load(project, "retail", "")
    with pytest.raises(ValidationError, match="frozen"):
        params.currency = "USD"


def test_defaults_yaml_equals_the_built_in_defaults(project):
    loaded = load(project, "retail", "")
    source = str(project / "data" / "sample")
    built_in = UnitParams(unit="retail", data={"source": source}, as_of=date(2024, 12, 31))
    assert loaded == built_in


def test_every_shared_default_is_the_constant_of_crmlib_defaults():
    """A default both a function and the params use is defined once, in crmlib.defaults."""
    from crmlib import defaults

    p = UnitParams(unit="retail", data={"source": "data/sample"})
    assert p.alpha == defaults.ALPHA
    assert p.discount_rate == defaults.DISCOUNT_RATE
    seg = p.segmentation
    assert seg.rfm_bins == defaults.RFM_BINS
    assert seg.k_range == defaults.CLUSTER_K_RANGE
    assert {name: (rule.r, rule.f) for name, rule in seg.segments.items()} == defaults.RFM_GRID
    svc = p.service
    assert {k: c.model_dump() for k, c in svc.channels.items()} == defaults.SERVICE_CHANNELS
    assert svc.targets.model_dump() == defaults.SERVICE_TARGETS
    assert svc.repeat_contact_days == defaults.REPEAT_CONTACT_DAYS
    assert svc.short_abandon_seconds == defaults.SHORT_ABANDON_SECONDS
    metrics = [m.model_dump() for m in p.scorecard.metrics]
    assert metrics == [{k: v for k, v in m.items() if k not in ("low", "high")}
                       for m in defaults.SCORECARD_METRICS]
    assert p.retention.inactivity_days == defaults.INACTIVITY_DAYS
    assert p.retention.cohort_period == defaults.COHORT_PERIOD
    assert p.retention.min_cohort_size == defaults.MIN_COHORT_SIZE
    survey = p.survey
    assert (survey.min_n, survey.nps_method, survey.n_bootstrap, survey.multiple_testing,
            survey.weight_trim) == (defaults.SURVEY_MIN_N, defaults.NPS_METHOD,
                                    defaults.NPS_BOOTSTRAP, defaults.MULTIPLE_TESTING,
                                    defaults.WEIGHT_TRIM)


# ------------------------------------------------------------------------- root and units
def test_project_root_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_PROJECT_ROOT", str(tmp_path))
    assert config.project_root() == tmp_path


def test_project_root_is_nearest_parent_with_defaults(monkeypatch, project):
    monkeypatch.delenv("CRM_PROJECT_ROOT", raising=False)
    deep = project / "notebooks" / "sub"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert config.project_root() == project
    write_unit(project, "retail", "currency: CHF\n")
    assert config.load_params("retail").currency == "CHF"


def test_project_root_falls_back_to_package_parent(monkeypatch, tmp_path):
    monkeypatch.delenv("CRM_PROJECT_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert config.project_root() == Path(config.__file__).resolve().parents[2]


def test_list_units(project):
    assert config.list_units(project / "params") == []
    for name in ("zeta", "alpha", "b_2"):
        write_unit(project, name, "")
    (project / "params" / "units" / "Not-A-Unit.yaml").write_text("", encoding="utf-8")
    (project / "params" / "units" / "notes.txt").write_text("", encoding="utf-8")
    assert config.list_units(project / "params") == ["alpha", "b_2", "zeta"]


# ------------------------------------------------------------------------------ unit names
@pytest.mark.parametrize(
    "name", ["../etc", "Retail", "1st", "_x", "a-b", "a/b", "", "retail\n", "a" * 65]
)
def test_unit_name_guard(project, name):
    with pytest.raises(ParamsError) as info:
        config.load_params(name, params_dir=project / "params")
    assert str(info.value) == f"unit {name!r}: {NAME_MSG}"


def test_unit_name_guard_exact_message(project):
    with pytest.raises(ParamsError) as info:
        config.load_params("../etc", params_dir=project / "params")
    assert str(info.value) == (
        "unit '../etc': not a valid unit name "
        "(lowercase letters, digits and _, starting with a letter)"
    )
    assert config.check_unit_name("a" * 64) == "a" * 64


def test_missing_unit_lists_the_units(project):
    write_unit(project, "retail", "")
    write_unit(project, "cdnow", "")
    with pytest.raises(ParamsError) as info:
        config.load_params("b2b", params_dir=project / "params")
    assert str(info.value) == (
        "unit 'b2b': no params file params/units/b2b.yaml (units: cdnow, retail)"
    )


def test_missing_unit_when_there_are_none(project):
    with pytest.raises(ParamsError) as info:
        config.load_params("b2b", params_dir=project / "params")
    assert str(info.value) == (
        "unit 'b2b': no params file params/units/b2b.yaml (there are no units yet)"
    )


def test_missing_defaults(tmp_path):
    (tmp_path / "params" / "units").mkdir(parents=True)
    write_unit(tmp_path, "retail", "")
    with pytest.raises(ParamsError) as info:
        config.load_params("retail", params_dir=tmp_path / "params")
    assert str(info.value).startswith("params/defaults.yaml: file not found")


# -------------------------------------------------------------------------------- YAML errors
def test_yaml_syntax_error_names_file_and_line(project):
    message = error_of(project, "currency: USD\n  alpha: 0.1\n")
    assert message == (
        "params/units/retail.yaml, line 2: invalid YAML: mapping values are not allowed here"
    )


def test_unclosed_list_names_file_and_line(project):
    message = error_of(project, "currency: USD\nalpha: [0.1\nrandom_state: 1\n")
    assert message == (
        "params/units/retail.yaml, line 3: invalid YAML: expected ',' or ']', but got ':'"
    )


def test_duplicate_key_is_refused(project):
    message = error_of(project, "currency: USD\nalpha: 0.1\ncurrency: EUR\n")
    assert message == (
        "params/units/retail.yaml, line 3: duplicate key 'currency' (first given on line 1)"
    )


def test_duplicate_nested_key_is_refused(project):
    message = error_of(project, "service:\n  targets:\n    fcr: 0.7\n    fcr: 0.8\n")
    assert message == (
        "params/units/retail.yaml, line 4: duplicate key 'fcr' (first given on line 3)"
    )


def test_duplicate_key_in_defaults_names_defaults(project):
    defaults = project / "params" / "defaults.yaml"
    lines = defaults.read_text().splitlines()
    first = 1 + next(i for i, line in enumerate(lines) if line.startswith("alpha:"))
    defaults.write_text("\n".join([*lines, "alpha: 0.1", ""]), encoding="utf-8")
    assert error_of(project, "") == (
        f"params/defaults.yaml, line {len(lines) + 1}: duplicate key 'alpha' "
        f"(first given on line {first})"
    )


def test_yaml_merge_keys_are_not_duplicates(project):
    text = (
        "service:\n  channels:\n"
        "    phone: &p {service_level_seconds: 10, service_level_target: 0.9,"
        " cost_per_contact: 5.0}\n"
        "    chat:\n      <<: *p\n      cost_per_contact: 2.0\n"
    )
    chat = load(project, "retail", text).service.channels["chat"]
    assert (chat.service_level_seconds, chat.service_level_target) == (10, 0.9)
    assert chat.cost_per_contact == 2.0


def test_python_tags_are_not_executed(project, tmp_path):
    marker = tmp_path / "executed"
    text = f"currency: !!python/object/apply:os.system ['touch {marker}']\n"
    message = error_of(project, text)
    assert message == (
        "params/units/retail.yaml, line 1: invalid YAML: could not determine a constructor "
        "for the tag 'tag:yaml.org,2002:python/object/apply:os.system'"
    )
    assert not marker.exists()
    assert issubclass(UniqueKeyLoader, __import__("yaml").SafeLoader)


def test_impossible_date_names_line(project):
    message = error_of(project, "currency: USD\nas_of: 2024-13-01\n")
    assert message == (
        "params/units/retail.yaml, line 2: invalid YAML: invalid date '2024-13-01' "
        "(month must be in 1..12)"
    )


def test_top_level_must_be_a_mapping(project):
    message = error_of(project, "- a\n- b\n")
    assert (
        message == "params/units/retail.yaml: expected a mapping of keys at the top level, got list"
    )


def test_boolean_key_is_explained(project):
    message = error_of(project, "service:\n  on: 1\n")
    assert message == (
        "params/units/retail.yaml: key True in 'service' is not a string "
        "(quote it: YAML reads yes/no/on/off as booleans)"
    )


def test_empty_unit_file_is_all_defaults(project):
    assert load(project, "retail", "# nothing yet\n").currency == "EUR"


# ------------------------------------------------------------------------- schema errors
def test_unknown_key_suggests_the_closest(project):
    message = error_of(project, "segmentation:\n  key_segmets: [Champions]\n")
    assert message == (
        "params/units/retail.yaml: unknown key 'segmentation.key_segmets' "
        "(did you mean 'key_segments'?)"
    )


def test_unknown_top_level_key(project):
    message = error_of(project, "curency: USD\n")
    assert message == "params/units/retail.yaml: unknown key 'curency' (did you mean 'currency'?)"


def test_unknown_key_without_close_match_lists_valid_keys(project):
    message = error_of(project, "retention:\n  zzz: 1\n")
    assert message == (
        "params/units/retail.yaml: unknown key 'retention.zzz' (valid keys: inactivity_days, "
        "cohort_period, min_cohort_size, horizons)"
    )


def test_unknown_channel_and_channel_field(project):
    text = "service:\n  channels:\n    phnoe: {cost_per_contact: 1}\n"
    assert error_of(project, text) == (
        "params/units/retail.yaml: unknown key 'service.channels.phnoe' (did you mean 'phone'?)"
    )
    text = "service:\n  channels:\n    phone: {cost_per_contac: 2}\n"
    assert error_of(project, text) == (
        "params/units/retail.yaml: unknown key 'service.channels.phone.cost_per_contac' "
        "(did you mean 'cost_per_contact'?)"
    )


def test_unknown_key_in_a_list_item(project):
    text = "initiatives:\n  - {name: x, start: 2024-01-01, treated: retail, metric: [fcr]}\n"
    assert error_of(project, text) == (
        "params/units/retail.yaml: unknown key 'initiatives[0].metric' (did you mean 'metrics'?)"
    )


def test_bad_key_in_defaults_names_defaults(project):
    defaults = project / "params" / "defaults.yaml"
    text = defaults.read_text().replace("  rfm_bins: 5", "  rfm_binz: 5")
    defaults.write_text(text, encoding="utf-8")
    message = error_of(project, "currency: USD\n")
    assert message == (
        "params/defaults.yaml: unknown key 'segmentation.rfm_binz' (did you mean 'rfm_bins'?)"
    )


def test_bad_value_names_the_file_that_set_it(project):
    defaults = project / "params" / "defaults.yaml"
    text = defaults.read_text().replace("  min_n: 30", "  min_n: -3")
    defaults.write_text(text, encoding="utf-8")
    assert error_of(project, "") == "params/defaults.yaml: survey.min_n = -3: expected a number > 0"
    # the unit file overrides the bad default, so the merged params are valid
    assert load(project, "retail", "survey: {min_n: 50}\n").survey.min_n == 50


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "segmentation:\n  rfm_bins: five\n",
            "segmentation.rfm_bins = 'five': expected an integer",
        ),
        ("segmentation:\n  rfm_bins: 5.5\n", "segmentation.rfm_bins = 5.5: expected an integer"),
        ("random_state: true\n", "random_state = True: expected an integer"),
        ("discount_rate: 1.5\n", "discount_rate = 1.5: expected a number < 1.0"),
        ("discount_rate: '0.1'\n", "discount_rate = '0.1': expected a number"),
        ("alpha: 0\n", "alpha = 0: expected a number > 0.0"),
        ("contractual: maybe\n", "contractual = 'maybe': expected true or false"),
        (
            "currency: euro\n",
            "currency = 'euro': expected an ISO 4217 code of three capital letters, e.g. EUR",
        ),
        ("as_of: 31/12/2024\n", "as_of = '31/12/2024': expected a date (YYYY-MM-DD)"),
        (
            "as_of: 2024-12-31 10:00:00\n",
            "as_of = 2024-12-31T10:00:00: expected a date without a time (YYYY-MM-DD)",
        ),
        ("clv:\n  time_unit: Y\n", "clv.time_unit = 'Y': expected 'D', 'W' or 'M'"),
        (
            "clv:\n  models: [bg_nbd, bgnbd]\n",
            "clv.models[1] = 'bgnbd': expected 'bg_nbd', "
            "'pareto_nbd', 'mbg_nbd', 'bg_bb', 'sbg' or 'gamma_gamma'",
        ),
        (
            "clv:\n  calibration_end: 2025-01-01\n",
            "clv.calibration_end = 2025-01-01: expected a date before as_of",
        ),
        (
            "survey:\n  nps_method: exact\n",
            "survey.nps_method = 'exact': expected 'adjusted-wald', 'wald' or 'bootstrap'",
        ),
        (
            "survey:\n  multiple_testing: fdr\n",
            "survey.multiple_testing = 'fdr': expected 'holm', 'fdr_bh' or 'bonferroni'",
        ),
        ("retention:\n  cohort_period: W\n", "retention.cohort_period = 'W': expected 'M' or 'Q'"),
        ("retention:\n  horizons: 90\n", "retention.horizons = 90: expected a list"),
        (
            "retention:\n  horizons: [90, 90]\n",
            "retention.horizons[1] = 90: expected each entry once (a duplicate)",
        ),
        (
            "segmentation:\n  n_clusters: 1\n",
            "segmentation.n_clusters = 1: expected 'auto' or an integer >= 2",
        ),
        (
            "segmentation:\n  k_range: [2, 3, 4]\n",
            "segmentation.k_range = [2, 3, 4]: expected a list of 2 items [low, high]",
        ),
        (
            "segmentation:\n  k_range: [6, 3]\n",
            "segmentation.k_range = [6, 3]: expected [low, high] with 2 <= low <= high",
        ),
        ("segmentation: 5\n", "segmentation = 5: expected a mapping of keys"),
        (
            "segmentation:\n  key_segments: [Champs]\n",
            "segmentation.key_segments[0] = 'Champs': expected one of the segments' names",
        ),
        (
            "notebooks: [00_customer_base, 00_customer_base]\n",
            "notebooks[1] = '00_customer_base': expected each entry once (a duplicate)",
        ),
        (
            "notebooks: [07_extra]\n",
            "notebooks[0] = '07_extra': expected '00_customer_base', "
            "'01_segmentation', '02_lifetime_value', '03_retention', '04_survey', "
            "'05_service_quality' or '06_scorecard'",
        ),
        (
            "service:\n  channels:\n    phone: {service_level_target: 80}\n",
            "service.channels.phone.service_level_target = 80: expected a number <= 1.0",
        ),
        ("unit: shop\n", "unit = 'shop': expected 'retail' (the unit's name)"),
    ],
)
def test_wrong_values_name_file_key_value_and_expectation(project, text, expected):
    assert error_of(project, text) == f"params/units/retail.yaml: {expected}"


def test_margins_must_sum_to_one(project):
    ok = (
        "survey:\n  margins:\n    region: {north: 0.4, south: 0.6}\n"
        "    plan: {a: 0.3333333, b: 0.6666667}\n"
    )
    params = load(project, "retail", ok)
    assert params.survey.margins["region"] == {"north": 0.4, "south": 0.6}
    bad = "survey:\n  margins:\n    region: {north: 0.4, south: 0.5}\n"
    assert error_of(project, bad) == (
        "params/units/retail.yaml: survey.margins.region: expected shares summing to 1 "
        "(they sum to 0.9)"
    )
    bad = "survey:\n  margins:\n    region: {north: 1.2, south: -0.2}\n"
    assert error_of(project, bad) == (
        "params/units/retail.yaml: survey.margins.region.north = 1.2: expected a number <= 1.0"
    )


def test_segment_grid_must_cover_each_cell_once(project):
    text = "segmentation:\n  segments:\n    New: {r: [5, 5], f: [1, 2]}\n"
    assert error_of(project, text) == (
        "params/units/retail.yaml: segmentation.segments.New: cell r=5, f=2 is also in segment "
        "'Potential Loyalists'; expected each cell in exactly one segment"
    )
    text = "segmentation:\n  segments:\n    New: null\n"
    assert error_of(project, text) == (
        "params/units/retail.yaml: segmentation.segments: cell r=5, f=1 is in no segment "
        "(1 uncovered); expected each cell in exactly one segment"
    )
    text = "segmentation:\n  rfm_bins: 4\n"
    assert error_of(project, text) == (
        "params/defaults.yaml: segmentation.segments.Champions.r = [5, 5]: expected scores "
        "within 1..4 (rfm_bins)"
    )


def test_standard_segment_grid(project):
    grid = load(project, "retail", "").segmentation.segments
    assert list(grid) == [
        "Champions", "Loyal", "Potential Loyalists", "New", "Promising", "Need Attention",
        "About to Sleep", "At Risk", "Can't Lose", "Hibernating",
    ]  # fmt: skip

    def segment(r: int, f: int) -> str:
        (name,) = [n for n, s in grid.items() if s.r[0] <= r <= s.r[1] and s.f[0] <= f <= s.f[1]]
        return name

    # the usual regex map on the "rf" score string: 5[4-5] Champions, [3-4][4-5] Loyal, ...
    assert segment(5, 5) == segment(5, 4) == "Champions"
    assert segment(3, 4) == segment(4, 5) == "Loyal"
    assert segment(4, 2) == segment(5, 3) == "Potential Loyalists"
    assert segment(5, 1) == "New"
    assert segment(4, 1) == "Promising"
    assert segment(3, 3) == "Need Attention"
    assert segment(3, 1) == segment(3, 2) == "About to Sleep"
    assert segment(1, 3) == segment(2, 4) == "At Risk"
    assert segment(1, 5) == segment(2, 5) == "Can't Lose"
    assert segment(1, 1) == segment(2, 2) == "Hibernating"


def test_initiative_metrics_must_be_scorecard_metrics(project):
    text = "initiatives:\n  - {name: x, start: 2024-01-01, treated: retail, metrics: [fcrr]}\n"
    assert error_of(project, text) == (
        "params/units/retail.yaml: initiatives[0].metrics[0] = 'fcrr': "
        "expected the name of a scorecard metric"
    )
    text = "initiatives:\n  - {name: x, treated: retail, metrics: [fcr]}\n"
    assert error_of(project, text) == (
        "params/units/retail.yaml: missing required key 'initiatives[0].start'"
    )


def test_scorecard_metric_values(project):
    text = (
        "scorecard:\n  metrics:\n"
        "    - {name: fcr, level: ops, source: 05_service_quality, direction: higher}\n"
    )
    assert error_of(project, text) == (
        "params/units/retail.yaml: scorecard.metrics[0].level = 'ops': expected 'corporate', "
        "'customer_strategic', 'operational' or 'infrastructure'"
    )
    text = (
        "scorecard:\n  metrics:\n"
        "    - {name: fcr, level: operational, source: 05_service_quality, direction: up}\n"
    )
    assert error_of(project, text) == (
        "params/units/retail.yaml: scorecard.metrics[0].direction = 'up': "
        "expected 'higher' or 'lower'"
    )


def test_scorecard_currency_rates(project):
    rates = load(project, "retail", "scorecard:\n  currency_rates: {as_of: 2024-12-31, to: EUR, "
                 "rates: {USD: 0.93, GBP: 1.2}}\n").scorecard.currency_rates
    assert rates == config.CurrencyRates(as_of=date(2024, 12, 31), to="EUR",
                                         rates={"USD": 0.93, "GBP": 1.2})
    assert load(project, "retail", "").scorecard.currency_rates is None
    prefix = "params/units/retail.yaml: scorecard.currency_rates"
    for body, expected in [
        ("{as_of: 2024-12-31, to: EUR, rates: {usd: 0.93}}",
         ".rates.usd = 'usd': expected an ISO 4217 code of three capital letters, e.g. EUR"),
        ("{as_of: 2024-12-31, to: EUR, rates: {USD: 0}}",
         ".rates.USD = 0: expected a number > 0"),
        ("{as_of: 2024-12-31, to: euro, rates: {USD: 0.9}}",
         ".to = 'euro': expected an ISO 4217 code of three capital letters, e.g. EUR"),
        ("{as_of: 2024-12-31, to: EUR, rates: {EUR: 1.0}}",
         ".rates.EUR = 1.0: expected no rate for EUR itself (the currency converted to)"),
        ("{as_of: 2024-12-31, to: EUR, rates: {}}",
         ".rates = {}: expected at least 1 item(s)"),
        ("{as_of: 2024-12-31, to: EUR, rates: {USD: '0.9'}}",
         ".rates.USD = '0.9': expected a number"),
    ]:
        message = error_of(project, f"scorecard:\n  currency_rates: {body}\n")
        assert message.startswith(prefix + expected), message
    assert error_of(project, "scorecard:\n  currency_rates: {to: EUR, rates: {USD: 0.9}}\n") \
        == "params/units/retail.yaml: missing required key 'scorecard.currency_rates.as_of'"


# ---------------------------------------------------------------------------------- template
def uncomment(text: str) -> str:
    return "\n".join(line[2:] if line.startswith("# ") else line for line in text.splitlines())


def test_template_loads_commented_and_uncommented(project):
    template = config.new_unit_template("b2b", params_dir=project / "params")
    commented = load(project, "b2b", template)
    text = uncomment(template)
    assert "\ndata:\n  # " in text and "\nsegmentation:\n" in text
    uncommented = load(project, "b2b", text)
    assert uncommented == commented
    assert uncommented.unit == "b2b"
    assert uncommented.data.business_unit == "b2b"


def test_template_shows_every_key_with_its_default(project):
    template = config.new_unit_template("b2b", params_dir=project / "params")
    text = uncomment(template)
    for key in (
        "source: data/sample",
        "as_of: 2024-12-31",
        "discount_rate: 0.1",
        "rfm_bins: 5",
        "Can't Lose: {r: [1, 2], f: [5, 5]}",
        "phone: {service_level_seconds: 20, service_level_target: 0.8, cost_per_contact: 6.0}",
        "calibration_end: null",
        "nps_method: adjusted-wald",
        "repeat_contact_days: 7",
        "initiatives: []",
        "  currency_rates: null",
        "  - {name: fcr, level: operational, source: 05_service_quality",
    ):
        assert key in text, key
    # a key's one-line explanation is just above it
    lines = template.splitlines()
    for key, words in [
        ("#   rfm_bins: 5", "Quantile bins"),
        ("# currency: EUR", "ISO 4217"),
        ("#     fcr: 0.75", "First-contact resolution"),
        ("#   segments:", "Named segments"),
    ]:
        above = lines[lines.index(key) - 1]
        assert above.startswith("# ") and "# " in above[2:] and words in above, key
    assert sum(line.startswith("## ") for line in lines) == 4


def test_template_edited_value_takes_effect(project):
    template = config.new_unit_template("b2b", params_dir=project / "params")
    text = template.replace("# currency: EUR", "currency: CHF")
    assert load(project, "b2b", text).currency == "CHF"


def test_template_refuses_bad_name():
    with pytest.raises(ParamsError) as info:
        config.new_unit_template("../etc")
    assert str(info.value) == f"unit '../etc': {NAME_MSG}"


def test_template_without_defaults_uses_built_in(tmp_path):
    template = config.new_unit_template("b2b", params_dir=tmp_path / "params")
    assert "# currency: EUR" in template
    assert "#   source: null" in template
    assert "# as_of: null" in template


# ------------------------------------------------------------------------- shipped params
def test_shipped_units():
    params_dir = REPO / "params"
    assert config.list_units(params_dir) == ["cdnow", "retail", "services", "subscription"]
    loaded = {
        u: config.load_params(u, params_dir=params_dir) for u in config.list_units(params_dir)
    }
    for unit, params in loaded.items():
        assert params.unit == unit
        assert params.data.business_unit == unit
        assert Path(params.data.source).is_absolute()
    assert loaded["retail"].contractual is False
    assert loaded["subscription"].contractual is True
    assert loaded["retail"].data.source == str(REPO / "data" / "sample")
    assert loaded["retail"].currency == "EUR"
    assert loaded["retail"].discount_rate == 0.10
    assert loaded["retail"].notebooks == list(config.NOTEBOOKS)
    (initiative,) = loaded["services"].initiatives
    assert initiative.name == "fcr_programme"
    assert initiative.start == date(2024, 7, 1)
    assert initiative.treated == "services"
    assert initiative.metrics == ["fcr"]
    cdnow = loaded["cdnow"]
    assert cdnow.data.source == str(REPO / "data" / "cdnow")
    assert cdnow.currency == "USD"
    assert cdnow.as_of == date(1998, 6, 30)
    assert cdnow.contractual is False
    assert (cdnow.clv.calibration_end - date(1997, 1, 1)).days == 39 * 7 - 1
    assert cdnow.notebooks == [
        "00_customer_base", "01_segmentation", "02_lifetime_value", "03_retention",
    ]  # fmt: skip


def test_shipped_defaults():
    params = config.load_params("retail", params_dir=REPO / "params")
    channels = params.service.channels
    levels_by_channel = {
        c: (channels[c].service_level_seconds, channels[c].service_level_target) for c in channels
    }
    assert levels_by_channel == {
        "phone": (20, 0.80), "chat": (30, 0.80), "email": (86400, 0.90), "web": (0, 0.95),
    }  # fmt: skip
    assert {c: channels[c].cost_per_contact for c in channels} == {
        "phone": 6.0, "chat": 3.5, "email": 4.0, "web": 0.25,
    }  # fmt: skip
    levels = {m.name: m.level for m in params.scorecard.metrics}
    assert set(levels.values()) == {
        "corporate", "customer_strategic", "operational", "infrastructure",
    }  # fmt: skip
    assert params.scorecard.currency_rates is None
    for name in ("revenue", "customer_equity", "clv_mean", "retention_rate",
                 "retention_rate_365d", "nps", "csat", "fcr",
                 "service_level", "aht_seconds", "complaint_rate", "cost_per_contact",
                 "survey_response_rate", "data_completeness"):  # fmt: skip
        assert name in levels, name
    assert params.alpha == 0.05

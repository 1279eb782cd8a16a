"""Notebook 04: the customer survey (headline figures, the scale items and table columns)."""

from crmlib.labels._entry import entries

LABELS = entries(
    ("nps", "Net Promoter Score", "points", "higher",
     "Promoters minus detractors, in percent of respondents (weighted)"),
    ("nps_unweighted", "Net Promoter Score (unweighted)", "points", "higher"),
    ("csat", "Customer satisfaction (top-2 box)", "share", "higher"),
    ("csat_mean", "Customer satisfaction (mean rating)", "rating", "higher"),
    ("ces", "Customer effort score", "rating", "lower"),
    ("ces_mean", "Customer effort score (mean, 1-7)", "rating", "lower"),
    ("survey_response_rate", "Survey response rate", "share", "higher"),
    ("cronbach_alpha", "Scale reliability (Cronbach's alpha)", "number", "higher"),
    ("top_driver_importance", "Importance of the top driver", "share", None),
    # the scale items of the sample data (a unit's own wording, when it has one, wins)
    ("q_product", "Product quality", "rating", "higher", "Satisfaction with the product (1-5)"),
    ("q_price", "Price", "rating", "higher", "Satisfaction with the price (1-5)"),
    ("q_service", "Customer service", "rating", "higher",
     "Satisfaction with customer service (1-5)"),
    ("q_delivery", "Delivery", "rating", "higher", "Satisfaction with delivery (1-5)"),
    ("q_website", "Website", "rating", "higher", "Satisfaction with the website (1-5)"),
    # table columns of the survey report
    ("respondents", "Respondents", "count"),
    ("response_rate", "Response rate", "share", "higher"),
    ("score", "Score", "number"),
    ("weighting", "Weighting", "number"),
    ("driver", "Driver", "number"),
    ("importance", "Share of explained variation", "share", None,
     "The driver's share of the R-squared of the NPS answer (LMG)"),
    ("rank_interval", "Rank (bootstrap interval)", "number"),
    ("performance", "Mean score (1-5)", "rating", "higher"),
    ("comparison", "Groups compared", "number"),
    ("p_holm_text", "p-value (Holm)", "number"),
    ("item", "Question", "number"),
    ("weighted", "Weighted to the customer base", "number"),
    ("unweighted", "Respondents only (unweighted)", "number"),
    ("group_a", "Group", "number"),
    ("group_b", "Compared with", "number"),
    ("estimate_a", "Score of the group", "number"),
    ("estimate_b", "Score compared with", "number"),
)

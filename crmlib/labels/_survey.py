"""Notebook 04: the customer survey."""

from crmlib.labels._entry import entries

LABELS = entries(
    ("nps", "Net Promoter Score", "points", "higher",
     "Promoters minus detractors, in percent of respondents (weighted)"),
    ("nps_unweighted", "Net Promoter Score (unweighted)", "points", "higher"),
    ("csat", "Customer satisfaction (top-2 box)", "share", "higher"),
    ("csat_mean", "Customer satisfaction (mean rating)", "rating", "higher"),
    ("ces", "Customer effort score", "rating", "lower"),
    ("survey_response_rate", "Survey response rate", "share", "higher"),
    ("cronbach_alpha", "Scale reliability (Cronbach's alpha)", "number", "higher"),
    ("top_driver_importance", "Importance of the top driver", "share", None),
)

"""Notebook 01: segments and their migration.

Besides the headline figures and the table columns, the words of a model-based segment's
name: a segment named in the code by its most distinctive features ("low tenure_days / low
contacts") reads "New customers, few service contacts"; each ``high_<feature>`` and
``low_<feature>`` below is one such phrase.
"""

from crmlib.labels._entry import entries

__all__ = ["LABELS", "cluster_name"]

LABELS = entries(
    ("n_segments", "Segments", "count", None, "Segments with customers"),
    ("top_segment_revenue_share", "Revenue share of the top segment", "share", None,
     "Share of net revenue of the largest segment"),
    ("migration_into_at_risk", "Customers moving into At Risk", "count", "lower",
     "Customers who moved into the At Risk segment over the period"),
    # the segment value table
    ("customer_share", "Share of customers", "share", None, "Share of all customers"),
    ("revenue_per_customer", "Revenue per customer", "money", "higher",
     "Net revenue per customer of the segment over the window"),
    ("purchase_days_per_customer", "Purchase days per customer", "number", "higher",
     "Days with a purchase per customer over the window"),
    ("contacts_per_customer", "Service contacts per customer", "number", "lower",
     "Service contacts per customer over the window"),
    ("nps_n", "Survey answers", "count", None, "Answers behind the segment's NPS"),
    ("is_key", "Key segment", "number", None, "A segment the unit's params name as key"),
    ("clv_per_customer", "Expected lifetime value per customer", "money", "higher"),
    # the features of the model-based segments
    ("recency_days", "Days since last purchase", "days", "lower"),
    ("tenure_days", "Days as a customer", "days", "higher"),
    ("monetary", "Spend per purchase day", "money", "higher"),
    ("contacts", "Service contacts", "count", "lower"),
    ("size", "Customers in the segment", "count"),
    # the words of a model-based segment's name
    ("high_recency_days", "Long since last purchase", "number"),
    ("low_recency_days", "Bought recently", "number"),
    ("high_frequency", "Frequent buyers", "number"),
    ("low_frequency", "Rare buyers", "number"),
    ("high_monetary", "High spend", "number"),
    ("low_monetary", "Low spend", "number"),
    ("high_tenure_days", "Long-standing customers", "number"),
    ("low_tenure_days", "New customers", "number"),
    ("high_contacts", "Many service contacts", "number"),
    ("low_contacts", "Few service contacts", "number"),
    # migration flows
    ("inflow", "Came in", "count", None, "Customers who moved into the segment"),
    ("outflow", "Left", "count", None, "Customers who moved out of the segment"),
    ("start", "At the first date", "count", None, "Customers in the segment at the first date"),
    ("end", "At the second date", "count", None, "Customers in the segment at the second date"),
    ("net_change", "Net change", "count", None, "Came in minus left"),
    ("top_source", "Most came from", "number"),
    ("top_destination", "Most went to", "number"),
    ("from_date", "From", "number"),
    ("to_date", "To", "number"),
)


def cluster_name(name: str) -> str:
    """A model-based segment's name in words (from :mod:`crmlib.labels`), not identifiers.

    Parameters
    ----------
    name : str
        A name of :attr:`crmlib.segmentation.ClusterSegmenter.names_`: up to two of
        ``"high <feature>"``, ``"low <feature>"`` or ``"<column>=<level>"`` joined by
        ``" / "``, ``"average"``, and ``" (2)"`` when a name repeats.

    Returns
    -------
    str

    Examples
    --------
    >>> cluster_name("low tenure_days / low contacts")
    'New customers, few service contacts'
    >>> cluster_name("high basket_size"), cluster_name("channel=web / high frequency (2)")
    ('High basket size', 'Channel: web, frequent buyers (2)')
    >>> cluster_name("average")
    'Average customers'
    """
    from crmlib import labels  # the registry this module is part of

    base, sep, suffix = str(name).partition(" (")
    if base == "average":
        return "Average customers" + (f" ({suffix}" if sep else "")
    words = []
    for part in base.split(" / "):
        level, _, feature = part.partition(" ")
        if level in ("high", "low") and feature:
            key = f"{level}_{feature}"
            words.append(labels.label(key) if key in labels.LABELS
                         else f"{level} {labels.label(feature).lower()}")
        elif "=" in part:
            column, _, found = part.partition("=")
            words.append(f"{labels.label(column)}: {found}")
        else:
            words.append(part)
    text = ", ".join([words[0][:1].upper() + words[0][1:],
                      *(w[:1].lower() + w[1:] for w in words[1:])])
    return text + (f" ({suffix}" if sep else "")


"""Segmentation: RFM scores and named segments, model-based clusters, the size and value of
segments, and migration between segments over time."""

from crmlib.segmentation._clusters import ClusterSegmenter
from crmlib.segmentation._features import customer_features
from crmlib.segmentation._migration import (
    NOT_YET,
    flows,
    migration,
    migration_dates,
    segment_history,
    transition_matrix,
)
from crmlib.segmentation._rfm import (
    DEFAULT_GRID,
    NO_PURCHASE,
    rfm,
    rfm_scores,
    segment_grid,
    segment_names,
)
from crmlib.segmentation._value import headline, segment_labels, segment_value

__all__ = [
    "DEFAULT_GRID",
    "NOT_YET",
    "NO_PURCHASE",
    "ClusterSegmenter",
    "customer_features",
    "flows",
    "headline",
    "migration",
    "migration_dates",
    "rfm",
    "rfm_scores",
    "segment_grid",
    "segment_history",
    "segment_labels",
    "segment_names",
    "segment_value",
    "transition_matrix",
]

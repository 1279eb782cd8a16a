"""Segmentation: RFM scores and named segments, model-based clusters, the size and value of
segments, and migration between segments over time."""

from crmlib.segmentation._clusters import ClusterSegmenter
from crmlib.segmentation._rfm import (
    DEFAULT_GRID,
    NO_PURCHASE,
    rfm,
    rfm_scores,
    segment_grid,
    segment_names,
)

__all__ = [
    "DEFAULT_GRID",
    "NO_PURCHASE",
    "ClusterSegmenter",
    "rfm",
    "rfm_scores",
    "segment_grid",
    "segment_names",
]

"""Segmentation: RFM scores and named segments, model-based clusters, the size and value of
segments, and migration between segments over time.

The default grid of named segments and the default k range of the clusters are
:data:`crmlib.defaults.RFM_GRID` and :data:`crmlib.defaults.CLUSTER_K_RANGE`; tables for the
reader are in :mod:`crmlib.report.segmentation`, figures in :mod:`crmlib.plots`.
"""

from typing import TYPE_CHECKING

from crmlib._lazy import lazy_exports

if TYPE_CHECKING:
    from crmlib.segmentation._clusters import ClusterSegmenter
    from crmlib.segmentation._features import customer_features
    from crmlib.segmentation._migration import (
        NOT_YET,
        Migration,
        flows,
        migration,
        migration_dates,
        segment_history,
        transition_matrix,
    )
    from crmlib.segmentation._rfm import NO_PURCHASE, rfm, rfm_scores, segment_grid, tied_scores
    from crmlib.segmentation._value import SegmentValue, headline, segment_value

# Each public name is imported from its submodule on first use (PEP 562), so the
# import of the package costs nothing until then (crmlib._lazy).
__getattr__, __dir__ = lazy_exports(__name__, {
    "crmlib.segmentation._clusters": ("ClusterSegmenter",),
    "crmlib.segmentation._features": ("customer_features",),
    "crmlib.segmentation._migration": (
        "NOT_YET",
        "Migration",
        "flows",
        "migration",
        "migration_dates",
        "segment_history",
        "transition_matrix",
    ),
    "crmlib.segmentation._rfm": (
        "NO_PURCHASE",
        "rfm",
        "rfm_scores",
        "segment_grid",
        "tied_scores",
    ),
    "crmlib.segmentation._value": ("SegmentValue", "headline", "segment_value"),
})

__all__ = [
    "NOT_YET",
    "NO_PURCHASE",
    "ClusterSegmenter",
    "Migration",
    "SegmentValue",
    "customer_features",
    "flows",
    "headline",
    "migration",
    "migration_dates",
    "rfm",
    "rfm_scores",
    "segment_grid",
    "segment_history",
    "segment_value",
    "tied_scores",
    "transition_matrix",
]

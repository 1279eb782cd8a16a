"""Sphinx configuration of the crm-notebooks documentation (`make docs` -> build/docs).

The build is offline: no intersphinx, no fonts or scripts from a CDN (the PyData theme ships
its own assets). The API reference pages are written from each package's ``__all__`` when the
build starts (docs/_api.py), the data contract page is generated from the schema code
(docs/_build_contract.py; `make docs` checks it is current).
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# The checkout being built is documented (not another copy of crmlib on the path).
sys.path[:0] = [str(DOCS), str(DOCS.parent)]

from _api import write_api_pages  # noqa: E402
from docutils import nodes  # noqa: E402
from sphinx.util import logging  # noqa: E402

logger = logging.getLogger(__name__)

project = "crm-notebooks"
author = "crm-notebooks contributors"
copyright = "crm-notebooks contributors"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: headings get anchors so pages can link to a section (page.md#section).
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "dollarmath"]

# autodoc and numpydoc: the docstrings are numpy style; members of a class are documented by
# autodoc (numpydoc's own member tables would need a stub page per method).
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# Offline: MathJax would come from a CDN, so formulas are shown as their TeX source.
html_math_renderer = "tex_source"

html_theme = "pydata_sphinx_theme"
html_title = "crm-notebooks"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_static_path: list[str] = []
html_last_updated_fmt = None


def _write_api(app) -> None:
    for package, error in write_api_pages(Path(app.srcdir) / "api").items():
        logger.warning("API reference: %s does not import (%s)", package, error)


def _math_inline(translator, node) -> None:
    translator.body.append(translator.starttag(node, "code", "", CLASS="math notranslate"))
    translator.body.append(translator.encode(node.astext()) + "</code>")
    raise nodes.SkipNode


def _math_block(translator, node) -> None:
    translator.body.append(translator.starttag(node, "pre", "", CLASS="math notranslate"))
    translator.body.append(translator.encode(node.astext()) + "</pre>")
    raise nodes.SkipNode


def setup(app) -> dict[str, bool]:
    app.connect("builder-inited", _write_api)
    app.add_html_math_renderer("tex_source", (_math_inline, None), (_math_block, None))
    return {"parallel_read_safe": True}

"""PDF documents for CERES services: Jinja2 templates rendered by WeasyPrint with the DSFR fonts.

Typical use::

    from ceres_shared.documents import DocumentRenderer
    renderer = DocumentRenderer(Path(__file__).parent / "templates")
    pdf = renderer.render_pdf("letter.html", context, artwork=True)   # print rendering
    pdf = renderer.render_many("diploma.html", contexts)              # one PDF, a new page per document

Fonts must be installed once: ``python -m ceres_shared.documents.fonts install``.
"""
from __future__ import annotations

import importlib
from typing import Any

# Names resolved lazily: `python -m ceres_shared.documents.fonts` must not import the
# submodule twice (runpy warning), and the installer needs no WeasyPrint.
_EXPORTS = {
    "DocumentRenderer": "renderer", "render_pdf": "renderer", "font_face_css": "renderer",
    "warm_up": "renderer",
    "DSFR_VERSION": "fonts", "FontInstallError": "fonts", "FontsMissingError": "fonts",
    "default_fonts_dir": "fonts", "install_fonts": "fonts", "missing_fonts": "fonts",
    "artwork_svg": "artwork", "artwork_data_uri": "artwork",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

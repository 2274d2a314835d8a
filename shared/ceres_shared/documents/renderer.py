"""Jinja2 → HTML → PDF with WeasyPrint, DSFR fonts embedded.

Font setup (fontconfig + @font-face loading) costs far more than laying out a letter, so
the FontConfiguration and the parsed base stylesheets are built once per process and reused.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (ChoiceLoader, Environment, FileSystemLoader, StrictUndefined,
                    pass_context, select_autoescape)
from markupsafe import Markup

from . import artwork as _artwork
from . import fonts as _fonts
from .french import FILTERS, person_line

log = logging.getLogger(__name__)

BASE_TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
BASE_CSS = BASE_TEMPLATES_DIR / "ceres.css"

# Pango/fontconfig objects inside the shared FontConfiguration are not thread-safe; rendering
# is CPU-bound under the GIL anyway, so serialising costs little in threaded workers.
_render_lock = threading.Lock()


@dataclass(frozen=True)
class _SharedStyles:
    font_config: Any  # weasyprint.text.fonts.FontConfiguration
    stylesheets: tuple[Any, ...]  # weasyprint.CSS


def font_face_css(fonts_dir: Path | None = None) -> str:
    """@font-face rules pointing at the installed DSFR files (file:// URLs). Strict: raises
    FontsMissingError with the install command if a face is missing."""
    rules = []
    for face, path in _fonts.require_fonts(fonts_dir).items():
        rules.append(
            "@font-face { "
            f'font-family: "{face.family}"; font-weight: {face.weight}; font-style: {face.style}; '
            f'src: url("{path.resolve().as_uri()}"); }}'
        )
    return "\n".join(rules)


@lru_cache(maxsize=4)
def _shared_styles(pid: int, fonts_dir: Path | None, fallback: bool) -> _SharedStyles:
    # ``pid`` is part of the key: a FontConfiguration built before a fork (gunicorn --preload)
    # holds fontconfig state that must not be shared with the child.
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    if fallback:
        try:
            faces = font_face_css(fonts_dir)
        except _fonts.FontsMissingError:
            # Unit-test mode only: the CSS family stacks fall back to DejaVu (system font).
            log.warning("DSFR fonts missing, rendering with fallback fonts (allow_fallback_fonts=True)")
            faces = ""
    else:
        faces = font_face_css(fonts_dir)
    _warn_if_slow_subsetting()
    sheets = []
    if faces:
        sheets.append(CSS(string=faces, font_config=font_config))
    sheets.append(CSS(filename=str(BASE_CSS), font_config=font_config))
    return _SharedStyles(font_config, tuple(sheets))


# Drop the cached FontConfiguration while modules are still alive: its __del__ (temp folder
# cleanup) fails noisily if it only runs during interpreter teardown.
atexit.register(_shared_styles.cache_clear)


def _warn_if_slow_subsetting() -> None:
    # Without the HarfBuzz subsetter WeasyPrint subsets fonts with fontTools, re-parsing
    # Marianne's kerning tables on every PDF: ~0.6 s per document instead of ~0.05 s.
    from weasyprint.text import ffi

    if getattr(ffi, "harfbuzz_subset", None) is None:
        log.warning("libharfbuzz-subset not found: font subsetting falls back to fontTools and "
                    "each PDF takes ~10x longer; install the system package libharfbuzz-subset0")


def warm_up(fonts_dir: Path | str | None = None, *, allow_fallback_fonts: bool = False) -> None:
    """Build the per-process font setup now (e.g. at service start) instead of on first render."""
    _shared_styles(os.getpid(), Path(fonts_dir) if fonts_dir else None, allow_fallback_fonts)


class DocumentRenderer:
    """Renders Jinja2 templates to PDF bytes.

    ``templates_dir``: the caller's templates (searched first); the module's ``base.html``,
    ``ceres.css`` and ``sample_letter.html`` are found after them. Templates usually
    ``{% extends "base.html" %}``.

    ``base_url``: where relative URLs (images, CSS) in the HTML resolve; defaults to
    ``templates_dir``.

    ``allow_fallback_fonts``: only for quick unit tests; by default a missing DSFR font raises
    FontsMissingError, so no document ever leaves with a substitute typeface.
    """

    def __init__(self, templates_dir: Path | str | None = None, *, base_url: str | Path | None = None,
                 fonts_dir: Path | str | None = None, allow_fallback_fonts: bool = False,
                 page_numbers: bool = False):
        search = [str(templates_dir)] if templates_dir else []
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(search), FileSystemLoader(str(BASE_TEMPLATES_DIR))]),
            autoescape=select_autoescape(["html", "htm", "xml", "svg"]),
            # An official document must never go out with a silently blank field.
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(FILTERS)
        self.env.globals.update(artwork=_artwork_global, artwork_uri=_artwork_uri_global,
                                person_line=person_line)
        base = base_url or templates_dir or BASE_TEMPLATES_DIR
        self.base_url = str(base) if "://" in str(base) else Path(base).resolve().as_uri() + "/"
        self.fonts_dir = Path(fonts_dir) if fonts_dir else None
        self.allow_fallback_fonts = allow_fallback_fonts
        self.page_numbers = page_numbers

    def _styles(self) -> _SharedStyles:
        return _shared_styles(os.getpid(), self.fonts_dir, self.allow_fallback_fonts)

    def render_html(self, template: str, context: Mapping[str, Any], *, artwork: bool = False) -> str:
        """The HTML string (useful for debugging a template in a browser)."""
        values = {"page_numbers": self.page_numbers, **context, "ceres_artwork": artwork}
        return self.env.get_template(template).render(values)

    def _document(self, template: str, context: Mapping[str, Any], artwork: bool, styles: _SharedStyles):
        from weasyprint import HTML

        html = HTML(string=self.render_html(template, context, artwork=artwork), base_url=self.base_url)
        return html.render(font_config=styles.font_config, stylesheets=list(styles.stylesheets))

    def render_pdf(self, template: str, context: Mapping[str, Any], *, artwork: bool = False,
                   **pdf_options: Any) -> bytes:
        """One document → PDF bytes. ``artwork=True`` for the print rendering (stamp,
        signature, header block, watermark); False for a preview (rule P2).
        ``pdf_options`` go to WeasyPrint's write_pdf (e.g. ``pdf_variant="pdf/a-3b"``)."""
        return self.render_batch([(template, context)], artwork=artwork, **pdf_options)

    def render_many(self, template: str, contexts: Iterable[Mapping[str, Any]], *, artwork: bool = False,
                    **pdf_options: Any) -> bytes:
        """Several documents of the same template in one PDF, each starting on a new page
        (page counters restart for each document)."""
        return self.render_batch([(template, c) for c in contexts], artwork=artwork, **pdf_options)

    def render_batch(self, items: Sequence[tuple[str, Mapping[str, Any]]], *, artwork: bool = False,
                     **pdf_options: Any) -> bytes:
        """(template, context) pairs → one PDF; metadata (title) comes from the first document."""
        if not items:
            raise ValueError("nothing to render")
        with _render_lock:
            styles = self._styles()  # under the lock: threads never build two font setups
            # Each document is laid out on its own (own page counters), then pages are joined;
            # fonts are shared through the common FontConfiguration, so each face is embedded once.
            documents = [self._document(t, c, artwork, styles) for t, c in items]
            pages = [page for doc in documents for page in doc.pages]
            return documents[0].copy(pages).write_pdf(**pdf_options)


@pass_context
def _artwork_global(ctx, name: str, **params: Any) -> Markup:
    """``{{ artwork('stamp') }}`` in templates: inline SVG in print mode, nothing in preview (P2)."""
    if not ctx.get("ceres_artwork"):
        return Markup("")
    return Markup(_artwork.artwork_svg(name, **params))


@pass_context
def _artwork_uri_global(ctx, name: str, **params: Any) -> str:
    """``url("{{ artwork_uri('guilloche') }}")``: a data: URI in print mode, '' in preview."""
    if not ctx.get("ceres_artwork"):
        return ""
    return Markup(_artwork.artwork_data_uri(name, **params))


_default_renderers: dict[tuple, DocumentRenderer] = {}


def render_pdf(template: str, context: Mapping[str, Any], *, templates_dir: Path | str | None = None,
               artwork: bool = False, allow_fallback_fonts: bool = False, **pdf_options: Any) -> bytes:
    """Shortcut: one document with a renderer cached per (templates_dir, fallback)."""
    key = (str(templates_dir) if templates_dir else None, allow_fallback_fonts)
    renderer = _default_renderers.get(key)
    if renderer is None:
        renderer = _default_renderers[key] = DocumentRenderer(
            templates_dir, allow_fallback_fonts=allow_fallback_fonts)
    return renderer.render_pdf(template, context, artwork=artwork, **pdf_options)

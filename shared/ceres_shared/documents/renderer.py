"""Jinja2 → HTML → PDF with WeasyPrint, DSFR fonts embedded.

Font setup (fontconfig + @font-face loading) costs far more than laying out a letter, so
the FontConfiguration and the parsed base stylesheets are built once per process and reused.
"""
from __future__ import annotations

import atexit
import base64
import io
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from jinja2 import (ChoiceLoader, Environment, FileSystemLoader, StrictUndefined,
                    pass_context, select_autoescape)
from markupsafe import Markup, escape

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
                                vector=_vector_global, person_line=person_line)
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

    def render_combined(self, items: Sequence[tuple[str, Mapping[str, Any]]], *, artwork: bool = False,
                        **pdf_options: Any) -> CombinedPdf:
        """(template, context) pairs → one PDF, much faster than ``render_batch`` for many documents:

        - documents whose templates produce the same ``<style>`` are laid out as ONE HTML (each from a new page,
          styles parsed and cascaded once); so use it for templates whose page counters and CSS do not rely on
          being alone in the page (no ``counter(pages)``, no ``:first-child`` on body);
        - the artwork (``artwork=True``) is not drawn by the layout: each piece is laid out once per process and
          overlaid as a vector form at the very box the layout kept for it (pikepdf).

        Returns the PDF and each item's range of pages."""
        if not items:
            raise ValueError("nothing to render")
        if self.page_numbers:
            raise ValueError("render_combined cannot restart page counters per document: use render_batch")
        from weasyprint import HTML

        with _render_lock:
            styles = self._styles()
            groups: list[tuple[str, str, list[tuple[str, str, _Overlay]]]] = []
            for i, (template, context) in enumerate(items):
                overlay = _Overlay(f"ceres-d{i}") if artwork else None
                values = {"page_numbers": False, **context, "ceres_artwork": artwork, "ceres_overlay": overlay}
                html = self.env.get_template(template).render(values)
                if i == 0:
                    title = re.search(r"<title>(.*?)</title>", html, re.S)
                style, body_attrs, body = _split_html(html)
                if not groups or groups[-1][0] != style:
                    groups.append((style, body_attrs, []))
                groups[-1][2].append((f"ceres-d{i}", body, overlay))
            pages, starts, overlays = [], [], []
            for style, body_attrs, docs in groups:
                # A class, not a style attribute: WeasyPrint shares the computed styles of elements whose parents
                # share theirs and that match the same rules, so the documents after the first cost far less.
                sections = "".join(f'<div id="{anchor}" class="ceres-document">{body}</div>'
                                   for anchor, body, _ in docs)
                html = (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
                        f'<title>{title.group(1) if title else ""}</title><style>{style}\n'
                        f'.ceres-document {{ break-before: page }}</style></head>'
                        f"<body{body_attrs}>{sections}</body></html>")
                document = HTML(string=html, base_url=self.base_url).render(
                    font_config=styles.font_config, stylesheets=list(styles.stylesheets), cache=_image_cache())
                offset = len(pages)
                pages.extend(document.pages)
                for anchor, _, overlay in docs:
                    starts.append(offset + next(n for n, p in enumerate(document.pages) if anchor in p.anchors))
                    overlays.append(overlay)
            ranges = tuple(range(start, end) for start, end in zip(starts, [*starts[1:], len(pages)]))
            data = document.copy(pages).write_pdf(**pdf_options)
            if artwork:
                data = self._overlay(data, pages, ranges, overlays, styles)
            return CombinedPdf(data, ranges)

    def _overlay(self, data: bytes, pages, ranges, overlays, styles) -> bytes:
        import pikepdf

        layer = _layer()
        pdf = pikepdf.open(io.BytesIO(data))
        copied: dict[int, tuple[Any, Any]] = {}  # one copy of each form per output file, under one name

        def place(page, form) -> str:
            if id(form) not in copied:
                copied[id(form)] = (pikepdf.Name(f"/CeresArt{len(copied)}"), pdf.copy_foreign(form))
            name, obj = copied[id(form)]
            # Resources may be shared by all pages: the same name for the same form keeps them small.
            page.add_resource(obj, pikepdf.Name.XObject, name=name)
            return str(name)

        for doc_pages, overlay in zip(ranges, overlays):
            for index in doc_pages:
                page, laid_out = pdf.pages[index], pages[index]
                height_pt = laid_out.height * _PT_PER_PX
                under, over = [], []
                if overlay.background:
                    form = layer.form(*overlay.background, laid_out.width, laid_out.height, styles, self.base_url)
                    under.append(f"q {place(page, form)} Do Q")
                for anchor, (name, key) in overlay.inline.items():
                    box = laid_out.anchors.get(anchor)
                    if box is None:
                        continue  # on another page of the document
                    x1, y1, x2, y2 = box
                    form = layer.form(name, key, x2 - x1, y2 - y1, styles, self.base_url)
                    x, y = x1 * _PT_PER_PX, height_pt - y2 * _PT_PER_PX
                    over.append(f"q 1 0 0 1 {x:.3f} {y:.3f} cm {place(page, form)} Do Q")
                for anchor, mark in overlay.vectors.items():
                    box = laid_out.anchors.get(anchor)
                    if box is None:
                        continue
                    x1, y1, x2, y2 = box
                    x, y = x1 * _PT_PER_PX, height_pt - y2 * _PT_PER_PX
                    drawing = mark.pdf_drawing((x2 - x1) * _PT_PER_PX, (y2 - y1) * _PT_PER_PX)
                    over.append(f"q 1 0 0 1 {x:.3f} {y:.3f} cm\n{drawing}\nQ")
                if under or over:
                    # WeasyPrint's own stream leaves a px→pt transform in force: keep it inside q … Q.
                    page.contents_add(pdf.make_stream(("\n".join(under) + "\nq\n").encode()), prepend=True)
                    page.contents_add(pdf.make_stream(("\nQ\n" + "\n".join(over) + "\n").encode()))
        out = io.BytesIO()
        pdf.save(out, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return out.getvalue()


@pass_context
def _artwork_global(ctx, name: str, **params: Any) -> Markup:
    """``{{ artwork('stamp') }}`` in templates: inline SVG in print mode, nothing in preview (P2)."""
    if not ctx.get("ceres_artwork"):
        return Markup("")
    overlay = ctx.get("ceres_overlay")
    if overlay is not None:
        return Markup(overlay.placeholder(name, params))
    return Markup(_artwork.artwork_svg(name, **params))


@pass_context
def _artwork_uri_global(ctx, name: str, **params: Any) -> str:
    """``url("{{ artwork_uri('guilloche') }}")``: a data: URI in print mode, '' in preview."""
    if not ctx.get("ceres_artwork"):
        return ""
    overlay = ctx.get("ceres_overlay")
    if overlay is not None:
        return Markup(overlay.page_background(name, params))
    return Markup(_artwork.artwork_data_uri(name, **params))


@pass_context
def _vector_global(ctx, mark: VectorMark, *, width: str, height: str, **attributes: Any) -> Markup:
    """``{{ vector(mark, width="22mm", height="22mm", alt="…") }}``: a caller's drawing that differs on every document
    (a QR code). Laid out by WeasyPrint as the mark's raster image; in ``render_combined`` as an empty box of that size
    that the overlay fills with the mark's vector drawing (no image to encode, decode and embed per document).
    Shown in previews too: it is content, not artwork."""
    overlay = ctx.get("ceres_overlay")
    if overlay is not None:
        # A transparent pixel: the same element sized by the same rules, decoded once per process (image cache).
        src, anchor = _TRANSPARENT_PIXEL, f' id="{overlay.vector(mark)}"'
    else:
        src, anchor = mark.data_uri(), ""
    attrs = "".join(f' {escape(k)}="{escape(v)}"' for k, v in attributes.items())
    return Markup(f'<img src="{escape(src)}"{anchor}{attrs} style="width: {escape(width)}; height: {escape(height)}">')


class VectorMark(Protocol):
    """What ``vector()`` draws: the same picture as a raster (plain layout) and as PDF drawing operators."""

    def data_uri(self) -> str:
        """A data: URI of an image of the mark (laid out by WeasyPrint)."""

    def pdf_drawing(self, width: float, height: float) -> str:
        """PDF content-stream operators drawing the mark in the box (0, 0)–(width, height), in points, origin at
        the bottom left; called with the graphics state saved and restored around it."""


# --- Combined rendering: many documents, one layout, artwork drawn once per process -------------------------------
_SVG_ROOT = re.compile(r"<svg\b[^>]*>", re.S)
_STYLES = re.compile(r"<style[^>]*>(.*?)</style>", re.S)
_BODY = re.compile(r"<body([^>]*)>(.*)</body>", re.S)
_TRANSPARENT_PIXEL = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8A"
                      "AAAASUVORK5CYII=")
_EMPTY_PIXEL_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1" viewBox="0 0 1 1"></svg>')
_PT_PER_PX = 0.75  # WeasyPrint lays out in CSS px (96 dpi), PDF user space is in points (72 dpi)


@dataclass(frozen=True)
class CombinedPdf:
    """One PDF holding several documents; ``pages[i]`` is the range of page indexes of ``items[i]``."""

    data: bytes
    pages: tuple[range, ...]


class _Overlay:
    """Collects, while templates render, the artwork that the combined path draws afterwards: each inline artwork
    is replaced by an empty SVG of the same root (so the layout keeps exactly its box) carrying an id; a page
    background becomes an empty image and an underlay of every page of that document."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.inline: dict[str, tuple[str, tuple]] = {}  # anchor id -> (name, params key)
        self.background: tuple[str, tuple] | None = None
        self.vectors: dict[str, VectorMark] = {}  # anchor id -> the caller's mark, drawn into the box it keeps

    def vector(self, mark: VectorMark) -> str:
        anchor = f"{self.prefix}-v{len(self.vectors)}"
        self.vectors[anchor] = mark
        return anchor

    def placeholder(self, name: str, params: dict) -> str:
        key = _params_key(params)
        anchor = f"{self.prefix}-a{len(self.inline)}"
        self.inline[anchor] = (name, key)
        # anchor: WeasyPrint reports the box of every element with an id, in CSS px from the page's top left.
        return _placeholder_img(name, key)[:-1] + f' id="{anchor}">'

    def page_background(self, name: str, params: dict) -> str:
        self.background = (name, _params_key(params))
        return "data:image/svg+xml;base64," + base64.b64encode(_EMPTY_PIXEL_SVG.encode()).decode()


def _params_key(params: Mapping[str, Any]) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))


@lru_cache(maxsize=256)
def _placeholder_img(name: str, key: tuple) -> str:
    """An <img> of the artwork's empty SVG root: the same intrinsic size as the inline SVG (width, height, viewBox),
    the same classes; one URL per artwork, so WeasyPrint parses it once per process instead of an inline SVG per
    document. Hence in combined templates, style artwork by class (.ceres-stamp), not by the svg tag."""
    # The artwork's own id would be kept over the anchor's (an element keeps its first id attribute).
    root = re.sub(r'\s+id="[^"]*"', "", _SVG_ROOT.search(_artwork_markup(name, key)).group(0))
    classes = re.search(r'\sclass="([^"]*)"', root)
    uri = "data:image/svg+xml;base64," + base64.b64encode((root + "</svg>").encode()).decode()
    class_attr = f' class="{classes.group(1)}"' if classes else ""
    return f'<img src="{uri}" alt=""{class_attr}>'


@lru_cache(maxsize=256)
def _artwork_markup(name: str, key: tuple) -> str:
    return _artwork.artwork_svg(name, **{k: list(v) if isinstance(v, tuple) else v for k, v in key})


class _ArtworkLayer:
    """Per process: each distinct artwork (name, parameters, size) laid out once by WeasyPrint into a one-page PDF,
    kept as a pikepdf Form XObject that every combined PDF then references (vector, drawn once, embedded once
    per file)."""

    def __init__(self, limit: int = 128):
        self.forms: dict[tuple, tuple[Any, Any]] = {}  # key -> (source Pdf kept open, form xobject)
        self.limit = limit

    def form(self, name: str, key: tuple, width: float, height: float, styles: _SharedStyles, base_url: str):
        size = (round(width, 2), round(height, 2))
        cache_key = (name, key, size)
        found = self.forms.get(cache_key)
        if found is None:
            import pikepdf
            from weasyprint import HTML

            if len(self.forms) >= self.limit:
                self.forms.clear()  # many regions' signatures at most: a cheap bound on memory
            markup = _artwork_markup(name, key)
            html = (f"<html><head><style>@page {{ size: {size[0]}px {size[1]}px; margin: 0 }} "
                    f"html, body {{ margin: 0 }} svg {{ display: block; width: {size[0]}px; height: {size[1]}px }}"
                    f"</style></head><body>{markup}</body></html>")
            pdf_bytes = HTML(string=html, base_url=base_url).write_pdf(
                font_config=styles.font_config, stylesheets=list(styles.stylesheets))
            source = pikepdf.open(io.BytesIO(pdf_bytes))
            found = self.forms[cache_key] = (source, source.pages[0].as_form_xobject())
        return found[1]


_layers: dict[int, _ArtworkLayer] = {}


def _layer() -> _ArtworkLayer:
    return _layers.setdefault(os.getpid(), _ArtworkLayer())


def _split_html(html: str) -> tuple[str, str, str]:
    """(styles, body attributes, body content) of a page built on base.html."""
    head = html.split("<body", 1)[0]
    body = _BODY.search(html)
    return "\n".join(_STYLES.findall(head)), body.group(1), body.group(2)


def _image_cache() -> dict:
    # WeasyPrint's image cache, per process: the same image (an artwork placeholder, a logo) is decoded once.
    cache = _image_caches.setdefault(os.getpid(), {})
    if len(cache) > 512:
        cache.clear()  # QR codes differ on every document: keep the cache from growing without end
    return cache


_image_caches: dict[int, dict] = {}
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

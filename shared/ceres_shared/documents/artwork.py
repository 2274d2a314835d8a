"""Our own decorative artwork for "print" renderings: header block, stamp, signature, watermark.

Everything here is drawn by us (SVG files in ``artwork/`` or generated below); nothing is
copied from the official State identity. Whether a document carries artwork is the caller's
decision (printing rule P2: a preview has none), see ``DocumentRenderer(artwork=...)``.

``artwork_svg(name, **params)`` returns inline SVG markup, ``artwork_data_uri`` the same as a
``data:`` URI (for CSS backgrounds).
"""
from __future__ import annotations

import base64
import itertools
import math
import random
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

ARTWORK_DIR = Path(__file__).resolve().parent / "artwork"

# Distinct ids per inline SVG: two stamps on one page must not share a <path id>.
_uids = itertools.count(1)

_file_env = Environment(
    loader=FileSystemLoader(str(ARTWORK_DIR)),
    autoescape=select_autoescape(["svg"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _fmt(value: float) -> str:
    # One decimal is far below print resolution at these sizes and keeps the markup small.
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _smooth_path(points: list[tuple[float, float]]) -> str:
    """Catmull-Rom spline through ``points`` as cubic Bézier segments (a hand-drawn look)."""
    d = [f"M {_fmt(points[0][0])},{_fmt(points[0][1])}"]
    for i in range(len(points) - 1):
        p0 = points[i - 1] if i else points[i]
        p1, p2 = points[i], points[i + 1]
        p3 = points[i + 2] if i + 2 < len(points) else p2
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        d.append(
            f"C {_fmt(c1[0])},{_fmt(c1[1])} {_fmt(c2[0])},{_fmt(c2[1])} {_fmt(p2[0])},{_fmt(p2[1])}"
        )
    return " ".join(d)


def signature_svg(seed: str = "CERES", width: str = "42mm", color: str = "#1b2a6b") -> str:
    """A scribble that looks like a handwritten signature, stable for a given ``seed``.

    A tall capital loop, then cursive "letters" (loops of random height, some with a
    descender) along a slightly rising baseline, and an underline flourish; a different
    seed (e.g. the signatory's name) gives a different signature.
    """
    rng = random.Random(seed)  # str seeds are hashed deterministically across runs
    width, color = escape(width), escape(color)  # they land in attributes
    base = 50.0
    # Capital: a big loop rising from the baseline, coming back down through itself.
    points = [(12, base + 4), (26, 14), (40, 6), (34, 28), (18, base - 2), (30, base - 10)]
    x = 30.0
    for _ in range(rng.randint(5, 8)):
        kind = rng.random()
        height = rng.uniform(8, 14) if kind < 0.6 else rng.uniform(22, 34)
        letter_w = rng.uniform(11, 19)
        descender = kind > 0.88
        for step in range(1, 7):
            t = step / 6 * 2 * math.pi
            # Trochoid: the pen moves right while circling, which draws cursive loops.
            px = x + letter_w * step / 6 - 0.45 * letter_w * math.sin(t)
            lift = (1 - math.cos(t)) / 2
            py = base - height * lift if not descender else base + 18 * lift
            # Right-leaning slant and a slightly rising line, as fast handwriting does.
            points.append((px + (base - py) * 0.35, py - (px - 30) * 0.06))
        x += letter_w
    end_y = points[-1][1]
    points += [
        (x + 8, end_y + 4),
        (x + 4, base + 12 + rng.uniform(-2, 2)),
        ((x + 20) / 2, base + 16 + rng.uniform(-3, 3)),
        (18, base + 10 + rng.uniform(-2, 3)),
    ]
    view_w = x + 24
    body = _smooth_path(points)
    dot = f'<circle cx="{_fmt(40 + rng.uniform(0, x - 50))}" cy="{_fmt(rng.uniform(14, 22))}" r="1.3" fill="{color}"/>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_fmt(view_w)} 80" width="{width}" '
        f'class="ceres-artwork ceres-signature" role="img" aria-label="Signature">'
        f'<path d="{body}" fill="none" stroke="{color}" stroke-width="1.6" '
        f'stroke-linecap="round" stroke-linejoin="round"/>{dot}'
        f"</svg>"
    )


def _wave(y: float, width: float, amplitude: float, waves: int, phase: float) -> str:
    """A sine line as one cubic Bézier per half wave: controls at 4/3 of the amplitude and
    (4/3)/π of the half-wave length match the sine's height and slope."""
    half = width / (2 * waves)
    shift = phase / math.pi * half
    handle = half * (4 / 3) / math.pi
    x = -half + shift % (2 * half)  # start just off-page so the line covers the whole width
    sign = 1
    d = [f"M {_fmt(x - half)},{_fmt(y)}"]
    x -= half
    while x < width:
        peak = y - sign * amplitude * 4 / 3
        d.append(f"C {_fmt(x + handle)},{_fmt(peak)} {_fmt(x + half - handle)},{_fmt(peak)} {_fmt(x + half)},{_fmt(y)}")
        x += half
        sign = -sign
    return " ".join(d)


@lru_cache(maxsize=8)
def guilloche_svg(color: str = "#d5dcee", accent: str = "#efdcdc") -> str:
    """A light full-page (A4, in mm) security-paper pattern: a rose of rotated ellipses and
    wave bands at the top and bottom.

    Built from few primitives on purpose: WeasyPrint redraws a background SVG on every page,
    so the cost is per page (a polyline guilloché with thousands of points took 0.5 s).
    Cached: it is the same for every document.
    """
    color, accent = escape(color), escape(accent)
    cx, cy = 105, 148.5
    shapes = []
    for i in range(36):
        shapes.append(f'<ellipse cx="{cx}" cy="{cy}" rx="72" ry="20" transform="rotate({i * 5} {cx} {cy})"/>')
    for i in range(24):
        shapes.append(
            f'<ellipse cx="{cx}" cy="{cy}" rx="46" ry="26" stroke="{accent}" '
            f'transform="rotate({2.5 + i * 7.5} {cx} {cy})"/>'
        )
    for r in (76, 78, 80):
        shapes.append(f'<circle cx="{cx}" cy="{cy}" r="{r}"/>')
    for base_y in (14.0, 283.0):
        for j in range(6):
            stroke = f' stroke="{accent}"' if j % 3 == 0 else ""
            shapes.append(f'<path d="{_wave(base_y + j * 1.2, 210, 4.0, 9, j * math.pi / 6)}"{stroke}/>')
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 210 297" width="210mm" height="297mm" '
        'class="ceres-artwork ceres-guilloche">'
        f'<g fill="none" stroke="{color}" stroke-width="0.25">{"".join(shapes)}</g></svg>'
    )


def _from_file(name: str) -> Callable[..., str]:
    def render(**params: object) -> str:
        params.setdefault("uid", next(_uids))
        return _file_env.get_template(f"{name}.svg").render(**params)
    render.__name__ = f"{name}_svg"
    return render


# Rough advance widths (em) of Marianne Bold capitals: enough to space letters evenly on a ring.
_NARROW, _WIDE = set("Iil.,:;'’!|1 "), set("MWÆŒ")


def _ring_layout(text: str, radius: float, font_size: float, cx: float = 100, cy: float = 100) -> dict[str, str]:
    """Per-glyph x/y/rotate lists laying ``text`` clockwise around a circle, starting at the top.

    One <text> with coordinate lists: WeasyPrint ignores <textPath>, and one <text> per letter
    costs ~4x more to draw.
    """
    widths = [font_size * (0.32 if ch in _NARROW else 0.95 if ch in _WIDE else 0.72) for ch in text]
    scale = 2 * math.pi * radius / sum(widths)  # stretch to close the ring
    xs, ys, rotations, run = [], [], [], 0.0
    for w in widths:
        theta = (run + w / 2) * scale / radius  # angle of the glyph's centre, clockwise from top
        run += w
        tx, ty = math.cos(theta), math.sin(theta)  # clockwise tangent
        px, py = cx + radius * math.sin(theta), cy - radius * math.cos(theta)
        # Glyph origin is its left edge: step back half a glyph along the tangent to centre it.
        xs.append(_fmt(px - tx * w * 0.5))
        ys.append(_fmt(py - ty * w * 0.5))
        rotations.append(_fmt(math.degrees(theta)))
    return {"ring_x": " ".join(xs), "ring_y": " ".join(ys), "ring_rotate": " ".join(rotations)}


def stamp_svg(ring_text: str = "MINISTÈRE DU TRAVAIL • RÉPUBLIQUE FRANÇAISE • ", **params: object) -> str:
    """Round stamp (``stamp.svg``): ring text, ``center_text`` (default CACHET), ``sub_text``."""
    params.setdefault("uid", next(_uids))
    ring = " ".join(ring_text.split()) + " "
    return _file_env.get_template("stamp.svg").render(
        ring_text=ring, **_ring_layout(ring, radius=73, font_size=13), **params)


ARTWORK: dict[str, Callable[..., str]] = {
    "marque": _from_file("marque"),
    "stamp": stamp_svg,
    "signature": signature_svg,
    "guilloche": guilloche_svg,
}


def artwork_svg(name: str, **params: object) -> str:
    """Inline SVG markup of artwork ``name`` (marque, stamp, signature, guilloche)."""
    try:
        factory = ARTWORK[name]
    except KeyError:
        raise KeyError(f"unknown artwork {name!r}; known: {', '.join(sorted(ARTWORK))}") from None
    return factory(**params)


def artwork_data_uri(name: str, **params: object) -> str:
    """The same artwork as a base64 ``data:`` URI (safe inside CSS ``url("…")`` and attributes)."""
    svg = artwork_svg(name, **params)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")

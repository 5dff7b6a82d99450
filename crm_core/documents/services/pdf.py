"""HTML from a document template → PDF, in pure Python with a font that comes from PyPI.

fpdf2 draws the subset of HTML a document needs (headings, paragraphs, bold, tables, lines);
Roboto (the font-roboto package) has Cyrillic, «», № and ₽. No system library or font is needed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import font_roboto
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.errors import FPDFException
from fpdf.fonts import TextStyle

# fontTools logs every glyph subset at INFO: noise in the logs of each document.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONTS = Path(font_roboto.__file__).parent / "files"
# Paperwork is black: fpdf2's headings are dark red by default.
HEADINGS = {
    "h1": TextStyle(color="#000000", b_margin=0.4, font_size_pt=18, t_margin=4),
    "h2": TextStyle(color="#000000", b_margin=0.4, font_size_pt=14, t_margin=4),
    "h3": TextStyle(color="#000000", b_margin=0.4, font_size_pt=12, t_margin=3),
}
STYLES = {"": "Roboto-Regular.ttf", "B": "Roboto-Bold.ttf", "I": "Roboto-Italic.ttf",
          "BI": "Roboto-BoldItalic.ttf"}  # fmt: skip


def to_pdf(html: str, *, title: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Relata")
    for style, file in STYLES.items():
        pdf.add_font("Roboto", style, FONTS / file)
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    pdf.set_font("Roboto", size=10)
    try:
        pdf.write_html(html, font_family="Roboto", tag_styles=HEADINGS)
    except (FPDFException, ValueError, KeyError, NotImplementedError) as exc:
        raise ValidationError(
            _("The template's HTML cannot be laid out as a PDF: %(error)s") % {"error": exc},
            code="layout",
        ) from exc
    return bytes(pdf.output())

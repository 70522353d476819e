"""The one PDF renderer: the embedded WenQuanYi font, wrapping Chinese text, and A4 notices.

Certificates (`lms.exams.certificates`) draw their own landscape layout with these helpers;
notices are rendered from their Markdown text by `render_notice`.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT = "WenQuanYiMicroHei"
FONT_FILE = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"


def register_font() -> None:
    """Register the embedded font once per process (its subset goes into every PDF that uses it)."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE), subfontIndex=0))


# Chinese typesetting (禁则): these never begin a line, those never end one.
NO_LINE_START = frozenset("、，。；：！？）】》」』〕”’,.;:!?)]}…%")
NO_LINE_END = frozenset("（【《「『〔“‘([{")


def _break_at(row: str, char: str) -> int:
    """Where to cut a full row before `char`: between words in Latin text, never after an opening mark."""
    cut = len(row)
    if char.isascii() and char.isalnum() and row[-1:].isascii() and row[-1:].isalnum():
        space = row.rfind(" ")
        if space > 0:
            cut = space + 1
    while cut > 1 and row[cut - 1] in NO_LINE_END:
        cut -= 1
    return cut


def wrap(text: str, size: float, max_width: float) -> list[str]:
    """Break text into rows no wider than max_width: at any character in Chinese, between words in
    English; closing punctuation hangs at the end of a row rather than begin the next."""
    rows, row = [], ""
    for char in text:
        if not row or char in NO_LINE_START or pdfmetrics.stringWidth(row + char, FONT, size) <= max_width:
            row += char
            continue
        cut = _break_at(row, char)
        rows.append(row[:cut].rstrip())
        row = (row[cut:] + char).lstrip()
    return [*rows, row] if row else rows


_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def _plain(text: str) -> str:
    """Inline Markdown the notices use (bold, code) drawn as plain text."""
    return _BOLD.sub(r"\1", text).replace("`", "")


def render_notice(*, title: str, body_markdown: str, company: str, number: str, issued_on: str,
                  sha_note: str | None = None, author: str | None = None) -> bytes:
    """An A4 portrait notice: number, title, the body (Markdown subset: `#`/`##` headings, paragraphs,
    `-` lists, `|` tables drawn as rows), the employer's name with a place for the seal, the date.

    `invariant` keeps the bytes a function of the content alone (no creation time, no random id):
    the SHA-256 on record is the SHA-256 of what the text says.
    """
    register_font()
    buffer = io.BytesIO()
    width, height = A4
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, initialFontName=FONT, initialFontSize=11)
    pdf.setTitle(f"{title} {number}")
    pdf.setAuthor(author or company)
    left, right, top, bottom = 25 * mm, 25 * mm, 25 * mm, 22 * mm
    usable = width - left - right
    page = [1]
    y = height - top

    def footer() -> None:
        pdf.setFont(FONT, 8)
        pdf.setFillGray(0.35)
        pdf.drawString(left, 12 * mm, f"{number}")
        pdf.drawRightString(width - right, 12 * mm, f"第 {page[0]} 页")
        pdf.setFillGray(0)

    def new_page() -> float:
        footer()
        pdf.showPage()
        page[0] += 1
        return height - top

    def rows(text: str, size: float, indent: float = 0, gap: float = 1.55, first_indent: float = 0,
             bold: bool = False) -> None:
        nonlocal y
        pdf.setFont(FONT, size)
        lines = wrap(text, size, usable - indent - first_indent) if text else [""]
        # Rewrap the rest at the full width once the first line took its indent.
        if first_indent and len(lines) > 1:
            rest = "".join(lines[1:])
            lines = [lines[0], *wrap(rest, size, usable - indent)]
        for n, line in enumerate(lines):
            if y < bottom + size:
                y = new_page()
                pdf.setFont(FONT, size)
            x = left + indent + (first_indent if n == 0 else 0)
            pdf.drawString(x, y, line)
            if bold:  # the font has no bold face: a second pass a hair to the right reads as bold
                pdf.drawString(x + 0.35, y, line)
            y -= size * gap

    pdf.setFont(FONT, 9)
    pdf.drawRightString(width - right, y, f"编号：{number}")
    y -= 14 * mm
    pdf.setFont(FONT, 20)
    pdf.drawCentredString(width / 2, y, title)
    y -= 14 * mm
    body_size = 11
    previous = None
    for kind, content in _blocks(body_markdown):
        if previous == "li" and kind != "li":
            y -= 2 * mm  # a list ends: a little air before what follows
        previous = kind
        if kind == "h":
            y -= 2 * mm
            rows(_plain(content), 12.5, bold=True)
            y -= 1 * mm
        elif kind == "li":
            pdf.setFont(FONT, body_size)
            if y < bottom + body_size:
                y = new_page()
            pdf.setFont(FONT, body_size)
            pdf.drawString(left + 3 * mm, y, "•")
            rows(_plain(content), body_size, indent=7 * mm)
        elif kind == "row":
            rows("    ".join(_plain(cell) for cell in content), 10, indent=3 * mm)
        elif kind == "p":
            whole_bold = content.startswith("**") and content.endswith("**")
            rows(_plain(content), body_size, bold=whole_bold)
            y -= 2.5 * mm
        elif kind == "gap":
            y -= 2 * mm
    # The signature block: the employer, a place for the seal, the date.
    if y < bottom + 45 * mm:
        y = new_page()
    y -= 10 * mm
    seal_x = width - right - 45 * mm
    pdf.setFont(FONT, 12)
    pdf.drawString(seal_x - 20 * mm, y, f"用人单位：{company}")
    y -= 8 * mm
    pdf.setDash(2, 2)
    pdf.setStrokeGray(0.5)
    pdf.circle(seal_x + 15 * mm, y - 12 * mm, 17 * mm)
    pdf.setDash()
    pdf.setFont(FONT, 9)
    pdf.setFillGray(0.45)
    pdf.drawCentredString(seal_x + 15 * mm, y - 13 * mm, "（盖章处）")
    pdf.setFillGray(0)
    pdf.setFont(FONT, 12)
    pdf.drawString(seal_x - 20 * mm, y - 36 * mm, issued_on)
    if sha_note:
        pdf.setFont(FONT, 7)
        pdf.setFillGray(0.4)
        pdf.drawString(left, bottom - 4 * mm, sha_note)
        pdf.setFillGray(0)
    footer()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _blocks(text: str) -> list[tuple[str, object]]:
    """The Markdown subset notices use, as (kind, content) blocks."""
    blocks: list[tuple[str, object]] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(("p", "".join(line.strip() for line in paragraph)))
            paragraph.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        if stripped.startswith("#"):
            flush()
            blocks.append(("h", stripped.lstrip("#").strip()))
        elif stripped.startswith(("- ", "* ")):
            flush()
            blocks.append(("li", stripped[2:].strip()))
        elif stripped.startswith("|"):
            flush()
            cells = [cell.strip() for cell in stripped.strip("|").split("|")]
            if all(set(cell) <= set("-: ") for cell in cells):
                continue
            blocks.append(("row", cells))
        else:
            paragraph.append(stripped)
    flush()
    return blocks

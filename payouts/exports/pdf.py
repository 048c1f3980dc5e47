"""A small PDF document writer over fpdf2: a title, key/value lines and paged tables.

Fonts come from the machine, never the network: DejaVu Sans when installed (full Unicode),
otherwise the PDF core font Helvetica, which only encodes Latin-1, so other characters are
replaced with "?" rather than failing the export.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


class Document:
    def __init__(self, *, title: str, orientation: str = "landscape") -> None:
        self.pdf = FPDF(orientation=orientation, format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.set_title(title)
        self.pdf.set_creator("affnet")
        self.unicode = (_DEJAVU / "DejaVuSans.ttf").exists() and (_DEJAVU / "DejaVuSans-Bold.ttf").exists()
        if self.unicode:
            self.pdf.add_font("DejaVu", "", str(_DEJAVU / "DejaVuSans.ttf"))
            self.pdf.add_font("DejaVu", "B", str(_DEJAVU / "DejaVuSans-Bold.ttf"))
            self.family = "DejaVu"
        else:
            self.family = "Helvetica"
        self.pdf.add_page()
        self.pdf.set_font(self.family, "B", 16)
        self.pdf.cell(0, 10, self.text(title), new_x="LMARGIN", new_y="NEXT")

    def text(self, value: object) -> str:
        text = "" if value is None else str(value)
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def lines(self, pairs: Sequence[tuple[str, object]]) -> None:
        self.pdf.set_font(self.family, "", 10)
        for label, value in pairs:
            # multi_cell wraps a long value (a VAT note, an address) instead of running off the page.
            self.pdf.multi_cell(
                0, 6, self.text(f"{label}: {value}"), align="L", new_x="LMARGIN", new_y="NEXT"
            )
        self.pdf.ln(2)

    def heading(self, text: str) -> None:
        self.pdf.set_font(self.family, "B", 12)
        self.pdf.cell(0, 8, self.text(text), new_x="LMARGIN", new_y="NEXT")

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[object]],
        widths: Sequence[int],
        align: str | Sequence[str] = "LEFT",
    ) -> None:
        """A table whose header repeats on every page it spans; ``align`` per column or for all."""
        self.pdf.set_font(self.family, "", 8)
        if not rows:
            self.pdf.cell(0, 6, "(none)", new_x="LMARGIN", new_y="NEXT")
            self.pdf.ln(2)
            return
        with self.pdf.table(
            col_widths=tuple(widths),
            text_align=align if isinstance(align, str) else tuple(align),
            line_height=5,
        ) as table:
            table.row([self.text(h) for h in header])
            for values in rows:
                table.row([self.text(v) for v in values])
        self.pdf.ln(3)

    def block(
        self, lines: Sequence[str], *, x: float, y: float, width: float, bold_first: bool = False
    ) -> float:
        """A block of text lines at (x, y), wrapped to ``width``; returns the y below it."""
        self.pdf.set_xy(x, y)
        for i, line in enumerate(lines):
            self.pdf.set_font(self.family, "B" if bold_first and i == 0 else "", 9)
            self.pdf.set_x(x)
            self.pdf.multi_cell(width, 4.5, self.text(line), align="L", new_x="LEFT", new_y="NEXT")
        return self.pdf.get_y()

    def output(self) -> bytes:
        return bytes(self.pdf.output())

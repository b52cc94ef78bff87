"""The documents as readers print and read them: headless Chromium, A4 PDFs and a 1280 px
screen.

The run itself prints the brief, the overview, each theme pack and the public summary
(``manifest.json: documents``); these tests check the page limits on those PDFs, that no
table needs a sideways scroll on screen, that printed tables never split a word, that
definition lists keep each term with its definition, and that body text is not printed
small. Skipped with a reason when Chromium or pdftotext is absent (`.ci/run` installs both
through the system package manager where it can).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from kcpp_analysis.core.paths import PACKAGE_DIR
from kcpp_analysis.run.pipeline.pdf import find_chromium

pytestmark = pytest.mark.slow

CHROMIUM = find_chromium()
LIMITS = {"brief.html": 2, "overview.html": 12}
PACK_LIMIT = 20


def _need_tools():
    if CHROMIUM is None or shutil.which("pdftotext") is None:
        pytest.skip("headless Chromium or pdftotext (poppler-utils) is not installed")


def _text(pdf) -> list[str]:
    pages = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    return [p for p in pages if p.strip()]


def _documents(report_set) -> list[dict]:
    return json.loads((report_set.out_dir / "manifest.json").read_text())["documents"]


def test_the_run_prints_each_document_within_its_page_limit(report_set, params):
    _need_tools()
    docs = {d["html"]: d for d in _documents(report_set)}
    packs = [f"{t}.html" for t in params.themes]
    places = [h for h in docs if h.startswith("place_")]
    assert len(places) == len(params.sia.places)
    for html in ["brief.html", "overview.html", *packs, *places, "public/summary.html"]:
        d = docs[html]
        assert d["pdf"] and (report_set.out_dir / d["pdf"]).is_file(), html
        pages = len(_text(report_set.out_dir / d["pdf"]))
        assert pages == d["pages"], (html, pages, d["pages"])  # the index states the truth
        limit = LIMITS.get(html, PACK_LIMIT if html in packs else 8 if html in places else 2)
        assert pages <= limit, f"{html}: {pages} pages (limit {limit})"
    manifest = json.loads((report_set.out_dir / "manifest.json").read_text())
    assert "brief.pdf" in manifest["files"] and manifest["files"]["brief.pdf"]["sha256"]


def test_plan_on_a_page_fits_two_a4_pages(report_set, params):
    _need_tools()
    pages = _text(report_set.out_dir / "overview.pdf")
    flat = [re.sub(r"\s+", " ", p) for p in pages]  # a title may wrap over two lines
    first = next(i for i, p in enumerate(flat) if "Plan on a page" in p and "Nearest" in p)
    after = next(i for i, p in enumerate(flat) if i > first and "Community insight" in p)
    assert after - first <= 2, f"plan on a page spans {after - first} pages or more"
    plan = " ".join(flat[first : after + 1])
    for pr in params.priorities:  # every priority is in the plan
        assert pr.title.split()[0] in plan


def test_printed_tables_never_split_a_word(report_set, params):
    """Every word of every priority's title prints whole in the packs and the overview
    (a narrow table column used to print "Domesti c abuse")."""
    _need_tools()
    words = {w for pr in params.priorities for w in re.findall(r"[A-Za-z]{6,}", pr.title)}
    for name in ["overview", *params.themes]:
        text = " ".join(_text(report_set.out_dir / f"{name}.pdf"))
        for w in words:
            split = [f"{w[:i]} {w[i:]}" for i in range(2, len(w) - 1)]
            assert not any(s in text for s in split), (name, w)


def test_no_kpi_row_loses_its_rag_when_printed(report_set):
    text = "\n".join(_text(report_set.out_dir / "violence.pdf")) if CHROMIUM else ""
    _need_tools()
    assert text.count("RED") + text.count("AMBER") + text.count("GREEN") >= 6
    assert "Page 1 of" in text  # page numbers from CSS paged media


def test_glossary_terms_print_with_their_definitions(report_set, tmp_path):
    """Each term of the methods annex's glossary is followed by its own definition."""
    _need_tools()
    from kcpp_analysis.run.pipeline.pdf import print_pdf

    pdf = tmp_path / "methods.pdf"
    print_pdf(report_set.out_dir / "methods.html", pdf, CHROMIUM)
    text = re.sub(r"\s+", " ", " ".join(_text(pdf)))
    from kcpp_analysis.report.tables import GLOSSARY

    for term, definition in GLOSSARY:
        start = " ".join(definition.split()[:4])
        at = text.find(f"{term} {start}")
        assert at >= 0, f"glossary term {term!r} does not print just before its definition"


_OVERFLOW = """<script>
window.addEventListener('load', () => {
  const bad = [];
  document.querySelectorAll('table').forEach((t, i) => {
    const p = t.closest('.kcpp-table-wrap') || t.parentElement;
    if (t.scrollWidth > p.clientWidth + 1) bad.push((t.caption ? t.caption.textContent : 'table ' + i).slice(0, 60));
  });
  document.body.setAttribute('data-overflow', JSON.stringify(bad));
});
</script>"""


def test_no_table_needs_a_sideways_scroll_at_1280_px(report_set, tmp_path):
    _need_tools()
    names = [d["html"] for d in _documents(report_set)] + ["index.html"]
    for html in names:
        src = (report_set.out_dir / html).read_text(encoding="utf-8")
        page = tmp_path / html.replace("/", "_")
        page.write_text(src.replace("</body>", _OVERFLOW + "</body>"), encoding="utf-8")
        dom = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--window-size=1280,900",
                f"--user-data-dir={tmp_path / 'chr'}",
                "--virtual-time-budget=5000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        m = re.search(r'data-overflow="([^"]*)"', dom)
        assert m, f"{html}: the check did not run"
        assert m.group(1) in ("[]", "&quot;[]&quot;"), f"{html}: {m.group(1)}"


def test_print_text_is_not_small():
    """Body text prints at 9 pt or more and no table below 7.5 pt (the style sheet)."""
    css = (PACKAGE_DIR / "report" / "nbconvert" / "kcpp" / "kcpp.css").read_text()
    printed = css[css.index("@media print") :]
    sizes = [float(x) for x in re.findall(r"font-size:\s*([\d.]+)pt", printed)]
    assert sizes and min(sizes) >= 7.5, sorted(sizes)[:3]
    body = re.search(r"body\.jp-Notebook, body\.kcpp-page \{ font-size: ([\d.]+)pt", printed)
    assert body and float(body.group(1)) >= 9


def test_no_printed_page_holds_only_the_running_marks_and_the_footer(report_set):
    """A page a reader turns to must carry content: the running marking, the page number
    and the document footer alone (a footer pushed over the page end) do not count."""
    _need_tools()
    for d in _documents(report_set):
        if not d.get("pdf"):
            continue
        html = (report_set.out_dir / d["html"]).read_text(encoding="utf-8")
        foot = re.search(r'<footer class="kcpp-footer">(.*?)</footer>', html, flags=re.S)
        footer = re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", foot.group(1))) if foot else ""
        footer = footer.replace("&middot;", "·").replace("&amp;", "&")
        for i, page in enumerate(_text(report_set.out_dir / d["pdf"]), 1):
            body = re.sub(r"\s+", "", page)
            body = body.replace(footer, "") if footer else body
            body = re.sub(r"Page\d+of\d+", "", body)
            for mark in ("-SYNTHETICDATA-NOTAREALASSESSMENT", "OFFICIAL", "PUBLIC"):
                body = body.replace(mark, "")
            assert len(body) >= 40, f"{d['pdf']} page {i} holds only marks and the footer"

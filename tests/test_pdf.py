"""Printing PDFs through one DevTools browser: the same pages as ``--print-to-pdf``, and a
fall back to one browser per document when that browser fails or hangs."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest

from kcpp_analysis.run.pipeline import pdf as pdfmod
from kcpp_analysis.run.pipeline.pdf import Browser, BrowserError, page_count, print_pdf

CHROMIUM = pdfmod.find_chromium()  # read before the autouse fixture hides it

PAGE = """<!doctype html><html><head><style>
@page {{ size: A4; margin: 15mm }}
section {{ break-after: page }}
body {{ background: #eef }}
</style></head><body>{body}</body></html>"""


def _docs(folder, n_pages=(1, 3, 2)):
    out = []
    for i, n in enumerate(n_pages):
        body = "".join(f"<section><h1>Document {i} page {k + 1}</h1></section>" for k in range(n))
        p = folder / f"doc{i}.html"
        p.write_text(PAGE.format(body=body), encoding="utf-8")
        out.append(p.name)
    return out


def _media_boxes(pdf) -> set[bytes]:
    return set(re.findall(rb"/MediaBox \[[^\]]*\]", pdf.read_bytes()))


@pytest.fixture()
def chromium(monkeypatch):
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed")
    monkeypatch.setenv("KCPP_CHROMIUM", CHROMIUM)
    return CHROMIUM


def test_one_browser_prints_the_pages_print_to_pdf_prints(tmp_path, chromium):
    docs = _docs(tmp_path)
    with Browser(chromium) as b:
        pages = [b.print_pdf(tmp_path / d, tmp_path / f"{d}.devtools.pdf") for d in docs]
    assert pages == [1, 3, 2]
    for d in docs:
        cli = tmp_path / f"{d}.cli.pdf"
        assert print_pdf(tmp_path / d, cli, chromium) == page_count(tmp_path / f"{d}.devtools.pdf")
        assert _media_boxes(cli) == _media_boxes(tmp_path / f"{d}.devtools.pdf")  # A4 both
    assert not list(tmp_path.glob(".*.tmp"))


def test_one_tab_prints_document_after_document_each_its_own_pages(tmp_path, chromium):
    """Every document is a new navigation of the same tab: each PDF has its own pages and
    text, also when the same document is printed twice in a row (a reload)."""
    docs = _docs(tmp_path, (2, 1))
    order = [docs[0], docs[1], docs[1], docs[0]]
    with Browser(chromium) as b:
        pages = [b.print_pdf(tmp_path / d, tmp_path / f"{k}.pdf") for k, d in enumerate(order)]
        assert len({e.get("sessionId") for e in b._events} - {None}) <= 1  # one tab
    assert pages == [2, 1, 1, 2]
    for k, d in enumerate(order):
        cli = tmp_path / f"{k}.cli.pdf"
        print_pdf(tmp_path / d, cli, chromium)
        assert (tmp_path / f"{k}.pdf").stat().st_size == pytest.approx(cli.stat().st_size, rel=0.05)


def test_a_printer_keeps_one_browser_for_the_run_and_replaces_a_failed_one(
    tmp_path, chromium, monkeypatch
):
    started = []

    def counting(c):
        started.append(c)
        return Browser(c)

    monkeypatch.setattr(pdfmod, "Browser", counting)
    docs = _docs(tmp_path)
    with pdfmod.Printer(1) as printer:
        first = pdfmod.print_documents(tmp_path, docs[:1], printer=printer)
        rest = pdfmod.print_documents(tmp_path, docs[1:], printer=printer)
        assert len(started) == 1  # the second call used the running browser
        printer._browser._proc.kill()  # the browser dies between two calls
        printer._browser._proc.wait()
        again = printer.print_documents(tmp_path, docs[:1])  # printed on its own instead
        assert len(started) == 1 and printer._browser is None
        later = printer.print_documents(tmp_path, docs[1:])
    assert {**first, **rest}.keys() == set(docs) and list(again) == docs[:1]
    assert list(later) == docs[1:]
    assert len(started) == 2 and printer._browser is None  # a new browser, then closed


def test_print_documents_falls_back_to_one_browser_each_when_the_browser_fails(
    tmp_path, chromium, monkeypatch, caplog
):
    docs = _docs(tmp_path)
    calls = []
    real = Browser.print_pdf

    def dies_after_one(self, html, pdf):
        calls.append(html.name)
        if len(calls) > 1:
            raise BrowserError("Chromium closed its pipe (exit -9)")
        return real(self, html, pdf)

    monkeypatch.setattr(Browser, "print_pdf", dies_after_one)
    with caplog.at_level(logging.INFO):
        done = pdfmod.print_documents(tmp_path, [*docs, "missing.html"], jobs=2)
    assert {k: v["pages"] for k, v in done.items()} == {
        "doc0.html": 1,
        "doc1.html": 3,
        "doc2.html": 2,
    }
    assert all((tmp_path / v["pdf"]).is_file() for v in done.values())
    assert "printing the rest one by one" in caplog.text


def test_a_browser_that_never_answers_times_out_and_is_stopped(tmp_path, monkeypatch, caplog):
    fake = tmp_path / "silent-chromium"
    fake.write_text("#!/bin/sh\nexec sleep 60\n")
    fake.chmod(0o755)
    t0 = time.monotonic()
    b = Browser(str(fake), timeout=1)
    profile = b._profile
    with pytest.raises(BrowserError, match="did not answer in time"):
        b.send("Browser.getVersion")
    b.timeout = 0.2
    b.close()
    assert b._proc.poll() is not None  # killed, not left behind
    assert time.monotonic() - t0 < 20
    assert not Path(profile).exists()  # the profile it created is removed
    # through print_documents: the one-browser path fails, the fallback fails too, the
    # HTML stays and the log says why; nothing half-written is left
    docs = _docs(tmp_path, (1,))
    monkeypatch.setenv("KCPP_CHROMIUM", str(fake))
    monkeypatch.setattr(pdfmod, "Browser", lambda c: Browser(c, timeout=0.5))
    monkeypatch.setattr(pdfmod, "print_pdf", lambda h, p, c: print_pdf(h, p, c, timeout=0.5))
    with caplog.at_level(logging.INFO):
        assert pdfmod.print_documents(tmp_path, docs) == {}
    assert "no PDF for doc0.html" in caplog.text
    assert not list(tmp_path.glob("*.pdf")) and not list(tmp_path.glob(".*.tmp"))


def _fake_printer(calls):
    def fake(folder, htmls, jobs=2, printer=None):
        calls.append(list(htmls))
        out = {}
        for h in htmls:
            pdf = Path(h).with_suffix(".pdf")
            (folder / pdf).write_bytes(b"%PDF-1.4 fake")
            out[h] = {"pdf": pdf.as_posix(), "pages": 1}
        return out

    return fake


def test_early_prints_take_the_overview_documents_as_its_ledger_lists_them(tmp_path, monkeypatch):
    """Packs print first; the overview's documents print once its ledger lists them all,
    in one browser call; a document whose HTML changed afterwards loses its early PDF."""
    from kcpp_analysis.run.pipeline import early as early_mod

    calls: list[list[str]] = []
    monkeypatch.setattr(early_mod, "print_documents", _fake_printer(calls))
    stage = tmp_path / "stage"
    (stage / ".work" / "overview").mkdir(parents=True)
    for h in ("asb.html", "brief.html", "place_rural.html"):
        (stage / h).write_text(f"<p>{h}</p>")
    ledger = stage / ".work" / "overview" / "written.txt"
    e = early_mod.EarlyPrints(stage, ledger, ["brief.html", "place_rural.html"])
    e.start(["asb.html"])
    time.sleep(0.5)
    assert calls == [["asb.html"]]  # the overview has written nothing yet
    ledger.write_text(f"{stage / 'brief.html'}\n")
    time.sleep(0.5)
    assert calls == [["asb.html"]]  # waits for both documents
    with ledger.open("a") as f:
        f.write(f"{stage / 'place_rural.html'}\n")
    deadline = time.monotonic() + 10
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert calls == [["asb.html"], ["brief.html", "place_rural.html"]]
    (stage / "place_rural.html").write_text("<p>rewritten</p>")
    e.overview_ended()
    kept = e.finish(overview_ok=True)
    assert sorted(kept) == ["asb.html", "brief.html"]
    assert not (stage / "place_rural.pdf").exists() and (stage / "brief.pdf").exists()


def test_early_prints_of_a_failed_overview_are_removed(tmp_path, monkeypatch):
    from kcpp_analysis.run.pipeline import early as early_mod

    calls: list[list[str]] = []
    monkeypatch.setattr(early_mod, "print_documents", _fake_printer(calls))
    stage = tmp_path / "stage"
    (stage / ".work" / "overview").mkdir(parents=True)
    (stage / "brief.html").write_text("<p>brief</p>")
    (stage / "asb.html").write_text("<p>asb</p>")
    ledger = stage / ".work" / "overview" / "written.txt"
    ledger.write_text(f"{stage / 'brief.html'}\n")
    e = early_mod.EarlyPrints(stage, ledger, ["brief.html", "public/summary.html"])
    e.start(["asb.html"])
    e.overview_ended()  # the overview failed before writing the public summary
    kept = e.finish(overview_ok=False)
    assert calls == [["asb.html"], ["brief.html"]]
    assert list(kept) == ["asb.html"] and not (stage / "brief.pdf").exists()


def test_a_profile_folder_still_being_written_is_removed_once_the_writer_stops(
    tmp_path, monkeypatch
):
    """Chromium's helpers can write into the profile for a moment after the browser dies
    (CI once failed a run on 'Directory not empty: Default'): removal waits and retries."""
    import errno
    import shutil

    prof = tmp_path / "kcpp-chromium-x"
    (prof / "Default").mkdir(parents=True)
    real = shutil.rmtree
    calls = []

    def busy_at_first(path, *a, **k):
        calls.append(path)
        if len(calls) < 3 and not k.get("ignore_errors"):  # a helper still writing
            raise OSError(errno.ENOTEMPTY, "Directory not empty", "Default")
        return real(path, *a, **k)

    monkeypatch.setattr(pdfmod.shutil, "rmtree", busy_at_first)
    pdfmod.remove_profile(str(prof), wait=0.01)
    assert len(calls) == 3 and not prof.exists()


def test_a_profile_folder_that_cannot_be_removed_is_logged_not_raised(
    tmp_path, monkeypatch, caplog
):
    prof = tmp_path / "kcpp-chromium-y"
    prof.mkdir()

    def never(path, *a, **k):
        if not k.get("ignore_errors"):
            raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(pdfmod.shutil, "rmtree", never)
    pdfmod.remove_profile(str(prof), tries=3, wait=0.01)  # no exception
    assert "could not remove Chromium's temporary profile folder" in caplog.text

"""The docs, offline: `tools/docs_preview.py --check` on every notebook (nbdev's docs processing, an HTML preview,
checked in headless Chromium), plus fast tests of the preview's own pieces. The browser tests skip when Chromium
is not installed (`apt-get update && apt-get install -y chromium`)."""
import os, importlib.util, json, sys, types
from pathlib import Path
import pytest
from conftest import ROOT, run

spec = importlib.util.spec_from_file_location('docs_preview', ROOT/'tools'/'docs_preview.py')
dp = importlib.util.module_from_spec(spec); spec.loader.exec_module(dp)
needs_chromium = pytest.mark.skipif(dp.find_chromium() is None,
                                    reason=f'Chromium is not installed (to run these: {dp.APT_CHROMIUM})')


def _cell(src, kind='code', **kw):
    c = {'cell_type': kind, 'metadata': {}, 'source': src, **kw}
    if kind == 'code': c = {'execution_count': None, 'outputs': [], **c}
    return c


def test_prepare_shows_what_quarto_shows():
    "Front matter, hidden/exported cells, `#|` options, nbdev's extra keys and Quarto markdown, as Quarto would."
    md_out = {'output_type': 'execute_result', 'execution_count': 0.0, 'metadata': {},
              'data': {'text/markdown': '### f\n\n[source](https://x/f.py){target="_blank" style="float:right"}\n'}}
    nbj = {'nbformat': 4, 'nbformat_minor': 5, 'metadata': {}, 'cells': [
        _cell('---\ntitle: T\ndescription: D\noutput-file: t.html\n---\n', 'raw'),
        {'cell_type': 'code', 'metadata': {}, 'outputs': [], 'execution_count': None},    # source removed by nbdev
        _cell('#| echo: false\n#| output: asis\nshow_doc(f)', has_sd=True, execution_count=0.0, outputs=[md_out]),
        _cell('#| code-fold: show\n#| exports\ndef g(): pass'),
        _cell('#| include: false\nsecret = 1'),
        _cell('::: {.callout-note}\nA [link](u){target="_blank"}\n:::', 'markdown')]}
    nb, fm, sds = dp.prepare(nbj)
    assert fm['title'] == 'T' and fm['output-file'] == 't.html'
    assert [c.cell_type for c in nb.cells] == ['code', 'code', 'markdown']
    assert 'preview-remove-input' in nb.cells[0].metadata.tags and nb.cells[0].execution_count == 0
    assert 'has_sd' not in nb.cells[0]
    assert nb.cells[1].source == 'def g(): pass'
    assert '<div class="callout-note">' in nb.cells[2].source and 'target="_blank"' in nb.cells[2].source
    assert '{target' not in nb.cells[0].outputs[0].data['text/markdown']
    assert sds == [{'cell': 'show_doc(f)', 'heading': 'f'}]


def test_hidden_lines(tmp_path):
    "Lines of hidden/exported cells that a page must not show (those also in a visible cell do not count)."
    nb = tmp_path/'x.ipynb'
    nb.write_text(json.dumps({'cells': [
        _cell('#| export\ndef very_long_function_name_here(a, b): return a + b\nimport numpy as np_with_a_long_alias'),
        _cell('#| hide\nassert very_long_function_name_here(1, 2) == 3, "hidden test"'),
        _cell('import numpy as np_with_a_long_alias')]}))
    assert dp._hidden_lines(nb) == ['def very_long_function_name_here(a, b): return a + b',
                                    'assert very_long_function_name_here(1, 2) == 3, "hidden test"']


@needs_chromium
def test_check_catches_broken_pages(tmp_path):
    """The checker fails a page with a raw directive, a missing/empty image, a dead link, no text and a blank screen
    (white text on white: blank to the eye, though the HTML has text)."""
    site, shots = tmp_path/'site', tmp_path/'shots'
    site.mkdir(); shots.mkdir()
    (site/'empty.png').write_bytes(b'')
    (site/'bad.html').write_text(
        f'<html><head><script>{dp._JS}</script></head><body><main style="margin-left:300px; color:#fff">'
        '<p>#| export</p><p>[a](b){target="_blank"}</p>'
        '<img src="nope.png"><img src="empty.png"><img src="data:image/png;base64,"><a href="gone.html">x</a>'
        '<h3>other</h3></main></body></html>')
    p = {'nb': 'not_a_notebook.ipynb', 'html': str(site/'bad.html'), 'out': 'bad.html',
         'show_docs': [{'cell': 'show_doc(f)', 'heading': 'f'}]}
    dp.check_page(p, site, shots, dp.find_chromium(), types.SimpleNamespace(nbs_path=tmp_path), {'bad.html'}, set(),
                  set())
    fails = '\n'.join(p['fail'])
    for what in ['raw directive in HTML text', 'Quarto-only syntax',
                 'missing image: nope.png', 'empty image file: empty.png', 'empty data: image',
                 'image not decoded by browser', 'broken local link: gone.html', 'empty page',
                 'screenshot (nearly) blank', 'show_doc block missing from page: f']:
        assert what in fails, f'{what!r} not reported; got:\n{fails}'


@needs_chromium
def test_docs_preview_all_notebooks(tmp_path):
    "Every notebook goes through nbdev's docs processing and renders to a page that passes every check."
    # processed notebooks are cached (keyed on notebook, library, settings.ini, nbdev) in the default preview folder
    p = run([sys.executable, 'tools/docs_preview.py', '--check', '--out', str(tmp_path),
             '--cache', str(ROOT/'_docs_preview'/'_proc')], check=False, timeout=1200)
    report = ((tmp_path/'report.txt').read_text() if (tmp_path/'report.txt').exists()
              else p.stdout[-5000:] + p.stderr[-3000:])
    assert p.returncode == 0, f'docs preview failed (exit {p.returncode}):\n{report}'
    res = json.loads((tmp_path/'report.json').read_text())
    assert res['ok'] and all(q['ok'] for q in res['pages'])
    assert (tmp_path/'site'/'index.html').exists() and (tmp_path/'screenshots'/'index.png').exists()

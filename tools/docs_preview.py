#!/usr/bin/env python
"""Offline HTML preview of the mi_nb docs, checked in headless Chromium.

    python tools/docs_preview.py [--check] [--out DIR] [--cache DIR] [--force] [--workers N] [NOTEBOOK ...]

The published site is built by `nbdev_docs` (.github/workflows/deploy.yaml) in two steps: nbdev processes every
notebook of nbs/ (the `proc_nbs` step: front matter, show_doc cells for exported functions, hidden and exported cells
removed; it *executes* exported cells and every cell that contains an `import`), then Quarto renders `_proc/`.
Quarto cannot be installed here, so this script runs the first step with nbdev's own processor and replaces the
second with nbconvert:

1. process: each notebook goes through nbdev's processor (`nbdev.serve_drv.main` with `FilterDefaults`, what
   `proc_nbs` runs), from the repository root like `nbdev_docs` in CI, one subprocess per notebook, `--workers` at
   a time. An error here is an error that breaks the real docs build. Results are cached in OUT/_proc, keyed on the
   notebook, the library sources, settings.ini and the nbdev version (`--force` ignores the cache).
2. render: each processed notebook becomes OUT/site/<page>.html, named like Quarto names it (the `output-file` nbdev
   puts in the front matter, e.g. 02_lab_oracle.ipynb -> lab_oracle.html; index.ipynb -> index.html). Quarto's
   part is imitated: the title block from the front matter, leading `#|` cell options (echo/output/include: false
   are honoured, all are removed from the code), `{...}` link attributes and `:::` divs, links to notebooks and to
   the published site made local, nbs/styles.css applied, a sidebar in chapter (= file) order as nbdev's
   sidebar.yml and a bar with the navbar of _quarto.yml. Cell outputs are embedded (data: URIs); local images are
   copied next to the pages. Math is rendered by Debian's MathJax when installed (libjs-mathjax), else shown as TeX.
   Nothing tracked is written: all output goes under OUT (default _docs_preview/, gitignored).
3. --check: each page is loaded in headless Chromium (a screenshot, OUT/screenshots/<page>.png, and the DOM after
   load) and FAILS on: a raw `#|` directive or Quarto-only syntax (`{target=...}`, `:::`) in the page text (the HTML
   text and the text the browser shows); an <img> whose file is missing or empty, an empty data: URI, or a local
   image the browser could not decode; a link to a local page or file that does not exist; little visible text; a
   (nearly) blank screenshot; a show_doc block (one per documented export) missing from the page; the source of a
   `#| hide` / `#| export` cell showing on the page. Also checked: the navbar hrefs in _quarto.yml exist. Remote
   images (the Colab badge) cannot load offline: reported as notes, not failures.

Writes OUT/report.txt (per page) and OUT/report.json. Exit status: 0 all good, 1 a check or a notebook failed,
2 a required tool is missing (the apt command to install it is printed).
Needs: the dev venv (nbdev 2.4.14, nbconvert); for --check Debian's chromium
(`apt-get update && apt-get install -y chromium`); optional: `apt-get install -y libjs-mathjax`.
Runtime: the processing step dominates, as slow as the cells nbdev executes (per-page seconds in the report); on
this 2-core machine about 2-3 minutes from scratch, about 25 s when the cache is valid (rendering ~2 s, Chromium ~2 s
a page).
"""
from __future__ import annotations

import argparse, hashlib, html, json, os, re, shutil, subprocess, sys, tempfile, time, traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE_VERSION = '1'  # bump when the processing step changes
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync']
APT_CHROMIUM = 'apt-get update && apt-get install -y chromium'
MATHJAX = Path('/usr/share/javascript/mathjax/MathJax.js')
MIN_TEXT = 200        # fewer visible characters than this in a page's content: "empty page"
MIN_INK = 0.01        # less than this fraction of non-background pixels in the content area: "blank screenshot"
SIDEBAR_W = 260       # px, the width of the preview's sidebar (left out of the blank-screenshot check)
_re_directive = re.compile(r'^\s*#\|', re.M)
_re_quarto_syntax = re.compile(r'\]\([^)\s]*\)\{[^}]*\}|\{target=|^\s*:::', re.M)


def find_chromium():
    for nm in ('chromium', 'chromium-browser', 'google-chrome', 'chrome'):
        if p := shutil.which(nm): return p


# ---------------------------------------------------------------------------------------------------- 1. process
def _process_one(src: str, dst: str, meta: str):
    "Worker (own process, cwd = repo root): nbdev's docs processing of one notebook, as `proc_nbs` does it."
    import warnings
    res, t0 = {'error': None, 'warnings': []}, time.time()
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        try:
            from nbdev.processors import FilterDefaults
            import nbdev.serve_drv
            nbdev.serve_drv.main((Path(src), Path(dst), FilterDefaults))
        except BaseException as e:  # noqa: BLE001 - report whatever broke, nbdev wraps the cell's error
            msg = f'{type(e).__name__}: {e}'
            if e.__cause__ is not None:
                msg += '\ncaused by: ' + ''.join(
                    traceback.format_exception_only(type(e.__cause__), e.__cause__)).strip()
            res['error'] = msg
            Path(dst).unlink(missing_ok=True)
    res['warnings'] = sorted({str(w.message).strip() for w in ws if 'Found cells containing imports' in str(w.message)})
    res['seconds'] = round(time.time() - t0, 1)
    Path(meta).write_text(json.dumps(res))


def _cache_key(nb: Path, cfg) -> str:
    import nbdev
    h = hashlib.sha256(f'{CACHE_VERSION} nbdev {nbdev.__version__}\n'.encode())
    for p in [nb, cfg.config_file, *sorted(Path(cfg.lib_path).rglob('*.py'))]:
        h.update(str(p).encode()); h.update(p.read_bytes())
    return h.hexdigest()


def process(nbs: list[Path], proc_dir: Path, cfg, workers: int, force: bool, timeout: int) -> dict:
    "Process `nbs` into `proc_dir` (in parallel subprocesses); returns {name: result dict}."
    proc_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1'), 'PYTHONWARNINGS': 'ignore'}

    def one(nb: Path):
        dst, meta, log, keyf = (proc_dir/nb.name, proc_dir/f'{nb.stem}.json', proc_dir/f'{nb.stem}.log',
                                proc_dir/f'{nb.stem}.key')
        key = _cache_key(nb, cfg)
        if not force and dst.exists() and meta.exists() and keyf.exists() and keyf.read_text() == key:
            return nb.name, {**json.loads(meta.read_text()), 'cached': True}
        for p in (dst, meta, keyf): p.unlink(missing_ok=True)
        t0, tmp = time.time(), proc_dir/f'{nb.stem}.tmp{os.getpid()}.ipynb'
        cmd = [sys.executable, str(Path(__file__).resolve()), '--process-one', str(nb), str(tmp), str(meta)]
        scratch = Path(tempfile.mkdtemp(prefix=f'docs_preview_{nb.stem}_'))  # the cells' temp files, removed after
        try:
            with open(log, 'w') as f:
                rc = subprocess.run(cmd, cwd=cfg.config_path, env={**env, 'TMPDIR': str(scratch)}, stdout=f,
                                    stderr=subprocess.STDOUT, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            return nb.name, {'error': f'timed out after {timeout}s', 'warnings': [], 'seconds': timeout}
        finally: shutil.rmtree(scratch, ignore_errors=True)
        if not meta.exists():
            return nb.name, {'error': f'worker exited {rc} without a result; see {log}', 'warnings': [],
                             'seconds': round(time.time() - t0, 1)}
        res = json.loads(meta.read_text())
        if not res['error']: os.replace(tmp, dst); keyf.write_text(key)
        tmp.unlink(missing_ok=True)
        return nb.name, {**res, 'cached': False}

    with ThreadPoolExecutor(max(1, workers)) as ex: return dict(ex.map(one, nbs))


# ----------------------------------------------------------------------------------------------------- 2. render
def _opts(src: str):
    "Split the leading `#|` cell options (as Quarto reads them) from the code; returns (options dict, code)."
    lines, opts = src.splitlines(), {}
    i = 0
    while i < len(lines) and _re_directive.match(lines[i]):
        body = lines[i].split('|', 1)[1].strip()
        k, _, v = body.partition(':')
        opts[k.strip()] = v.strip().strip('"\'')
        i += 1
    return opts, '\n'.join(lines[i:]).strip('\n')


def _attrs(s: str) -> str:
    "Pandoc attributes `{.cls #id key=val}` as HTML attributes."
    cls, out = [], []
    for tok in re.findall(r'[\w-]+="[^"]*"|[\w-]+=\S+|[.#][\w-]+', s):
        if tok[0] == '.': cls.append(tok[1:])
        elif tok[0] == '#': out.append(f'id="{tok[1:]}"')
        else:
            k, v = tok.split('=', 1)
            out.append(f'{k}="{html.escape(v.strip(chr(34)), quote=True)}"')
    if cls: out.insert(0, f'class="{" ".join(cls)}"')
    return ' '.join(out)


_re_link_attr = re.compile(r'(?<!!)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)\)\{([^}]*)\}')
_re_img_attr = re.compile(r'(!\[[^\]]*\]\([^)\s]+\))\{[^}]*\}')
_re_span = re.compile(r'(?<![!\]])\[([^\[\]]+)\]\{([^}]*)\}')
_re_div_open = re.compile(r'^\s*:{3,}\s*(\{[^}]*\}|[\w-]+)\s*$')
_re_div_close = re.compile(r'^\s*:{3,}\s*$')


def quarto_md(md: str) -> str:
    "The Quarto (pandoc) markdown nbdev writes, as markdown nbconvert's renderer understands."
    md = _re_img_attr.sub(r'\1', md)
    md = _re_link_attr.sub(lambda m: f'<a href="{m[2]}" {_attrs(m[3])}>{m[1]}</a>', md)
    md = _re_span.sub(lambda m: f'<span {_attrs(m[2])}>{m[1]}</span>', md)
    out, fence = [], False
    for line in md.splitlines():
        if line.lstrip().startswith(('```', '~~~')): fence = not fence
        if not fence and (m := _re_div_open.match(line)):
            a = m[1]
            out += ['', f'<div {_attrs(a) if a.startswith("{") else _attrs("." + a)}>', '']
        elif not fence and _re_div_close.match(line): out += ['', '</div>', '']
        else: out.append(line)
    return '\n'.join(out)


def _src(x): return ''.join(x) if isinstance(x, list) else (x or '')


def prepare(nbj: dict):
    """Processed notebook (json) -> (nbformat node, front matter, show_doc headings) ready for nbconvert: what Quarto
    would show, with nbdev's non-standard keys (`has_sd`) and malformed metadata removed."""
    import nbformat, yaml
    from nbformat.v4.rwbase import rejoin_lines
    fm, cells, show_docs, stats = {}, [], [], {'code_cells': 0, 'with_output': 0}
    for i, c in enumerate(nbj.get('cells', [])):
        c.pop('has_sd', None)
        if 'source' not in c: continue          # nbdev removed it (#| hide, #| export): Quarto shows nothing
        src = _src(c['source'])
        if i == 0 and c['cell_type'] == 'raw' and src.startswith('---'):
            fm = yaml.safe_load(src.strip().strip('-')) or {}
            continue
        md = c.setdefault('metadata', {})
        md.pop('execution', None)
        if c['cell_type'] == 'markdown':
            c['source'] = quarto_md(src)
            c.pop('outputs', None); c.pop('execution_count', None)
        elif c['cell_type'] == 'code':
            opts, code = _opts(src)
            if opts.get('include') == 'false': continue
            c['source'] = code
            ec = c.get('execution_count')
            c['execution_count'] = int(ec) if isinstance(ec, (int, float)) and not isinstance(ec, bool) else None
            outs = c.setdefault('outputs', [])
            if opts.get('output') == 'false': outs.clear()
            for o in outs:
                if o.get('output_type') != 'execute_result': o.pop('execution_count', None)
                else:
                    o['execution_count'] = c['execution_count']
                    o.setdefault('metadata', {})
                data = o.get('data', {})
                if 'text/markdown' in data:
                    mdo = quarto_md(_src(data['text/markdown']))
                    data['text/markdown'] = mdo
                    if code.startswith('show_doc('):
                        heads = re.findall(r'^#{2,5}\s+(.+?)\s*$', mdo, re.M)
                        show_docs.append({'cell': code, 'heading': heads[0] if heads else None})
            if code.startswith('show_doc(') and not outs: show_docs.append({'cell': code, 'heading': None})
            tags = md.setdefault('tags', [])
            if opts.get('echo') == 'false' or not code.strip(): tags.append('preview-remove-input')
            if not code.strip() and not outs: continue
            if not code.startswith('show_doc(') and opts.get('echo') != 'false':
                stats['code_cells'] += 1; stats['with_output'] += bool(outs)
        cells.append(c)
    nbj['cells'] = cells
    nb = nbformat.from_dict(nbj)
    rejoin_lines(nb)                            # outputs nbdev executed keep their text as lists of lines
    nb.nbformat, nb.nbformat_minor = 4, max(nb.get('nbformat_minor', 5), 5)
    for j, c in enumerate(nb.cells): c.setdefault('id', f'cell-{j}')
    nbformat.validate(nb)
    nb.metadata['preview_stats'] = stats
    return nb, fm, show_docs


_CSS = f"""
body {{ margin: 0; }}
#preview-sidebar {{ position: fixed; top: 0; left: 0; bottom: 0; width: {SIDEBAR_W - 20}px; overflow-y: auto;
  padding: 12px 10px; background: #f7f7f9; border-right: 1px solid #ddd; font: 14px/1.5 sans-serif; }}
#preview-sidebar a {{ display: block; padding: 3px 6px; color: #2c3e50; text-decoration: none; border-radius: 4px; }}
#preview-sidebar a.active {{ background: #2780e3; color: white; }}
#preview-sidebar .site-title {{ font-weight: bold; font-size: 17px; margin-bottom: 4px; }}
#preview-sidebar .navbar {{ border-bottom: 1px solid #ddd; margin-bottom: 8px; padding-bottom: 8px; }}
#preview-sidebar .navbar a {{ color: #2780e3; }}
#preview-sidebar .broken {{ color: #c00; text-decoration: line-through; }}
body > main {{ margin-left: {SIDEBAR_W}px; max-width: 1000px; padding: 8px 24px; }}
#title-block-header h1.title {{ font: 600 2.2em sans-serif; margin: 0.4em 0 0.2em; }}
#title-block-header .description {{ font: 1.15em sans-serif; color: #555; margin-bottom: 1.2em; }}
.callout, [class*="callout-"] {{ border-left: 4px solid #2780e3; padding: 4px 12px; margin: 8px 0; \
background: #f5f9fe; }}
"""

_JS = """
window.addEventListener('load', () => setTimeout(() => {
  const m = document.querySelector('main'), d = document.documentElement;
  const bad = [...document.images].filter(i => !/^https?:/.test(i.getAttribute('src') || '') &&
      !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src') || '(no src)');
  d.dataset.brokenImages = JSON.stringify(bad);
  const t = document.createElement('pre'); t.id = 'preview-innertext'; t.hidden = true;
  t.textContent = m ? m.innerText : ''; document.body.appendChild(t);
  d.dataset.previewReady = '1';
}, 50));
"""


def _local(href: str) -> bool:
    return bool(href) and not re.match(r'^[a-zA-Z][\w+.-]*:|^#|^//', href)


def render(pages: list[dict], site: Path, cfg, navbar: list[dict]):
    "Render every processed page of `pages` (sidebar order) to site/<out>.html with the preview's nav."
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_input_tags = {'preview-remove-input'}
    c.HTMLExporter.exclude_input_prompt = c.HTMLExporter.exclude_output_prompt = True
    exp = HTMLExporter(config=c, template_name='lab')
    site.mkdir(parents=True, exist_ok=True)
    nbs_path = Path(cfg.nbs_path)
    if (nbs_path/'styles.css').exists(): shutil.copy2(nbs_path/'styles.css', site/'styles.css')
    by_nb = {p['nb']: p['out'] for p in pages}
    site_url = (cfg.get('doc_host', '') + cfg.get('doc_baseurl', '')).rstrip('/') + '/'
    for p in pages:
        if not p.get('proc'): continue
        try:
            nb, fm, p['show_docs'] = prepare(json.loads(Path(p['proc']).read_text()))
            p.update(nb.metadata.pop('preview_stats'))
            body, _ = exp.from_notebook_node(nb)
        except Exception as e:  # noqa: BLE001
            p['render_error'] = f'{type(e).__name__}: {str(e)[:2000]}'
            continue
        soup = BeautifulSoup(body, 'html.parser')
        for s in soup.find_all(['script', 'link']):   # offline: no CDN (require.js, mermaid); MathJax from Debian
            u = s.get('src') or (s.get('href') if s.name == 'link' else None) or ''
            if re.match(r'^(https?:)?//', u):
                if 'mathjax' in u.lower() and MATHJAX.exists():
                    s['src'] = MATHJAX.as_uri() + '?config=TeX-AMS_CHTML-full'
                else: s.decompose()
        head = soup.head
        if (site/'styles.css').exists(): head.append(soup.new_tag('link', rel='stylesheet', href='styles.css'))
        st = soup.new_tag('style'); st.string = _CSS; head.append(st)
        sc = soup.new_tag('script'); sc.string = _JS; head.append(sc)
        if soup.title: soup.title.string = f"{fm.get('title', p['nb'])} – {cfg.get('title', '')}"
        main = soup.find('main')
        hdr = BeautifulSoup(f'<header id="title-block-header"><h1 class="title">{html.escape(str(fm.get("title", "")))}'
                            f'</h1><p class="description">{html.escape(str(fm.get("description", "")))}</p></header>',
                            'html.parser')
        main.insert(0, hdr)
        nav = ['<nav id="preview-sidebar">', f'<div class="site-title"><a href="index.html">'
               f'{html.escape(cfg.get("title", ""))}</a></div>', '<div class="navbar">']
        for n in navbar:
            cls = '' if n['ok'] else ' class="broken" title="missing in nbs/"'
            nav.append(f'<a href="{html.escape(n["target"])}"{cls}>{html.escape(n["text"])}</a>')
        nav.append('</div>')
        for q in pages:
            cls = ' class="active"' if q is p else ''
            nav.append(f'<a href="{q["out"]}"{cls}>{html.escape(q["title"])}</a>')
        nav.append('</nav>')
        soup.body.insert(0, BeautifulSoup(''.join(nav), 'html.parser'))
        for a in main.find_all('a', href=True):     # links as Quarto resolves them: notebooks -> pages, site -> local
            h = a['href']
            if h.startswith(site_url): h = a['href'] = h[len(site_url):] or 'index.html'
            base, _, frag = h.partition('#')
            if _local(h) and base.endswith('.ipynb') and Path(base).name in by_nb:
                a['href'] = by_nb[Path(base).name] + (f'#{frag}' if frag else '')
        for img in main.find_all('img', src=True):  # local images: copied next to the page (as Quarto does)
            s = img['src']
            if _local(s) and (nbs_path/s).is_file() and not (site/s).exists():
                (site/s).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(nbs_path/s, site/s)
        (site/p['out']).write_text(str(soup))
        p['html'] = str(site/p['out'])


# ------------------------------------------------------------------------------------------------------ 3. check
def _text(soup) -> str:
    main = soup.find('main') or soup
    for t in main.find_all(['script', 'style']): t.decompose()
    return main.get_text('\n')


def _sig_lines(src: str) -> list[str]:
    "Distinctive code lines of a cell: long enough that seeing one on a page means the cell shows."
    return [l.strip() for l in src.splitlines() if len(l.strip()) >= 30 and not l.strip().startswith('#')]


def _hidden_lines(nb_path: Path) -> list[str]:
    "Lines of the notebook's `#| hide` / `#| export` cells that appear in no visible cell."
    if not nb_path.is_file(): return []
    nbj = json.loads(nb_path.read_text())
    hidden, visible = [], []
    for c in nbj['cells']:
        if c['cell_type'] != 'code': continue
        opts, code = _opts(_src(c['source']))
        (hidden if opts.keys() & {'hide', 'export', 'exporti', 'default_exp'} or opts.get('include') == 'false'
         else visible).append(code)
    vis = '\n'.join(visible)
    return [l for l in dict.fromkeys(l for h in hidden for l in _sig_lines(h)) if l not in vis]


def _chromium(chrome: str, args: list[str], timeout=60) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as ud:
        return subprocess.run([chrome, *CHROMIUM_FLAGS, f'--user-data-dir={ud}', *args], capture_output=True,
                              text=True, timeout=timeout)


def _ink(png: Path) -> float:
    "Fraction of the content area's pixels (right of the sidebar) that differ from its most common colour."
    import numpy as np
    from PIL import Image
    im = Image.open(png).convert('RGB')
    a = np.asarray(im.crop((min(SIDEBAR_W, im.width - 1), 0, im.width, im.height)), dtype=np.int16).reshape(-1, 3)
    if not len(a): return 0.0
    cols, counts = np.unique(a[::7], axis=0, return_counts=True)
    bg = cols[counts.argmax()]
    return float((np.abs(a - bg).sum(1) > 48).mean())


def check_page(p: dict, site: Path, shots: Path, chrome: str, cfg, all_outs: set, unbuilt: set,
               failed_outs: set) -> None:
    "Run every check on one rendered page; fills p['fail'] / p['notes']."
    from bs4 import BeautifulSoup
    fail, notes = p.setdefault('fail', []), p.setdefault('notes', [])
    page = Path(p['html'])
    soup = BeautifulSoup(page.read_text(), 'html.parser')
    main = soup.find('main')
    text = _text(BeautifulSoup(str(main), 'html.parser'))
    for m in _re_directive.finditer(text):
        fail.append(f'raw directive in HTML text: {text[m.start():].strip().splitlines()[0][:80]!r}')
    for m in _re_quarto_syntax.finditer(text):
        fail.append(f'Quarto-only syntax in HTML text: {text[max(0, m.start() - 20):m.end() + 20].strip()!r}')
    for img in main.find_all('img'):
        s = img.get('src', '')
        if s.startswith('data:'):
            if len(s.partition(',')[2].strip()) < 20: fail.append(f'empty data: image ({s[:40]!r})')
        elif re.match(r'^(https?:)?//', s): notes.append(f'remote image, not loaded offline: {s}')
        elif not s: fail.append('<img> without src')
        else:
            f = site/s.split('#')[0].split('?')[0]
            if not f.is_file(): fail.append(f'missing image: {s} (not in nbs/ either)')
            elif f.stat().st_size == 0: fail.append(f'empty image file: {s}')
    for a in main.find_all('a', href=True):
        h = a['href'].split('#')[0].split('?')[0]
        if not _local(a['href']) or not h: continue
        if h.endswith('.ipynb') and Path(h).name in unbuilt: continue   # exists, not built this time
        if h.endswith('.ipynb'): fail.append(f'link to a notebook that does not exist: {a["href"]}')
        elif h in unbuilt: continue
        elif h in failed_outs: notes.append(f'links to {h}, not built because its notebook failed')
        elif h not in all_outs and not (site/h).exists(): fail.append(f'broken local link: {a["href"]}')
    heads = {' '.join(h.get_text().replace('¶', '').split()) for h in main.find_all(['h2', 'h3', 'h4', 'h5'])}
    for sd in p.get('show_docs', []):
        if sd['heading'] is None: fail.append(f'show_doc without output: {sd["cell"]}')
        elif ' '.join(re.sub(r'[*`\\]', '', sd['heading']).split()) not in heads:
            fail.append(f'show_doc block missing from page: {sd["heading"]}')
    code = '\n'.join(t.get_text() for t in main.select('.jp-InputArea-editor, pre'))
    for l in _hidden_lines(Path(cfg.nbs_path)/p['nb']):
        if l in code: fail.append(f'hidden/exported cell shows: {l[:80]!r}')
    # the browser: screenshot and DOM after load (images decoded, text as shown)
    shot = shots/(Path(p['out']).stem + '.png')
    shot.unlink(missing_ok=True)
    url = page.resolve().as_uri()
    r = _chromium(chrome, [f'--screenshot={shot}', '--window-size=1280,900', '--hide-scrollbars',
                           '--virtual-time-budget=8000', url])
    if not shot.exists() or shot.stat().st_size == 0:
        fail.append(f'no screenshot (chromium exited {r.returncode}: {r.stderr.strip()[-300:]})')
    else:
        p['screenshot'], p['ink'] = str(shot), round(_ink(shot), 4)
        if p['ink'] < MIN_INK: fail.append(f'screenshot (nearly) blank: {p["ink"]:.2%} of content pixels inked')
    r = _chromium(chrome, ['--dump-dom', '--virtual-time-budget=8000', url])
    dom = BeautifulSoup(r.stdout, 'html.parser')
    if not dom.html or dom.html.get('data-preview-ready') != '1':
        fail.append(f'page did not finish loading in chromium (exit {r.returncode})')
        return
    for s in json.loads(dom.html.get('data-broken-images', '[]')):
        fail.append(f'image not decoded by browser: {s[:80]}')
    shown = dom.find(id='preview-innertext').get_text() if dom.find(id='preview-innertext') else ''
    p['visible_chars'] = len(''.join(shown.split()))
    if p['visible_chars'] < MIN_TEXT: fail.append(f'empty page: {p["visible_chars"]} visible characters')
    for m in _re_directive.finditer(shown):
        f = f'raw directive shown by browser: {shown[m.start():].strip().splitlines()[0][:80]!r}'
        if f.replace('shown by browser', 'in HTML text') not in fail: fail.append(f)
    if MATHJAX.exists() and '$' in shown and re.search(r'\$[^$\n]+\$', shown):
        notes.append('TeX left unrendered ($...$ in the shown text)')


# ------------------------------------------------------------------------------------------------------- config
def check_config(cfg) -> tuple[list[dict], list[str]]:
    "Navbar entries of _quarto.yml (resolved like Quarto: a notebook href -> its page) and config problems."
    import yaml
    nbs_path, probs = Path(cfg.nbs_path), []
    q = nbs_path/'_quarto.yml'
    if not q.exists(): return [], [f'{q} missing: nbdev_docs would write a default one']
    y = yaml.safe_load(q.read_text()) or {}
    web = y.get('website', {}) or {}
    nav = []
    for side in ('left', 'right'):
        for it in (web.get('navbar', {}) or {}).get(side, []) or []:
            h = it.get('href', '')
            if not h: continue
            ok = not _local(h) or (nbs_path/h.split('#')[0]).exists()
            if not ok:
                probs.append(f'_quarto.yml navbar "{it.get("text", h)}" links to {h}, which is not in {nbs_path.name}/')
            nav.append({'text': it.get('text') or it.get('icon') or h, 'href': h, 'ok': ok, 'target': h})
    css = ((y.get('format', {}) or {}).get('html', {}) or {}).get('css')
    for c in ([css] if isinstance(css, str) else css or []):
        if not (nbs_path/c).exists(): probs.append(f'_quarto.yml format.html.css {c} is not in {nbs_path.name}/')
    if not (nbs_path/cfg.get('readme_nb', 'index.ipynb')).exists():
        probs.append('settings.ini readme_nb does not exist')
    return nav, probs


# --------------------------------------------------------------------------------------------------------- main
def _pages(cfg):
    "Notebooks as nbdev's sidebar.yml lists them (chapter = file order, index first)."
    import io, yaml
    from contextlib import redirect_stdout
    from nbdev.quarto import nbdev_sidebar
    buf = io.StringIO()
    with redirect_stdout(buf): nbdev_sidebar.__wrapped__(path=cfg.nbs_path, printit=True, force=True)
    def flat(xs):
        for x in xs:
            if isinstance(x, dict): yield from flat(x.get('contents', []))
            else: yield x
    return [n for n in flat(yaml.safe_load(buf.getvalue())['website']['sidebar']['contents']) if n.endswith('.ipynb')]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('notebooks', nargs='*', help='only these notebooks (names in nbs/); default all')
    ap.add_argument('--check', action='store_true', help='screenshot and check every page in headless Chromium')
    ap.add_argument('--out', default=str(ROOT/'_docs_preview'), help='output folder (default _docs_preview/)')
    ap.add_argument('--cache',
                    help='folder for the processed notebooks, reused when nothing changed (default OUT/_proc)')
    ap.add_argument('--force', action='store_true', help='reprocess every notebook (ignore the cache)')
    ap.add_argument('--workers', type=int, default=min(4, os.cpu_count() or 1), help='notebooks processed at once')
    ap.add_argument('--timeout', type=int, default=600, help='seconds allowed to process one notebook')
    ap.add_argument('--process-one', nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.process_one: _process_one(*a.process_one); return 0
    t_start = time.time()
    chrome = find_chromium()
    if a.check and not chrome:
        print(f'docs_preview: --check needs Chromium, which is not installed. Install it with:\n  {APT_CHROMIUM}')
        return 2
    os.chdir(ROOT)
    from nbdev.config import get_config
    from nbdev.doclinks import _nbpath2html   # the page name nbdev gives a notebook (output-file)
    cfg = get_config()
    out = Path(a.out).resolve()
    site, shots = out/'site', out/'screenshots'
    if site.exists(): shutil.rmtree(site)
    shots.mkdir(parents=True, exist_ok=True)
    all_names = _pages(cfg)
    names = [n for n in all_names if n in {Path(o).name for o in a.notebooks}] if a.notebooks else all_names
    if not names: print('docs_preview: no notebooks to build'); return 1
    navbar, cfg_probs = check_config(cfg)

    print(f'== process ({len(names)} notebooks, {a.workers} at a time; nbdev executes exported and import cells)')
    t0 = time.time()
    proc_dir = Path(a.cache).resolve() if a.cache else out/'_proc'
    res = process([Path(cfg.nbs_path)/n for n in names], proc_dir, cfg, a.workers, a.force, a.timeout)
    t_proc = time.time() - t0
    pages = []
    for n in names:
        r, proc = res[n], proc_dir/n
        fm = {}
        if not r['error']:
            import yaml
            first = json.loads(proc.read_text())['cells'][0]
            if first['cell_type'] == 'raw': fm = yaml.safe_load(_src(first['source']).strip().strip('-')) or {}
        out_name = fm.get('output-file') or _nbpath2html(Path(n)).name
        pages.append({'nb': n, 'out': out_name, 'title': str(fm.get('title', Path(n).stem)),
                      'proc': str(proc) if not r['error'] else None, **r})
        print(f"  {'ok  ' if not r['error'] else 'FAIL'} {n} ({r['seconds']}s{', cached' if r.get('cached') else ''})")
    by_nb = {p['nb']: p['out'] for p in pages}
    for nv in navbar:  # navbar hrefs: a notebook becomes its page
        if _local(nv['href']) and Path(nv['href']).name in by_nb: nv['target'] = by_nb[Path(nv['href']).name]

    print('== render (nbconvert)')
    t0 = time.time()
    render(pages, site, cfg, navbar)
    t_render = time.time() - t0
    all_outs = {p['out'] for p in pages}

    t0 = time.time()
    if a.check:
        print('== check (headless chromium)')
        for p in pages:
            unbuilt = {x for n in set(all_names) - set(names) for x in (n, _nbpath2html(Path(n)).name)}
            if p.get('html'): check_page(p, site, shots, chrome, cfg, all_outs, unbuilt,
                                         {q['out'] for q in pages if not q.get('html')})
    t_check = time.time() - t0

    lines, bad = [], 0
    for p in pages:
        fails = list(dict.fromkeys(p.get('fail', [])))
        if p['error']: fails.insert(0, 'nbdev processing failed: ' + p['error'])
        if p.get('render_error'): fails.insert(0, 'render failed: ' + p['render_error'])
        p['ok'] = not fails
        bad += not p['ok']
        extra = f", {p['visible_chars']} chars, ink {p['ink']:.1%}" if 'ink' in p and 'visible_chars' in p else ''
        sd = (f", {len(p['show_docs'])} show_doc, {p['with_output']}/{p['code_cells']} code cells with output"
              if p.get('show_docs') is not None else '')
        lines.append(f"{'PASS' if p['ok'] else 'FAIL'} {p['nb']} -> {p['out']} (process {p['seconds']}s"
                     f"{', cached' if p.get('cached') else ''}{sd}{extra})")
        lines += [f'     x {f}'.replace('\n', '\n       ') for f in fails]
        lines += [f'     - note: {n}' for n in dict.fromkeys(p.get('notes', []))]
        lines += [f'     - nbdev warning: cell with imports and other code executed by the docs build: '
                  f'{w.split("---")[1].strip().splitlines()[0][:70] if "---" in w else w[:70]!r}'
                  for w in p['warnings']]
    for c in cfg_probs: lines.append(f'FAIL config: {c}')
    ok = bad == 0 and not cfg_probs
    summary = (f"{len(pages) - bad} pages passed, {bad} failed, {len(cfg_probs)} config problems; "
               f"process {t_proc:.0f}s, render {t_render:.0f}s, check {t_check:.0f}s, "
               f"total {time.time() - t_start:.0f}s"
               + ('' if a.check else ' (not checked: add --check)'))
    report = '\n'.join(lines + [summary, f'preview: {site/"index.html"}'])
    print('== report'); print(report)
    (out/'report.txt').write_text(report + '\n')
    (out/'report.json').write_text(json.dumps({'ok': ok, 'pages': pages, 'config': cfg_probs, 'summary': summary},
                                              indent=1, default=str))
    return 0 if ok else 1


if __name__ == '__main__': sys.exit(main())

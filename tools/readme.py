"""Regenerate README.md from nbs/index.ipynb without Quarto (nbdev_readme needs Quarto, which cannot be installed here).

Markdown cells are copied; code cells not marked `#| hide` are shown as Python blocks with their text outputs; links
and images that are relative to nbs/ are rewritten relative to the repository root. Run from anywhere:
    python tools/readme.py          # write README.md
    python tools/readme.py --check  # exit 1 if README.md is not up to date
"""
import json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def _relink(md: str) -> str:
    "Rewrite links/images relative to nbs/ (no scheme, no leading '/' or '#') to be relative to the repo root."
    return re.sub(r'(\]\()(?![a-z]+:|/|#)([^)\s]+)', lambda m: f'{m.group(1)}nbs/{m.group(2)}', md)

def _directives(src: str):
    return {l[3:].strip() for l in src.splitlines() if l.startswith('#|')}

def render(nb_path=root / 'nbs' / 'index.ipynb') -> str:
    nb = json.loads(Path(nb_path).read_text(encoding='utf-8'))
    parts = ['<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->']
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown': parts.append(_relink(src))
        elif c['cell_type'] == 'code' and 'hide' not in _directives(src) and src.strip():
            code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()
            if 'echo: false' not in _directives(src): parts.append(f'```python\n{code}\n```')
            for o in c.get('outputs', []):
                md = o.get('data', {}).get('text/markdown')
                text = o.get('text') or o.get('data', {}).get('text/plain')
                if md: parts.append(_relink(''.join(md).strip()))
                elif text: parts.append('```\n' + ''.join(text).rstrip() + '\n```')
    return '\n\n'.join(p.strip('\n') for p in parts) + '\n'

if __name__ == '__main__':
    text, readme = render(), root / 'README.md'
    if '--check' in sys.argv:
        ok = readme.exists() and readme.read_text(encoding='utf-8') == text
        print('README.md is up to date' if ok else 'README.md differs from nbs/index.ipynb: run python tools/readme.py')
        sys.exit(0 if ok else 1)
    readme.write_text(text, encoding='utf-8')

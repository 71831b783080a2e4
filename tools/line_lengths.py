"""Line lengths of the library (mi_nb/**/*.py but _modidx.py), of the scripts (tests/*.py, tools/*.py and *.sh,
experiments/*.py and *.sh) and of the notebooks' exported cells: per file, the lines, the mean length of the non-blank
ones, how many exceed the limit and the longest. The limit is 120 columns; the reports aim at about 100.

    python tools/line_lengths.py            # the table (exits 0)
    python tools/line_lengths.py --check    # exits 1 when a line is over the limit, and lists them

The table counts every line. The limit applies to every line but the two kinds nbdev writes itself, not from an
exported cell (`nbdev_header`): a module's docstring, which is its notebook's `> ` summary, and the first line of
`__all__`, which nbdev wraps at 120 columns before putting `__all__ = ` in front (the scripts have neither).
tests/test_structure.py holds the library, the scripts and the notebooks to it (`over_limit`).
"""
import argparse, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 120
NBDEV_WRAP = 120  # the width nbdev 2 wraps `__all__` at (ModuleMaker.make)
EXPORT = re.compile(r'^#\|\s*exports?\b', re.M)
SCRIPTS = ('tests/*.py', 'tools/*.py', 'tools/*.sh', 'experiments/*.py', 'experiments/*.sh')


def library_lines(path: Path) -> list:
    return path.read_text().splitlines()


def scripts(root: Path = ROOT) -> list:
    "The tests, tools and experiments (`SCRIPTS`): written by hand, every line of them is held to the limit."
    return [p for g in SCRIPTS for p in sorted(root.glob(g))]


def exported_lines(nb: Path) -> list:
    "The lines of a notebook's exported code cells (`#| export`, `#| exports`)."
    cells = json.loads(nb.read_text())['cells']
    srcs = [''.join(c['source']) for c in cells if c['cell_type'] == 'code']
    return [l for s in srcs if EXPORT.search(s) for l in s.splitlines()]


def nbdev_header(line: str, n: int) -> bool:
    "Whether line `n` (from 1) of a library module is one nbdev writes itself: the module docstring or `__all__ = [`."
    if n == 1 and line.startswith('"""') and line.endswith('"""'): return True
    return line.startswith('__all__ = [') and len(line) <= NBDEV_WRAP + len('__all__ = ')


def over_limit(root: Path = ROOT, limit: int = LIMIT) -> list:
    """'place: length' of each line over `limit` in the library, the scripts and the notebooks' exported cells, nbdev's
    headers aside."""
    out = [f'{p.relative_to(root)}:{n}: {len(l)}' for p in sorted((root / 'mi_nb').rglob('*.py'))
           if p.name != '_modidx.py' for n, l in enumerate(library_lines(p), 1)
           if len(l) > limit and not nbdev_header(l, n)]
    out += [f'{p.relative_to(root)}:{n}: {len(l)}' for p in scripts(root)
            for n, l in enumerate(library_lines(p), 1) if len(l) > limit]
    for nb in sorted((root / 'nbs').glob('*.ipynb')):
        out += [f'{nb.relative_to(root)}: exported line {n}: {len(l)}'
                for n, l in enumerate(exported_lines(nb), 1) if len(l) > limit]
    return out


def stats(lines: list, limit: int = LIMIT) -> dict:
    "Line count, mean length of the non-blank lines, lines over `limit`, the longest."
    full = [len(l) for l in lines if l.strip()]
    return dict(lines=len(lines), mean=round(sum(full) / len(full), 1) if full else 0.0,
                over=sum(n > limit for n in full), longest=max(full, default=0))


def table(root: Path = ROOT, limit: int = LIMIT) -> dict:
    "{'library': {file: stats}, 'scripts': {file: stats}, 'notebooks': {notebook: stats}} of the repository at `root`."
    lib = {str(p.relative_to(root)): stats(library_lines(p), limit)
           for p in sorted((root / 'mi_nb').rglob('*.py')) if p.name != '_modidx.py'}
    scr = {str(p.relative_to(root)): stats(library_lines(p), limit) for p in scripts(root)}
    nbs = {str(p.relative_to(root)): stats(exported_lines(p), limit) for p in sorted((root / 'nbs').glob('*.ipynb'))}
    return dict(library=lib, scripts=scr, notebooks={k: v for k, v in nbs.items() if v['lines']})


def total(rows: dict) -> dict:
    n, over = sum(r['lines'] for r in rows.values()), sum(r['over'] for r in rows.values())
    return dict(lines=n, over=over, share=round(100 * over / n, 1) if n else 0.0,
                longest=max((r['longest'] for r in rows.values()), default=0))


def show(t: dict, limit: int = LIMIT) -> str:
    out = []
    for part, rows in t.items():
        out.append(f'{part}: file, lines, mean length, lines over {limit}, longest')
        out += [f'  {f:<40} {r["lines"]:>5} {r["mean"]:>6} {r["over"]:>5} {r["longest"]:>5}'
                for f, r in rows.items()]
        s = total(rows)
        out.append(f'  {"all":<40} {s["lines"]:>5} {"":>6} {s["over"]:>5} {s["longest"]:>5}  ({s["share"]}% over)')
    return '\n'.join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--check', action='store_true', help='exit 1 when a line is over --limit')
    p.add_argument('--limit', type=int, default=LIMIT, help='columns (default: %(default)s)')
    p.add_argument('--json', action='store_true', help='print the table as JSON')
    a = p.parse_args(argv)
    t, over = table(ROOT, a.limit), over_limit(ROOT, a.limit)
    print(json.dumps(t, indent=1) if a.json else show(t, a.limit))
    if a.check: print('\n'.join(over) or f'no line over {a.limit} but nbdev\'s headers', file=sys.stderr)
    return int(a.check and bool(over))


if __name__ == '__main__':
    sys.exit(main())

"""The package's shape: one-way layers (the generic library never reaches into the lab), one writer of set folders,
small modules and functions, and chapters that show each exported function at work."""
import ast, json, re
from pathlib import Path
from conftest import ROOT

PKG = ROOT / 'mi_nb'
GENERIC = ('core', 'machine', 'locks', 'mi', 'set_format', 'build_set', 'adapter', 'losses', 'runs', 'finetune',
           'mitune', 'evaluate', 'show', 'selection', 'plan')  # the layers below the lab, in order
ABOVE = ('fixtures', 'bench', 'args', 'cli', '_modidx', '__init__')  # fixtures, benchmarks, the command line

def _imports(path: Path, package: str) -> list:
    "Every module `path` imports, anywhere in the file (top level or inside functions), relative imports resolved."
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import): out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')[:len(package.split('.')) - node.level + 1]
                out.append('.'.join(base + ([node.module] if node.module else [])))
            else: out.append(node.module or '')
            out += [f'{out[-1]}.{a.name}' for a in node.names]
    return out

def test_every_module_has_a_layer():
    top = {p.stem for p in PKG.glob('*.py')}
    assert top == set(GENERIC) | set(ABOVE), f'modules without a layer: {top - set(GENERIC) - set(ABOVE)}'

def test_generic_layers_never_import_the_lab():
    for i, name in enumerate(GENERIC):
        for imp in _imports(PKG / f'{name}.py', 'mi_nb'):
            assert not imp.startswith('mi_nb.lab'), f'mi_nb/{name}.py imports {imp}'
            assert not imp.startswith(('mi_nb.cli', 'mi_nb.args', 'mi_nb.fixtures')), f'mi_nb/{name}.py imports {imp}'
            later = [g for g in GENERIC[i + 1:] if imp == f'mi_nb.{g}' or imp.startswith(f'mi_nb.{g}.')]
            assert not later, f'mi_nb/{name}.py imports a higher layer: {imp}'

def test_only_the_labs_command_line_uses_the_command_line():
    """The lab's commands (lab/cli.py) build on the argument types; no other lab module does, and none imports
    `mi_nb.cli`."""
    for f in sorted((PKG / 'lab').glob('*.py')):
        for imp in _imports(f, 'mi_nb.lab'):
            assert not imp.startswith(('mi_nb.cli', 'mi_nb.fixtures')), f'mi_nb/lab/{f.name} imports {imp}'
            assert f.stem == 'cli' or not imp.startswith('mi_nb.args'), f'mi_nb/lab/{f.name} imports {imp}'

def test_the_import_walker_sees_imports_inside_functions(tmp_path):
    f = tmp_path / 'x.py'
    f.write_text('def f():\n    from mi_nb.lab.world import lab_prompts\n    from .lab import model\n'
                 '    import mi_nb.lab.oracle\n')
    assert {'mi_nb.lab.world', 'mi_nb.lab', 'mi_nb.lab.oracle'} <= set(_imports(f, 'mi_nb'))

SET_FORMAT = 'set_format.py'  # the one module that writes set folders (nbs/06a_set_format.ipynb)
WRITERS = {'atomic_write_bytes', 'atomic_write_text', 'atomic_write_json', 'save_tensors', 'save_file', 'write_text',
           'write_bytes', 'copy', 'copy2', 'copyfile', 'copytree', 'move', 'rename', 'symlink_to', 'hardlink_to',
           'link', 'save', 'save_pretrained', 'to_csv', 'to_json', 'to_parquet', 'dump'}

LAYOUT = ('records', 'images', 'candidates')  # the folders of a set; its files: metadata.jsonl, set.json
PATH_METHODS = ('with_suffix', 'with_name', 'with_stem', 'joinpath', 'resolve', 'absolute', 'expanduser')

def _path_like(node, tainted: set) -> bool:
    """Whether `node` evaluates to a piece of a set folder (or a collection of such paths): a path join with one of
    `LAYOUT`, a literal 'records/...', 'metadata.jsonl' or 'set.json', or a variable bound to one."""
    like = lambda n: _path_like(n, tainted)
    if isinstance(node, ast.Constant):
        v = node.value
        folders = tuple(f'{d}/' for d in LAYOUT)
        return isinstance(v, str) and (v in ('metadata.jsonl', 'set.json') or v.startswith(folders))
    if isinstance(node, ast.JoinedStr): return bool(node.values) and like(node.values[0])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        joined = isinstance(node.right, ast.Constant) and node.right.value in LAYOUT
        return joined or like(node.left) or like(node.right)
    if isinstance(node, ast.Name): return node.id in tainted
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)): return any(like(e) for e in node.elts)
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)): return like(node.elt)
    if isinstance(node, (ast.Starred, ast.Subscript)): return like(node.value)
    if isinstance(node, ast.IfExp): return like(node.body) or like(node.orelse)
    if isinstance(node, ast.Attribute): return node.attr == 'parent' and like(node.value)
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name) and f.id in ('zip', 'enumerate', 'sorted', 'list', 'tuple', 'reversed', 'Path'):
            return any(like(a) for a in node.args)
        return isinstance(f, ast.Attribute) and f.attr in PATH_METHODS and like(f.value)
    return False

def _targets(node) -> list:
    "Names bound by an assignment, a for loop, a comprehension or a with statement."
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        ts, value = (node.targets if isinstance(node, ast.Assign) else [node.target]), node.value
    elif isinstance(node, (ast.For, ast.comprehension)): ts, value = [node.target], node.iter
    elif isinstance(node, ast.withitem) and node.optional_vars is not None:
        ts, value = [node.optional_vars], node.context_expr
    elif isinstance(node, ast.NamedExpr): ts, value = [node.target], node.value
    else: return []
    return [(n.id, value) for t in ts for n in ast.walk(t) if isinstance(n, ast.Name)] if value is not None else []

def _scopes(tree) -> list:
    "The module and each function: the scopes whose bindings are followed (a function's with its inner ones')."
    return [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]

def _in_scope(scope) -> list:
    "The nodes of `scope`, not descending into functions defined in it when it is the module."
    if not isinstance(scope, ast.Module): return list(ast.walk(scope))
    out, todo = [], list(scope.body)
    while todo:
        n = todo.pop()
        out.append(n)
        if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            todo += list(ast.iter_child_nodes(n))
    return out

def _writes(call: ast.Call) -> bool:
    "Whether `call` writes a file: a writing function or method, or the built-in `open` in a writing mode."
    f = call.func
    if isinstance(f, ast.Name) and f.id == 'open':
        mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == 'mode'), None)
        return isinstance(mode, ast.Constant) and any(c in str(mode.value) for c in 'wax+')
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
    return name in WRITERS

def set_writers(source: str) -> list:
    """Line numbers of calls that write a piece of a set folder: a writing call whose arguments or receiver name a set
    path, directly or through a variable of the same function bound to one (assignments, loops, comprehensions)."""
    hits = set()
    for scope in _scopes(ast.parse(source)):
        nodes, tainted = _in_scope(scope), set()
        binds = [b for node in nodes for b in _targets(node)]
        while True:  # names bound to set paths, to a fixed point
            new = {n for n, v in binds if n not in tainted and _path_like(v, tainted)}
            if not new: break
            tainted |= new
        for node in nodes:
            if not (isinstance(node, ast.Call) and _writes(node)): continue
            f = node.func
            parts = list(node.args) + [k.value for k in node.keywords]
            if isinstance(f, ast.Attribute): parts.append(f.value)
            if any(_path_like(p, tainted) for p in parts): hits.add(node.lineno)
    return sorted(hits)

def test_the_set_writer_finder_sees_direct_and_indirect_writes():
    "The finder flags the lines marked W (direct, f-string, through variables and loops) and nothing else."
    code = """
def direct(out, t, r): save_tensors(t, out / 'records' / f"{r['key']}.safetensors")  # W
def fstring(out, key, b): atomic_write_bytes(out / f'images/{key}-0.png', b)  # W
def via_names(out):
    f = out / 'records' / 'x.json'
    g = f.with_suffix('.safetensors')
    g.write_bytes(b'')  # W
def via_loop(out, ims, key):
    files = [f'images/{key}-{j}.png' for j in range(2)]
    for f, im in zip(files, ims): atomic_write_bytes(out / f, im)  # W
def metadata(out): (out / 'metadata.jsonl').write_text('')  # W
def identity(out, info): atomic_write_json(Path(out, 'set.json'), info)  # W
def by_open(out):
    with open(out / 'metadata.jsonl', 'a') as fh: json.dump({}, fh)  # W
def reads(out): return (out / 'records' / 'x.json').read_text(), json.loads((out / 'set.json').read_text())
def by_open_read(out): return open(out / 'set.json').read()
def derived(out, d):
    kept = sum(len(json.loads(p.read_text())['kept']) for p in (d / 'records').glob('*.json'))
    atomic_write_json(out / 'results.json', dict(kept=kept, images=1))
def other_scope(out): f = out / 'report.json'; f.write_text('')
"""
    marked = [i for i, line in enumerate(code.splitlines(), 1) if line.endswith('# W')]
    assert set_writers(code) == marked, (set_writers(code), marked)

def test_one_module_writes_set_folders():
    "records/, images/, candidates/, metadata.jsonl and set.json are written by mi_nb/set_format.py alone."
    files = [p for p in PKG.rglob('*.py') if p.name not in (SET_FORMAT, '_modidx.py')]
    files += sorted((ROOT / 'tools').glob('*.py'))
    assert set_writers((PKG / SET_FORMAT).read_text()), 'the set format module writes nothing?'
    others = [f'{p.relative_to(ROOT)}:{n}' for p in files for n in set_writers(p.read_text())]
    assert not others, f'set folders written outside mi_nb/{SET_FORMAT}: {others}'

def test_top_level_api():
    """mi_nb/__init__.py: nbdev's version line first (put_version_in_init), then the public names, all in `__all__`,
    each the object its module defines, none from a module above the generic library."""
    import configparser, importlib, mi_nb
    cfg = configparser.ConfigParser(); cfg.read(ROOT / 'settings.ini')
    text = (PKG / '__init__.py').read_text()
    assert text.splitlines()[0] == f'__version__ = "{cfg["DEFAULT"]["version"]}"'
    assert set(mi_nb.__all__) == set(mi_nb._API) and set(mi_nb.__all__) <= set(dir(mi_nb))
    for name, module in mi_nb._API.items():
        # `import mi_nb` stays generic
        assert module in GENERIC, f'{name} comes from mi_nb.{module}, not a generic module'
        assert getattr(mi_nb, name) is getattr(importlib.import_module(f'mi_nb.{module}'), name)
        assert getattr(mi_nb, name).__name__ == name
    above = ('mi_nb.lab', 'mi_nb.cli', 'mi_nb.fixtures')
    assert not [i for i in _imports(PKG / '__init__.py', 'mi_nb') if i.startswith(above)]

LIGHT = """import sys
{code}
heavy = sorted(m for m in ('torch', 'diffusers', 'transformers', 'mi_nb.core') if m in sys.modules)
print(heavy or 'light')"""

def _fresh(code: str) -> str:
    import subprocess, sys
    p = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout.strip().splitlines()[-1]

def test_importing_the_package_is_light():
    "`import mi_nb` and `import mi_nb.lab.world` load no torch: the public names load when they are used."
    assert _fresh(LIGHT.format(code='import mi_nb')) == 'light'
    assert _fresh(LIGHT.format(code='import mi_nb.lab.world')) == 'light'
    assert _fresh(LIGHT.format(code='import mi_nb\nmi_nb.SynthSet')) != 'light'  # and the names do load

def test_public_names_do_not_depend_on_import_order():
    """`build_set`, `finetune` and `mitune` name both a module and the function it defines:
    `from mi_nb import build_set` gives the function even after the module was imported by its full name, which still
    gives the module."""
    code = ('import importlib, types\n'
            'from mi_nb.build_set import BuildConfig\n'
            'import mi_nb.finetune\n'
            'from mi_nb import build_set, finetune, mitune\n'
            'import mi_nb\n'
            'print(all(isinstance(f, types.FunctionType) for f in (build_set, finetune, mitune, mi_nb.mitune)),\n'
            '      isinstance(importlib.import_module("mi_nb.mitune"), types.ModuleType), BuildConfig.__module__)')
    assert _fresh(code) == 'True True mi_nb.build_set'

def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)): yield node.name, node.end_lineno - node.lineno + 1

def test_no_function_over_60_lines():
    long = [f'{p.relative_to(ROOT)}:{n} ({k} lines)' for p in PKG.rglob('*.py') if p.name != '_modidx.py'
            for n, k in _functions(p) if k > 60]
    assert not long, long

def _statements(node) -> int:
    "Statements in `node` (nested ones included, the node itself not): a size that packing lines cannot shrink."
    return sum(isinstance(n, ast.stmt) for n in ast.walk(node)) - (not isinstance(node, ast.Module))

MODULE_STATEMENTS, FUNCTION_STATEMENTS = 350, 40

def test_generic_modules_are_small():
    "Every generic module within a statement budget (finetune is spread over adapter, runs and finetune)."
    big = {n: k for n in GENERIC if (k := _statements(ast.parse((PKG / f'{n}.py').read_text()))) > MODULE_STATEMENTS}
    assert not big, f'modules over {MODULE_STATEMENTS} statements: {big}'

def test_no_function_over_40_statements():
    big = [f'{p.relative_to(ROOT)}:{n.name} ({k})' for p in PKG.rglob('*.py') if p.name != '_modidx.py'
           for n in ast.walk(ast.parse(p.read_text())) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
           and (k := _statements(n)) > FUNCTION_STATEMENTS]
    assert not big, big

def test_statement_counts_ignore_line_packing():
    packed = 'def f(x):\n    a = x; b = a + 1; return b\n'
    spread = 'def f(x):\n    a = x\n    b = a + 1\n    return b\n'
    assert _statements(ast.parse(packed).body[0]) == _statements(ast.parse(spread).body[0]) == 3

def _exercised(nbs: Path) -> tuple:
    """(exported public functions and classes shown in a code cell after their definition and before the next export
    cell, all of them, the missing)"""
    hit, tot, missing = 0, 0, []
    for nb in sorted(nbs.glob('*.ipynb')):
        cells = [(c['cell_type'], ''.join(c['source'])) for c in json.loads(nb.read_text())['cells']]
        for i, (kind, src) in enumerate(cells):
            if kind != 'code' or not re.search(r'^#\|\s*export', src, re.M): continue
            follow = []
            for k2, s2 in cells[i + 1:]:
                if k2 == 'code' and re.search(r'^#\|\s*export', s2, re.M): break
                if k2 == 'code': follow.append(s2)
            text = '\n'.join(follow)
            for node in ast.parse(src).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith('_'):
                    tot += 1
                    if re.search(rf'\b{re.escape(node.name)}\b', text): hit += 1
                    else: missing.append(f'{nb.name}:{node.name}')
    return hit, tot, missing

def test_most_exported_functions_are_shown_right_after_their_definition():
    hit, tot, missing = _exercised(ROOT / 'nbs')
    assert hit / tot >= 0.7, f'{hit}/{tot} = {hit / tot:.0%}; not shown: {missing}'

def _line_lengths():
    "tools/line_lengths.py, the one place that says what a line over the limit is."
    import importlib.util
    spec = importlib.util.spec_from_file_location('line_lengths', ROOT / 'tools' / 'line_lengths.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m

def test_lines_within_120_columns():
    """Every line of the library (mi_nb/**/*.py but _modidx.py), of the scripts (tests/, tools/ and experiments/: *.py
    and *.sh) and of the notebooks' exported cells within 120 columns, but the two nbdev writes itself into the library:
    a module's docstring (its notebook's `>` summary) and `__all__ = [`."""
    ll = _line_lengths()
    assert ll.LIMIT == 120
    over = ll.over_limit(ROOT)
    assert not over, f'{len(over)} lines over 120 columns (python tools/line_lengths.py --check): {over[:20]}'

def test_the_line_check_sees_long_lines(tmp_path):
    """The check flags a long library line, long script lines (nbdev's headers are no exception there) and a long
    exported line, and nothing in unexported cells or nbdev's headers."""
    long = 'x = ' + '1 + ' * 30 + '1'
    for d in ('mi_nb', 'nbs', 'tests', 'tools'): (tmp_path / d).mkdir()
    head = '"""' + 'a summary ' * 20 + '"""\n__all__ = [' + "'nn', " * 19 + ']\n'  # 206 and 126 columns
    (tmp_path / 'mi_nb' / 'm.py').write_text(head + long + '\n')
    (tmp_path / 'mi_nb' / '_modidx.py').write_text(long)
    (tmp_path / 'tests' / 't.py').write_text(head)
    (tmp_path / 'tools' / 't.sh').write_text('#!/usr/bin/env bash\n' + long + '\n')
    cells = [dict(cell_type='code', source=['#| export\n', 'y = 1\n', long]), dict(cell_type='code', source=[long])]
    (tmp_path / 'nbs' / 'n.ipynb').write_text(json.dumps(dict(cells=cells)))
    n = len(long)
    assert _line_lengths().over_limit(tmp_path) == [f'mi_nb/m.py:3: {n}', 'tests/t.py:1: 206', 'tests/t.py:2: 126',
                                                    f'tools/t.sh:2: {n}', f'nbs/n.ipynb: exported line 3: {n}']

def test_the_command_line_module_stays_small():
    "mi_nb/cli.py under 300 lines (a line count: the line check above keeps it from being met by packing lines)."
    n = len((PKG / 'cli.py').read_text().splitlines())
    assert n < 300, f'mi_nb/cli.py has {n} lines'

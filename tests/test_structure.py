"The package's shape: one-way layers (the generic library never reaches into the lab), small functions, and chapters that show each exported function at work."
import ast, json, re
from pathlib import Path
from conftest import ROOT

PKG = ROOT / 'mi_nb'
GENERIC = ('core', 'mi', 'build_set', 'adapter', 'runs', 'finetune', 'mitune', 'evaluate', 'selection')  # the layers below the lab, in order
ABOVE = ('fixtures', 'cli', '_modidx', '__init__')                               # test fixtures and the command line may use the lab

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
            assert not imp.startswith(('mi_nb.cli', 'mi_nb.fixtures')), f'mi_nb/{name}.py imports {imp}'
            later = [g for g in GENERIC[i + 1:] if imp == f'mi_nb.{g}' or imp.startswith(f'mi_nb.{g}.')]
            assert not later, f'mi_nb/{name}.py imports a higher layer: {imp}'

def test_the_import_walker_sees_imports_inside_functions(tmp_path):
    f = tmp_path / 'x.py'
    f.write_text('def f():\n    from mi_nb.lab.world import lab_prompts\n    from .lab import model\n    import mi_nb.lab.oracle\n')
    assert {'mi_nb.lab.world', 'mi_nb.lab', 'mi_nb.lab.oracle'} <= set(_imports(f, 'mi_nb'))

def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)): yield node.name, node.end_lineno - node.lineno + 1

def test_no_function_over_60_lines():
    long = [f'{p.relative_to(ROOT)}:{n} ({k} lines)' for p in PKG.rglob('*.py') if p.name != '_modidx.py' for n, k in _functions(p) if k > 60]
    assert not long, long

def test_finetune_is_spread_over_small_modules():
    for name in ('adapter', 'runs', 'finetune', 'mitune'):
        n = len((PKG / f'{name}.py').read_text().splitlines())
        assert n <= 370, f'mi_nb/{name}.py has {n} lines'

def _exercised(nbs: Path) -> tuple:
    "(exported public functions and classes shown in a code cell after their definition and before the next export cell, all of them, the missing)"
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

"The repository's promises: README's two commands are what CI runs, and CI catches drift between notebooks and library."
import re, shutil, subprocess
from pathlib import Path
import pytest
from conftest import run, ROOT

def quickstart_commands():
    text = (ROOT / 'README.md').read_text()
    qs = text[text.index('## Quick start'):]
    qs = qs[:qs.index('\n## ', 5)]
    return re.findall(r'```sh\n(.+?)\n```', qs)

def test_readme_has_two_quickstart_commands():
    cmds = quickstart_commands()
    assert len(cmds) == 2
    assert 'torch==2.13.0' in cmds[0] and 'mi-nb' in cmds[0]
    assert 'torch==2.13.0' in cmds[1] and 'tools/test.sh' in cmds[1]

def test_ci_runs_readme_test_command():
    ci = (ROOT / '.ci' / 'run').read_text().splitlines()
    assert quickstart_commands()[1] in ci

def test_readme_is_generated_from_index():
    run(['python', 'tools/readme.py', '--check'])

def test_library_does_not_import_nbdev():
    for f in (ROOT / 'mi_nb').rglob('*.py'):
        if f.name == '_modidx.py': continue
        assert not re.search(r'^\s*(import|from)\s+(nbdev|execnb)\b', f.read_text(), re.M), f

@pytest.fixture
def copy_of_repo(tmp_path):
    "A fresh git repository holding the tracked files of this one (with their current content)."
    dst = tmp_path / 'repo'
    files = subprocess.run(['git', 'ls-files', '-z'],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.split('\0')
    for f in filter(None, files):
        src = ROOT / f
        (dst / f).parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink(): (dst / f).symlink_to(src.readlink())
        elif src.exists(): shutil.copy2(src, dst / f)
    for cmd in (['git', 'init', '-q'], ['git', 'add', '-A'],
                ['git', '-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'x']):
        subprocess.run(cmd, cwd=dst, check=True)
    return dst

def test_drift_check_passes_on_clean_tree(copy_of_repo):
    run(['bash', 'tools/drift.sh'], cwd=copy_of_repo)

def test_drift_check_catches_edited_library(copy_of_repo):
    f = copy_of_repo / 'mi_nb' / 'lab' / 'world.py'
    lines = f.read_text().splitlines(keepends=True)
    i = next(k for k, l in enumerate(lines) if l.strip().startswith('if spec.category == \'counting\': return'))
    f.write_text(''.join(lines[:i] + lines[i + 1:]))
    subprocess.run(['git', '-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qam', 'edit lib'],
                   cwd=copy_of_repo, check=True)
    p = run(['bash', 'tools/drift.sh'], cwd=copy_of_repo, check=False)
    assert p.returncode != 0 and 'DRIFT' in p.stdout

def test_drift_check_catches_uncleaned_notebook(copy_of_repo):
    import json
    f = copy_of_repo / 'nbs' / '01_lab_world.ipynb'
    nb = json.loads(f.read_text())
    code = next(c for c in nb['cells'] if c['cell_type'] == 'code')
    code['execution_count'] = 7; code['metadata']['ExecuteTime'] = {'start': '2026-01-01'}
    f.write_text(json.dumps(nb, indent=1))
    subprocess.run(['git', '-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qam', 'dirty nb'],
                   cwd=copy_of_repo, check=True)
    p = run(['bash', 'tools/drift.sh'], cwd=copy_of_repo, check=False)
    assert p.returncode != 0 and 'DRIFT' in p.stdout

def test_gpu_compare_script_runs_and_continues(tmp_path):
    """tools/gpu_compare.sh at toy sizes (MICRO=1, the CPU): a call stopped by BUDGET exits 124 and the same call again
    finishes the tables."""
    import os, sys
    env = {**os.environ, 'MICRO': '1', 'SEEDS': '0', 'ARGS': '--quick --methods base truth', 'OMP_NUM_THREADS': '1',
           'OUT': str(tmp_path / 'out'), 'RUN': str(tmp_path / 'run'),
           'PATH': f'{Path(sys.executable).parent}:{os.environ["PATH"]}'}
    stopped = subprocess.run(['bash', 'tools/gpu_compare.sh'], cwd=ROOT, env={**env, 'BUDGET': '3'},
                             capture_output=True, text=True)
    assert stopped.returncode == 124 and 'stopped by BUDGET' in stopped.stdout, stopped.stdout + stopped.stderr
    assert not (tmp_path / 'out' / 'compare').exists()
    done = subprocess.run(['bash', 'tools/gpu_compare.sh'], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'seed 0: 2 evaluations done, finished' in done.stdout
    assert {'compare.json', 'table.md', 'table.png'} <= {p.name for p in (tmp_path / 'out' / 'compare').iterdir()}
    assert '| ground truth |' in (tmp_path / 'out' / 'compare' / 'table.md').read_text()

def test_continue_compare_ends_where_a_longer_run_ends(tmp_path):
    """tools/continue_compare.py, then a larger --finetune-steps: each method's run continues to where a run of that
    length from the start ends."""
    import json, sys
    import torch
    from mi_nb.core import load_tensors
    cmd = ['mi-nb', 'lab', 'compare', '--quick', '--seeds', '0', '--methods', 'base', 'truth', 'random',
           '--val-every', '2']
    run(cmd + ['--finetune-steps', '2', '--out', str(tmp_path / 'short')])
    p = run([sys.executable, 'tools/continue_compare.py', str(tmp_path / 'short'), str(tmp_path / 'cont'),
             '--seeds', '0'])
    assert 'seed 0:' in p.stdout and not (tmp_path / 'cont' / 'seed-0' / 'eval-truth.json').exists()
    assert (tmp_path / 'cont' / 'seed-0' / 'eval-base.json').exists()
    run(cmd + ['--finetune-steps', '4', '--out', str(tmp_path / 'cont')])
    run(cmd + ['--finetune-steps', '4', '--out', str(tmp_path / 'long')])
    for m in ('truth', 'random'):
        c, l, s = (tmp_path / d / 'seed-0' / 'adapters' / m for d in ('cont', 'long', 'short'))
        assert (json.loads((c / 'finetune.json').read_text())['steps'] == 4
                and json.loads((s / 'finetune.json').read_text())['steps'] == 2)
        assert (c / 'val_log.csv').read_text().splitlines()[0] == (l / 'val_log.csv').read_text().splitlines()[0]
        assert ([r.split(',')[:2] for r in (c / 'val_log.csv').read_text().splitlines()]
                == [r.split(',')[:2] for r in (l / 'val_log.csv').read_text().splitlines()])
        # continued, not retrained (same seconds)
        assert (c / 'train_log.csv').read_text().splitlines()[:3] == (s / 'train_log.csv').read_text().splitlines()[:3]
        A, B = ({**load_tensors(d / 'unet' / 'diffusion_pytorch_model.safetensors'),
                 **{f'te.{k}': v for k, v in load_tensors(d / 'text_encoder' / 'model.safetensors').items()}}
                for d in (c, l))
        assert set(A) == set(B) and all(torch.allclose(A[k], B[k], atol=1e-6) for k in A)
        ev = [json.loads((tmp_path / d / 'seed-0' / f'eval-{m}.json').read_text())['test']['summary']
              for d in ('cont', 'long')]
        assert ev[0] == ev[1], m
    p = subprocess.run([sys.executable, 'tools/continue_compare.py', str(tmp_path / 'short'), str(tmp_path / 'cont'),
                        '--seeds', '0'],
                       cwd=ROOT, capture_output=True, text=True)
    assert p.returncode != 0 and 'exists already' in p.stderr
    # tools/record_compare.sh with FROM does the same: continues FROM's seeds in RUN, then writes and copies the tables
    import os
    env = {**os.environ, 'SEEDS': '0', 'FROM': str(tmp_path / 'short'), 'RUN': str(tmp_path / 'cont2'),
           'RESULTS': str(tmp_path / 'res'), 'ARGS': ' '.join(cmd[3:4] + cmd[6:] + ['--finetune-steps', '4']),
           'PATH': f'{Path(sys.executable).parent}:{os.environ["PATH"]}'}
    p = subprocess.run(['bash', 'tools/record_compare.sh'], cwd=ROOT, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert '| ground truth |' in (tmp_path / 'res' / 'table.md').read_text()
    ev = [json.loads((tmp_path / d / 'seed-0' / 'eval-truth.json').read_text())['test']['summary']
          for d in ('cont2', 'long')]
    assert ev[0] == ev[1]

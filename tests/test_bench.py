"The benchmark harness from the command line (schema, not timing): `python -m mi_nb.bench` and the recording scripts."
import json, os, subprocess, sys
from pathlib import Path
from conftest import ROOT, run
from mi_nb.bench import check_result

def _env(**kw):
    return {**os.environ, 'PATH': f'{Path(sys.executable).parent}:{os.environ["PATH"]}', **kw}

def test_bench_command_writes_checked_records(tmp_path):
    p = run([sys.executable, '-m', 'mi_nb.bench', 'overhead', 'builder', '--micro', '--out', str(tmp_path),
             '--set', 'overhead.models=sd2-tiny', 'repeats=1'])
    assert 'overhead (' in p.stdout and 'builder (' in p.stdout
    for name in ('overhead', 'builder'):
        r = check_result(json.loads((tmp_path / f'{name}-cpu.json').read_text()))
        assert r['settings']['micro'] is True and r['settings']['repeats'] == 1
        assert r['env']['command'].startswith('python -m mi_nb.bench overhead builder')
    assert set(json.loads((tmp_path / 'builder-cpu.json').read_text())['summary']) >= {'slope', 'memory_ratio'}

def test_bench_command_refuses_a_bad_setting_in_one_line(tmp_path):
    p = run([sys.executable, '-m', 'mi_nb.bench', 'overhead', '--micro', '--out', str(tmp_path), '--set', 'speed=2'],
            check=False)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    assert 'the settings of fig_overhead are' in p.stderr and not list(tmp_path.iterdir())

def _script(name: str, out: Path, figures: str) -> list:
    "Run tools/`name` at toy size (MICRO=1) with `figures`; the checked records it wrote."
    p = subprocess.run(['bash', f'tools/{name}'], cwd=ROOT, capture_output=True, text=True,
                       env=_env(MICRO='1', OUT=str(out), FIGURES=figures, OMP_NUM_THREADS='1'))
    assert p.returncode == 0, p.stdout + p.stderr
    return sorted((str(f.relative_to(out)), check_result(json.loads(f.read_text()))['figure'])
                  for f in out.rglob('*.json'))

def test_record_and_gpu_scripts_at_toy_size(tmp_path):
    "tools/record_bench.sh and tools/gpu_bench.sh with MICRO=1 (on the CPU): each figure's record written and checked."
    assert [f for f, _ in _script('record_bench.sh', tmp_path / 'cpu', 'threads finetune command1-own')] == [
        'command1-own/threads-cpu.json', 'finetune-cpu.json', 'threads-cpu.json']
    own = json.loads((tmp_path / 'cpu' / 'command1-own' / 'threads-cpu.json').read_text())
    assert own['settings']['session'] == 'own' and own['title'].endswith('in a session of their own')
    assert [f for f, _ in _script('gpu_bench.sh', tmp_path / 'gpu', 'throughput picks compile')] == [
        'bench/compile-cpu.json', 'bench/picks-cpu.json', 'bench/throughput-cpu.json']

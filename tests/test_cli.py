"The `mi-nb` console script, run as a separate process the way users run it."
import json, math, shutil
import pytest
from conftest import run

def test_help_and_version():
    h = run(['mi-nb', '--help']).stdout
    assert 'evaluate' in h and 'lab' in h
    import mi_nb
    assert run(['mi-nb', '--version']).stdout.strip() == f'mi-nb {mi_nb.__version__}'
    lab_help = run(['mi-nb', 'lab', '--help']).stdout
    assert 'train' in lab_help and 'compare' in lab_help
    assert '--methods' in run(['mi-nb', 'lab', 'compare', '--help']).stdout

def test_evaluate_writes_metrics(tmp_path):
    out = tmp_path / 'eval'
    p = run(['mi-nb', 'evaluate', '--prompts', 'test', '--limit', '3', '--images-per-prompt', '2', '--out', str(out)])
    m = json.loads((out / 'metrics.json').read_text())
    assert m['summary']['overall']['images'] == 6 and m['settings']['n_prompts'] == 3
    for cat, v in m['summary'].items():
        assert 0 <= v['accuracy'] <= 1 and math.isfinite(v['clean'])
    assert (out / 'grid.png').stat().st_size > 0 and (out / 'records.csv').exists()
    assert 'overall' in p.stdout

def test_evaluate_same_seed_same_result(tmp_path):
    args = ['mi-nb', 'evaluate', '--prompts', 'test', '--limit', '2', '--images-per-prompt', '2', '--steps', '10']
    run(args + ['--out', str(tmp_path / 'a'), '--batch-size', '4'])
    run(args + ['--out', str(tmp_path / 'b'), '--batch-size', '1'])
    assert (tmp_path / 'a' / 'records.csv').read_text() == (tmp_path / 'b' / 'records.csv').read_text()

@pytest.mark.parametrize('content,msg', [(b'', 'no prompt'), (b'\n  \n', 'no prompt'),
                                         (b'a red circle\n\xff\xfe bad\n', 'not UTF-8')])
def test_evaluate_bad_prompt_file(tmp_path, content, msg):
    f = tmp_path / 'prompts.txt'; f.write_bytes(content)
    p = run(['mi-nb', 'evaluate', '--prompts', str(f), '--out', str(tmp_path / 'o')], check=False)
    assert p.returncode != 0 and msg in p.stderr and 'Traceback' not in p.stderr

def test_missing_model_is_a_clear_error(tmp_path):
    p = run(['mi-nb', 'evaluate', '--model', str(tmp_path / 'nope'), '--limit', '1', '--out', str(tmp_path / 'o')],
            check=False)
    assert p.returncode != 0 and 'no diffusers pipeline' in p.stderr

def test_progress_bars_in_a_log_are_written_once(tmp_path):
    "Captured (not a terminal), each progress bar is one line: its final state, not every redraw nor the end twice."
    p = run(['mi-nb', 'evaluate', '--prompts', 'test', '--limit', '3', '--images-per-prompt', '1', '--steps', '2',
             '--batch-size', '1', '--out', str(tmp_path / 'e')])
    bars = [l.split(' [')[0] for l in p.stderr.splitlines() if l.startswith('generate')]  # (a slow stage adds its state
    assert len(bars) == len(set(bars)) and bars[-1].endswith('3/3') and '\r' not in p.stderr, p.stderr  # once a minute)

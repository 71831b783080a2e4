"`mi-nb build-set` across processes: crash and resume, accelerate sharding, refusal, bad input, HF datasets."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import run, ROOT

SMALL = ['--candidates', '4', '--steps', '6', '--seed', '3']

def tree(d):
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(Path(d).rglob('*')) if p.is_file()}

@pytest.fixture(scope='module')
def model(tmp_path_factory):
    "A tiny random-weight lab pipeline saved to disk (fast, and the same code path as any diffusers folder)."
    d = tmp_path_factory.mktemp('model')
    run([sys.executable, '-c', 'import torch; torch.manual_seed(0)\nfrom mi_nb.lab.model import build_pipeline\n'
         f'build_pipeline().save_pretrained({str(d)!r})'])
    return d

@pytest.fixture(scope='module')
def reference(model, tmp_path_factory):
    out = tmp_path_factory.mktemp('ref') / 'set'
    run(['mi-nb', 'build-set', '--model', str(model), '--prompts', 'train', '--limit', '8', '--batch-size', '4',
         '--out', str(out)] + SMALL)
    return out

def test_embedded_lab_set_loads_with_datasets(tmp_path):
    out = tmp_path / 'set'
    run(['mi-nb', 'build-set', '--prompts', 'train', '--limit', '3', '--candidates', '8', '--keep', '1',
         '--out', str(out)])
    from datasets import load_dataset
    ds = load_dataset('imagefolder', data_dir=str(out), split='train')
    assert len(ds) == 3 and set(ds.column_names) >= {'image', 'prompt', 'mi', 'rank', 'seed'}
    r = json.loads(next((out / 'records').glob('*.json')).read_text())
    assert len(r['scores']) == 8 and len(r['seeds']) == 8 and len(r['kept']) == 1

def test_batch_size_changes_nothing_but_last_digits(model, reference, tmp_path):
    "Batch 1 vs 4: same picks, seeds, files; scores and latents equal to float precision; images within one grey level."
    import numpy as np, torch
    from PIL import Image
    from mi_nb.core import load_tensors
    out = tmp_path / 's'
    run(['mi-nb', 'build-set', '--model', str(model), '--prompts', 'train', '--limit', '8', '--batch-size', '1',
         '--out', str(out)] + SMALL)
    a, b = tree(out), tree(reference)
    ia, ib = json.loads(a['set.json']), json.loads(b['set.json'])
    # only the batch size differs
    assert a.keys() == b.keys() and (ia.pop('batch_size'), ib.pop('batch_size')) == (1, 4) and ia == ib
    for f in a:
        if f.endswith('.json') and f.startswith('records/'):
            ra, rb = json.loads(a[f]), json.loads(b[f])
            assert ra['kept'] == rb['kept'] and ra['seeds'] == rb['seeds'] and ra['files'] == rb['files']
            np.testing.assert_allclose(ra['scores'], rb['scores'], rtol=1e-4)
        elif f.endswith('.safetensors'):
            ta, tb = load_tensors(out / f), load_tensors(reference / f)
            for k in ta: torch.testing.assert_close(ta[k], tb[k], rtol=1e-4, atol=1e-4)
        elif f.endswith('.png'):
            d = np.abs(np.asarray(Image.open(out / f), dtype=int) - np.asarray(Image.open(reference / f), dtype=int))
            assert d.max() <= 1, (f, d.max())

def test_chunking_does_not_change_the_set(model, reference, tmp_path):
    "Same batch size, the work split into runs of 3 then 8 prompts (the rerun resumes): the same bytes."
    out = tmp_path / 's'
    base = ['mi-nb', 'build-set', '--model', str(model), '--prompts', 'train', '--batch-size', '4',
            '--out', str(out)] + SMALL
    run(base + ['--limit', '3']); run(base + ['--limit', '8'])
    assert tree(out) == tree(reference)

def test_sigkill_then_resume_is_byte_identical(model, reference, tmp_path):
    out = tmp_path / 's'
    cmd = ['mi-nb', 'build-set', '--model', str(model), '--prompts', 'train', '--limit', '8', '--batch-size', '4',
           '--out', str(out)] + SMALL
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env={**os.environ, 'OMP_NUM_THREADS': '1'})
    t0 = time.time()
    while time.time() - t0 < 120 and p.poll() is None and len(list((out / 'records').glob('*.json'))) < 2:
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL); p.wait()
    n = len(list((out / 'records').glob('*.json')))
    assert 0 < n < 8, f'the kill should land mid-run ({n} prompts done)'
    assert not (out / 'metadata.jsonl').exists()
    run(cmd)
    assert tree(out) == tree(reference)

def test_two_processes_equal_one(model, reference, tmp_path):
    out = tmp_path / 's'
    # --multi_gpu on a machine without GPUs: 2 CPU processes over gloo (accelerate 1.15's --cpu starts only one)
    p = run([sys.executable, '-m', 'accelerate.commands.launch', '--multi_gpu', '--num_processes', '2',
             '--num_machines', '1', '--mixed_precision', 'no', '--dynamo_backend', 'no',
             '-m', 'mi_nb.cli', 'build-set', '--model', str(model),
             '--prompts', 'train', '--limit', '8', '--batch-size', '4', '--out', str(out)] + SMALL, timeout=900)
    assert tree(out) == tree(reference)
    assert '8 prompts (4 new)' in p.stdout, p.stdout  # the main process made only its half: the work was sharded

def test_changed_arguments_are_refused(model, reference, tmp_path):
    import shutil
    out = tmp_path / 's'; shutil.copytree(reference, out)
    before = tree(out)
    p = run(['mi-nb', 'build-set', '--model', str(model), '--prompts', 'train', '--limit', '8', '--out', str(out),
             '--candidates', '5', '--steps', '6', '--seed', '3'], check=False)
    assert p.returncode != 0 and 'other settings' in p.stderr and 'candidates' in p.stderr
    assert tree(out) == before

@pytest.mark.parametrize('content,msg', [
    (b'', 'no prompt'), (b'\n \n\n', 'no prompt'), (b'a red circle\n\xff\xfe\n', 'line 2 is not UTF-8'),
    (b'a red circle\n' + b'a red circle to the left of a blue square and a green triangle above a yellow square\n',
     'exceed the tokenizer window')])
def test_bad_prompt_files(model, tmp_path, content, msg):
    f = tmp_path / 'p.txt'; f.write_bytes(content)
    p = run(['mi-nb', 'build-set', '--model', str(model), '--prompts', str(f), '--out', str(tmp_path / 's')] + SMALL,
            check=False)
    assert p.returncode != 0 and msg in p.stderr and 'Traceback' not in p.stderr, p.stderr
    assert not (tmp_path / 's' / 'records').exists()

def test_duplicates_are_refused(model, tmp_path):
    f = tmp_path / 'p.txt'; f.write_text('a red circle\ntwo blue squares\na red circle\n')
    p = run(['mi-nb', 'build-set', '--model', str(model), '--prompts', str(f), '--out', str(tmp_path / 's')] + SMALL,
            check=False)
    assert p.returncode == 1 and 'line 3 (same as line 1)' in p.stderr and 'Traceback' not in p.stderr, p.stderr
    assert not (tmp_path / 's').exists()

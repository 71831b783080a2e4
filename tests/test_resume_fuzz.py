"""Kill-and-resume fuzz: `build-set` killed (SIGKILL) at seeded moments and resumed gives the same bytes as an uninterrupted
run; `finetune` killed while a checkpoint is being written keeps the previous one loadable and resumes to the same
adapter. CI runs 5 kill moments; `MI_NB_FUZZ_KILLS=20 pytest tests/test_resume_fuzz.py` runs 20."""
import os, random, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import run, ROOT

KILLS = int(os.environ.get('MI_NB_FUZZ_KILLS', '5'))
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1'}
ARGS = ['--prompts', 'train', '--limit', '8', '--batch-size', '4', '--candidates', '4', '--steps', '6', '--seed', '3', '--guidance', '5']

def tree(d):
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(Path(d).rglob('*')) if p.is_file()}

@pytest.fixture(scope='module')
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp('model')
    run([sys.executable, '-c', f'from mi_nb.fixtures import tiny_sd_pipeline\ntiny_sd_pipeline().save_pretrained({str(d)!r})'])
    return d

@pytest.fixture(scope='module')
def reference(model, tmp_path_factory):
    out = tmp_path_factory.mktemp('ref') / 'set'
    run(['mi-nb', 'build-set', '--model', str(model), '--out', str(out), *ARGS])
    return out

def _records(out: Path) -> int:
    return len(list((out / 'records').glob('*.json'))) if (out / 'records').exists() else 0

def _kill_at(cmd, out: Path, records: int, delay: float, timeout: float = 180) -> bool:
    "Start `cmd`, SIGKILL it `delay` s after `out` holds `records` finished records; True if it was still running when killed."
    p = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while p.poll() is None and _records(out) < records and time.time() - t0 < timeout: time.sleep(0.01)
    time.sleep(delay)
    alive = p.poll() is None
    p.send_signal(signal.SIGKILL); p.wait()
    return alive

@pytest.mark.parametrize('moment', range(KILLS))
def test_build_set_killed_at_a_seeded_moment_resumes_byte_identical(model, reference, tmp_path, moment):
    rng = random.Random(f'build-set-kill-{moment}')
    out = tmp_path / 'set'
    cmd = ['mi-nb', 'build-set', '--model', str(model), '--out', str(out), *ARGS]
    killed = _kill_at(cmd, out, rng.randrange(0, 8), rng.uniform(0.0, 0.4))
    assert not (out / '.lock').exists() or killed  # a lock is left only by a killed process...
    run(cmd)                                       # ... and the rerun takes it over, resumes and finishes
    assert tree(out) == tree(reference)

def test_second_build_set_into_the_same_folder_is_refused(model, tmp_path):
    out = tmp_path / 'set'
    cmd = ['mi-nb', 'build-set', '--model', str(model), '--out', str(out), *ARGS, '--limit', '120', '--steps', '20']  # long enough to overlap
    p = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.time()
        while not (out / '.lock').exists() and time.time() - t0 < 120: time.sleep(0.01)
        second = run(cmd, check=False)
        assert second.returncode == 1 and 'being written by another build-set' in second.stderr, second.stderr[-1000:]
    finally:
        p.wait(timeout=300)
    assert p.returncode == 0 and _records(out) == 120

FT = ['--quiet', '--rank', '4', '--alpha', '8', '--lr', '1e-3', '--batch-size', '4', '--val-every', '0', '--max-steps', '30',
      '--ckpt-every', '1']

def test_finetune_killed_while_writing_a_checkpoint(model, reference, tmp_path):
    "SIGKILL as soon as a checkpoint is half-written: the previous checkpoint loads, and the resumed run ends where an uninterrupted one does."
    import torch
    from mi_nb.core import load_tensors
    cli = lambda out, *x: ['mi-nb', 'finetune', '--model', str(model), '--data', str(reference), '--out', str(out), *FT, *x]
    run(cli(tmp_path / 'a'))
    caught = 0
    for attempt in range(8):
        b = tmp_path / f'b{attempt}'
        p = subprocess.Popen(cli(b), cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while p.poll() is None and time.time() - t0 < 180:
            ck = b / 'checkpoints'
            if ck.exists() and any(e.name.startswith('.tmp-step-') for e in os.scandir(ck)) and len(list(ck.glob('step-*'))) >= 1:
                p.send_signal(signal.SIGKILL); break
        p.wait()
        if not (b / 'checkpoints').exists() or not list((b / 'checkpoints').glob('.tmp-step-*')): continue  # missed the window
        caught += 1
        done = sorted(d for d in (b / 'checkpoints').glob('step-*') if (d / 'state.json').exists())
        assert done, 'no complete checkpoint survived'
        for f in ('adapter.safetensors', 'optimizer.safetensors'): assert load_tensors(done[-1] / f)  # the previous one is loadable
        run(cli(b, '--resume'))
        A, B = load_tensors(tmp_path / 'a' / 'pytorch_lora_weights.safetensors'), load_tensors(b / 'pytorch_lora_weights.safetensors')
        assert set(A) == set(B) and all(torch.allclose(A[k], B[k], atol=1e-6) for k in A)
        assert not list((b / 'checkpoints').glob('.tmp-step-*'))  # the half-written one was cleaned up
        if caught >= 2: break
    assert caught >= 1, 'no kill landed while a checkpoint was being written'

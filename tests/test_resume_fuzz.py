"""Kill-and-resume fuzz: `build-set` killed (SIGKILL) at seeded moments and resumed gives the same bytes as an
uninterrupted run; `finetune` killed while a checkpoint is being written keeps the previous one loadable and resumes
to the same adapter; Ctrl-C (SIGINT) at seeded moments of either ends with exit status 130 and one line that says how
to continue, and continuing so gives the uninterrupted result. CI runs 5 kill and 3 Ctrl-C moments each;
`MI_NB_FUZZ_KILLS=20 pytest tests/test_resume_fuzz.py` runs 20 of each."""
import os, random, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import run, ROOT

KILLS = int(os.environ.get('MI_NB_FUZZ_KILLS', '5'))
CTRL_C = int(os.environ.get('MI_NB_FUZZ_KILLS', '3'))
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1'}
ARGS = ['--prompts', 'train', '--limit', '8', '--batch-size', '4', '--candidates', '4', '--steps', '6', '--seed', '3',
        '--guidance', '5']

def tree(d):
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(Path(d).rglob('*')) if p.is_file()}

@pytest.fixture(scope='module')
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp('model')
    run([sys.executable, '-c',
         f'from mi_nb.fixtures import tiny_sd_pipeline\ntiny_sd_pipeline().save_pretrained({str(d)!r})'])
    return d

@pytest.fixture(scope='module')
def reference(model, tmp_path_factory):
    out = tmp_path_factory.mktemp('ref') / 'set'
    run(['mi-nb', 'build-set', '--model', str(model), '--out', str(out), *ARGS])
    return out

def _records(out: Path) -> int:
    return len(list((out / 'records').glob('*.json'))) if (out / 'records').exists() else 0

def _kill_at(cmd, out: Path, records: int, delay: float, timeout: float = 180) -> bool:
    """Start `cmd`, SIGKILL it `delay` s after `out` holds `records` finished records; True if it was still running
    when killed."""
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
    cmd = ['mi-nb', 'build-set', '--model', str(model), '--out', str(out), *ARGS,
           '--limit', '120', '--steps', '20']  # long enough to overlap
    p = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.time()
        while not (out / '.lock').exists() and time.time() - t0 < 120: time.sleep(0.01)
        second = run(cmd, check=False)
        assert second.returncode == 1 and 'being written by another build-set' in second.stderr, second.stderr[-1000:]
    finally:
        p.wait(timeout=300)
    assert p.returncode == 0 and _records(out) == 120

FT = ['--quiet', '--rank', '4', '--alpha', '8', '--lr', '1e-3', '--batch-size', '4', '--val-every', '0',
      '--max-steps', '30', '--ckpt-every', '1']

def test_finetune_killed_while_writing_a_checkpoint(model, reference, tmp_path):
    """SIGKILL as soon as a checkpoint is half-written: the previous checkpoint loads, and the resumed run ends where
    an uninterrupted one does."""
    import torch
    from mi_nb.core import load_tensors
    cli = lambda out, *x: ['mi-nb', 'finetune', '--model', str(model), '--data', str(reference), '--out', str(out),
                           *FT, *x]
    run(cli(tmp_path / 'a'))
    caught = 0
    for attempt in range(8):
        b = tmp_path / f'b{attempt}'
        p = subprocess.Popen(cli(b), cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while p.poll() is None and time.time() - t0 < 180:
            ck = b / 'checkpoints'
            if (ck.exists() and any(e.name.startswith('.tmp-step-') for e in os.scandir(ck))
                    and len(list(ck.glob('step-*'))) >= 1):
                p.send_signal(signal.SIGKILL); break
        p.wait()
        if not (b / 'checkpoints').exists() or not list((b / 'checkpoints').glob('.tmp-step-*')):
            continue  # missed the window
        caught += 1
        done = sorted(d for d in (b / 'checkpoints').glob('step-*') if (d / 'state.json').exists())
        assert done, 'no complete checkpoint survived'
        # the previous one is loadable
        for f in ('adapter.safetensors', 'optimizer.safetensors'): assert load_tensors(done[-1] / f)
        run(cli(b, '--resume'))
        A, B = (load_tensors(tmp_path / 'a' / 'pytorch_lora_weights.safetensors'),
                load_tensors(b / 'pytorch_lora_weights.safetensors'))
        assert set(A) == set(B) and all(torch.allclose(A[k], B[k], atol=1e-6) for k in A)
        assert not list((b / 'checkpoints').glob('.tmp-step-*'))  # the half-written one was cleaned up
        if caught >= 2: break
    assert caught >= 1, 'no kill landed while a checkpoint was being written'

def _ctrl_c(cmd, started, delay: float, timeout: float = 180):
    """Start `cmd`, press Ctrl-C (SIGINT) `delay` s after `started()` holds; (exit status, stderr lines, whether it was
    running)."""
    p = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while p.poll() is None and not started() and time.time() - t0 < timeout: time.sleep(0.01)
    time.sleep(delay)
    alive = p.poll() is None
    p.send_signal(signal.SIGINT)
    err = p.communicate(timeout=120)[1]
    return p.returncode, [l for l in err.splitlines() if l.strip()], alive

def _one_line(rc, lines, alive, hint):
    "A Ctrl-C while the command ran: status 130, no traceback, the last line says how to continue (and no other error)."
    if not alive or rc == 0: return  # it had finished its work (the signal came as it exited): nothing was interrupted
    assert rc == 130, (rc, lines[-5:])
    assert not any('Traceback' in l for l in lines) and sum('mi-nb' in l and 'error' in l for l in lines) == 0, lines
    assert lines[-1].startswith('mi-nb ') and f'interrupted; {hint}' in lines[-1], lines[-3:]

@pytest.mark.parametrize('moment', range(CTRL_C))
def test_build_set_ctrl_c_says_how_to_continue_and_continues_identically(model, reference, tmp_path, moment):
    rng = random.Random(f'build-set-ctrl-c-{moment}')
    out, k = tmp_path / 'set', rng.randrange(0, 8)
    cmd = ['mi-nb', 'build-set', '--model', str(model), '--out', str(out), *ARGS]
    started = lambda: (out / '.lock').exists() and _records(out) >= k  # the set is being built
    _one_line(*_ctrl_c(cmd, started, rng.uniform(0.0, 0.4)), 'run the same command again')
    assert not (out / '.lock').exists()  # an interrupted build lets go of its folder
    run(cmd)
    assert tree(out) == tree(reference)

@pytest.fixture(scope='module')
def tuned(model, reference, tmp_path_factory):
    "The adapter of an uninterrupted fine-tuning run on the reference set."
    out = tmp_path_factory.mktemp('tuned') / 'a'
    run(['mi-nb', 'finetune', '--model', str(model), '--data', str(reference), '--out', str(out), *FT])
    return out

@pytest.mark.parametrize('moment', range(CTRL_C))
def test_finetune_ctrl_c_says_how_to_continue_and_resumes_identically(model, reference, tuned, tmp_path, moment):
    import torch
    from mi_nb.core import load_tensors
    rng = random.Random(f'finetune-ctrl-c-{moment}')
    out, k = tmp_path / 'b', rng.randrange(1, 16)  # of 30 updates
    cli = ['mi-nb', 'finetune', '--model', str(model), '--data', str(reference), '--out', str(out), *FT]
    started = lambda: len(list((out / 'checkpoints').glob('step-*'))) >= k if (out / 'checkpoints').exists() else False
    _one_line(*_ctrl_c(cli, started, rng.uniform(0.0, 0.5)),
              'continue from the last checkpoint: the same command and --resume')
    assert not (out / '.lock').exists()
    run(cli + ['--resume'])
    A, B = (load_tensors(tuned / 'pytorch_lora_weights.safetensors'),
            load_tensors(out / 'pytorch_lora_weights.safetensors'))
    assert set(A) == set(B) and all(torch.allclose(A[k], B[k], atol=1e-6) for k in A)

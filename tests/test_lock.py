"""A work folder shared by two machines (Google Drive after a Colab disconnect): a build killed mid-way whose lock is
rewritten as another host's, silent for longer than the stale time, is taken over and resumed to the same files as an
uninterrupted build; a lock whose holder on another host keeps its heartbeat fresh still refuses."""
import os, signal, subprocess, sys, threading, time
from pathlib import Path
import pytest
from conftest import run, ROOT

ARGS = ['--prompts', 'train', '--limit', '6', '--batch-size', '4', '--candidates', '4', '--steps', '6', '--seed', '3']
STALE = {'MI_NB_LOCK_STALE_S': '3', 'MI_NB_LOCK_HEARTBEAT_S': '0.2'}  # seconds instead of minutes

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

def _killed_build(model, out: Path) -> None:
    "Start a build and SIGKILL it once two prompts are done (its lock stays behind)."
    cmd = ['mi-nb', 'build-set', '--model', str(model), '--out', str(out), *ARGS]
    p = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1', **STALE},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while p.poll() is None and len(list((out / 'records').glob('*.json'))) < 2 and time.time() - t0 < 180:
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL); p.wait()
    assert (out / '.lock').exists() and 0 < len(list((out / 'records').glob('*.json'))) < 6

def _as_other_host(lock: Path, age: float) -> None:
    "Rewrite `lock` as a lock of another machine whose last heartbeat was `age` seconds ago."
    lock.write_text('colab-vm-that-died 4242 deadbeef')
    t = time.time() - age; os.utime(lock, (t, t))

def test_stale_lock_of_another_host_is_taken_over_and_the_build_resumes_identical(model, reference, tmp_path):
    out = tmp_path / 'set'
    _killed_build(model, out)
    _as_other_host(out / '.lock', age=60)   # silent for 60 s, more than the 3 s stale time
    p = run(['mi-nb', 'build-set', '--model', str(model), '--out', str(out), *ARGS], env=STALE)
    assert 'took over' in p.stderr and 'colab-vm-that-died' in p.stderr
    assert not (out / '.lock').exists()
    assert tree(out) == tree(reference)

def test_live_lock_of_another_host_still_refuses(model, tmp_path):
    out = tmp_path / 'set'
    _killed_build(model, out)
    lock, stop = out / '.lock', threading.Event()
    _as_other_host(lock, age=0)
    def beat():  # the other machine is alive: it refreshes its lock's time
        while not stop.wait(0.2): os.utime(lock)
    th = threading.Thread(target=beat, daemon=True); th.start()
    try:
        time.sleep(4)   # longer than the stale time: only the heartbeat keeps the lock alive
        p = run(['mi-nb', 'build-set', '--model', str(model), '--out', str(out), *ARGS], env=STALE, check=False)
        assert p.returncode == 1 and 'being written by another build-set' in p.stderr, p.stderr[-800:]
        assert 'colab-vm-that-died' in p.stderr and 'heartbeat' in p.stderr
        assert lock.read_text() == 'colab-vm-that-died 4242 deadbeef'  # untouched
    finally:
        stop.set(); th.join()

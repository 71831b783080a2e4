"""Fine-tuning across processes: diffusers-format round trip, SIGKILL + resume, `accelerate launch` with 2 processes,
NaN stop."""
import json, os, signal, subprocess, sys, time
import pytest
import torch
from conftest import run, ROOT

ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1'}
FAST = ['--quiet', '--rank', '4', '--alpha', '8', '--lr', '1e-3', '--batch-size', '8', '--val-every', '0']

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "A random lab pipeline saved to disk, and a small set made from it: (model folder, set folder)."
    torch.set_num_threads(1)
    from mi_nb.fixtures import tiny_sd_pipeline
    from mi_nb.lab.world import lab_prompts
    from mi_nb.build_set import build_set, BuildConfig
    d = tmp_path_factory.mktemp('lab')
    pipe = tiny_sd_pipeline()
    pipe.save_pretrained(str(d / 'model'))
    build_set(pipe, lab_prompts('train')[::30], d / 'set',
              BuildConfig(candidates=2, keep=2, num_inference_steps=4, guidance_scale=5.0),
              4, model_id='tiny', progress=False)
    return d / 'model', d / 'set'

def _unet_out(unet):
    g = torch.Generator().manual_seed(0)
    x, e = torch.randn(3, 4, 8, 8, generator=g), torch.randn(3, 16, 64, generator=g)
    with torch.no_grad(): return unet(x, torch.tensor([5, 400, 900]), e).sample

def test_lora_dora_round_trip(lab, tmp_path):
    """The saved adapter loads into a fresh stock pipeline with load_lora_weights and gives the in-memory model's
    outputs."""
    from mi_nb.lab.model import load_pipeline
    from mi_nb.finetune import finetune, FinetuneConfig
    from mi_nb.lab.model import LAB_FINETUNE
    from mi_nb.core import load_tensors
    model, data = lab
    base = _unet_out(load_pipeline(model).unet)
    outs = {}
    for kind in ('lora', 'dora'):
        pipe = load_pipeline(model)
        cfg = FinetuneConfig(**{**LAB_FINETUNE, **dict(adapter=kind, rank=4, alpha=8, lr=1e-3, batch_size=8,
                                                       max_steps=6, ckpt_every=3, val_every=0)})
        finetune(pipe, data, tmp_path / kind, cfg, progress=False)
        mine = _unet_out(pipe.unet)
        fresh = load_pipeline(model); fresh.load_lora_weights(str(tmp_path / kind))
        torch.testing.assert_close(_unet_out(fresh.unet), mine, rtol=0, atol=1e-6)
        assert (mine - base).abs().max() > 1e-4, 'training did not change the model'
        keys = list(load_tensors(tmp_path / kind / 'pytorch_lora_weights.safetensors'))
        assert any(k.endswith('lora_magnitude_vector') for k in keys) == (kind == 'dora')
        assert all(k.startswith('unet.') for k in keys)
        outs[kind] = mine
    assert (outs['lora'] - outs['dora']).abs().max() > 1e-4

def _cli(model, data, out, *extra):
    return [sys.executable, '-m', 'mi_nb.cli', 'finetune', '--model', str(model), '--data', str(data),
            '--out', str(out), *FAST, *extra]

def test_sigkill_then_resume_matches_uninterrupted(lab, tmp_path):
    from mi_nb.core import load_tensors
    model, data = lab
    args = ['--max-steps', '40', '--ckpt-every', '5']
    run(_cli(model, data, tmp_path / 'a', *args))
    b = tmp_path / 'b'
    proc = subprocess.Popen(_cli(model, data, b, *args), cwd=ROOT, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not (b / 'checkpoints' / 'step-000005' / 'state.json').exists():
        assert proc.poll() is None and time.time() - t0 < 120, 'no checkpoint appeared'
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL); proc.wait()
    assert not (b / 'finetune.json').exists(), 'the run finished before it could be killed'
    run(_cli(model, data, b, *args, '--resume'))
    for f in ('pytorch_lora_weights.safetensors', 'checkpoints/step-000040/adapter.safetensors',
              'checkpoints/step-000040/optimizer.safetensors'):
        A, B = load_tensors(tmp_path / 'a' / f), load_tensors(b / f)
        assert set(A) == set(B)
        for k in A: torch.testing.assert_close(A[k], B[k], rtol=0, atol=1e-6)
    la = [l.split(',')[1] for l in (tmp_path / 'a' / 'train_log.csv').read_text().splitlines()]
    lb = [l.split(',')[1] for l in (b / 'train_log.csv').read_text().splitlines()]
    assert la == lb and len(la) == 41

def test_accelerate_launch_two_processes(lab, tmp_path):
    model, data = lab
    out = tmp_path / 'ddp'
    # on a CPU-only machine --multi_gpu runs torchrun and finetune asks accelerate for gloo CPU data parallelism
    # (`--cpu --num_processes 2` starts one process in accelerate 1.15 unless MPI is set up)
    cmd = [sys.executable, '-m', 'accelerate.commands.launch', '--multi_gpu', '--num_processes', '2',
           '--num_machines', '1', '--mixed_precision', 'no', '--dynamo_backend', 'no',
           '-m', 'mi_nb.cli', 'finetune', '--model', str(model), '--data', str(data),
           '--out', str(out), *FAST, '--max-steps', '4', '--ckpt-every', '2']
    run(cmd, timeout=300)
    res = json.loads((out / 'finetune.json').read_text())
    assert res['processes'] == 2 and res['steps'] == 4
    assert (out / 'pytorch_lora_weights.safetensors').stat().st_size > 0 and (out / 'README.md').exists()
    assert len((out / 'train_log.csv').read_text().splitlines()) == 5  # one writer: the main process

def test_full_finetune_two_processes_then_evaluate(lab, tmp_path):
    """`--adapter full --train-text-encoder` under `accelerate launch` (2 processes): every UNet and text-encoder
    weight trained, saved to OUT/unet and OUT/text_encoder, loaded by `evaluate --adapter`."""
    from mi_nb.core import load_pipeline, load_tensors
    model, data = lab
    out = tmp_path / 'full'
    cmd = [sys.executable, '-m', 'accelerate.commands.launch', '--multi_gpu', '--num_processes', '2',
           '--num_machines', '1', '--mixed_precision', 'no', '--dynamo_backend', 'no',
           '-m', 'mi_nb.cli', 'finetune', '--model', str(model), '--data', str(data),
           '--out', str(out), '--quiet', '--adapter', 'full', '--lr', '1e-4', '--batch-size', '8',
           '--val-every', '0', '--max-steps', '4', '--ckpt-every', '2',
           '--train-text-encoder', '--text-encoder-lr', '1e-3', '--uncond-prob', '0.2']
    p = run(cmd, timeout=300)
    assert 'weights:' in p.stdout and 'load_tuned' in p.stdout and 'text_encoder' in p.stdout, p.stdout
    res = json.loads((out / 'finetune.json').read_text())
    assert (res['processes'] == 2 and res['config']['adapter'] == 'full'
            and not (out / 'pytorch_lora_weights.safetensors').exists())
    base, tuned = load_pipeline(model).unet, load_pipeline(model, adapter=out).unet
    saved = load_tensors(out / 'unet' / 'diffusion_pytorch_model.safetensors')
    assert set(saved) == set(tuned.state_dict()) and (_unet_out(tuned) - _unet_out(base)).abs().max() > 1e-5
    te = [(pl := load_pipeline(model, adapter=a)).encode_prompt(['a red circle'], pl.device, 1, False)[0]
          for a in (None, out)]
    assert (out / 'text_encoder' / 'model.safetensors').exists() and (te[1] - te[0]).abs().max() > 1e-5
    ev = tmp_path / 'ev'
    run([sys.executable, '-m', 'mi_nb.cli', 'evaluate', '--model', str(model), '--adapter', str(out),
         '--limit', '2', '--images-per-prompt', '1', '--steps', '2', '--out', str(ev)])
    assert json.loads((ev / 'metrics.json').read_text())['settings']['adapter'] == str(out)

def test_non_finite_set_is_refused_before_training(lab, tmp_path):
    "A record with NaN latents: a one-line error naming it, exit 1, and nothing written."
    import shutil
    from mi_nb.core import load_tensors, save_tensors
    model, data = lab
    bad = tmp_path / 'set'; shutil.copytree(data, bad)
    victim = sorted((bad / 'records').glob('*.safetensors'))[2]
    t = load_tensors(victim); t['latents'][0, 0, 0, 0] = float('nan'); save_tensors(t, victim)
    out = tmp_path / 'out'
    p = run(_cli(model, bad, out, '--batch-size', '1', '--max-steps', '40', '--ckpt-every', '1'), check=False)
    assert (p.returncode == 1 and 'not finite' in p.stderr and victim.name in p.stderr
            and 'Traceback' not in p.stderr), p.stderr
    assert not out.exists()

def test_help_and_errors(tmp_path):
    h = run([sys.executable, '-m', 'mi_nb.cli', 'finetune', '--help']).stdout
    for opt in ('--data', '--out', '--model', '--adapter', '--rank', '--alpha', '--lr', '--max-steps', '--batch-size',
                '--grad-accum', '--ckpt-every', '--val-every', '--seed', '--resume', '--mixed-precision'):
        assert opt in h, opt
    p = run([sys.executable, '-m', 'mi_nb.cli', 'finetune', '--model', str(tmp_path / 'nope'),
             '--data', str(tmp_path), '--out', str(tmp_path / 'o')], check=False)
    assert p.returncode != 0 and 'no diffusers pipeline' in p.stderr and 'Traceback' not in p.stderr

@pytest.mark.skipif(not (ROOT / 'mi_nb' / 'lab' / 'weights' / 'model_index.json').exists(),
                    reason='lab weights not shipped yet')
def test_default_model_is_the_lab_model(lab, tmp_path):
    _, data = lab
    run([sys.executable, '-m', 'mi_nb.cli', 'finetune', '--data', str(data), '--out', str(tmp_path / 'o'), *FAST,
         '--max-steps', '2', '--ckpt-every', '1'])
    res = json.loads((tmp_path / 'o' / 'finetune.json').read_text())
    # the lab preset (the reference accumulates 50)
    assert res['base_model'] == 'mi_nb lab model (embedded)' and res['config']['grad_accum'] == 1

def test_rounds_cli_builds_with_the_previous_adapter_and_resumes(lab, tmp_path):
    """`--rounds 2`: round 2's set comes from the round-1 model; a run killed in round 2 resumes to the same final
    adapter."""
    from mi_nb.build_set import build_set, BuildConfig, records
    from mi_nb.lab.model import load_pipeline
    from mi_nb.lab.world import lab_prompts
    from mi_nb.core import load_tensors
    model, _ = lab
    first = tmp_path / 'set-1'
    build_set(load_pipeline(model), lab_prompts('train')[::60], first,
              BuildConfig(candidates=2, keep=1, num_inference_steps=4, guidance_scale=5.0, seed=0), 4,
              model_id='tiny', progress=False)
    args = ['--rounds', '2', '--max-steps', '4', '--ckpt-every', '2']
    p = run(_cli(model, first, tmp_path / 'a', *args))
    assert 'round 1: selected update' in p.stdout and 'round 2:' in p.stdout
    a = tmp_path / 'a'
    r1, r2 = records(first), records(a / 'round-2' / 'set')
    assert ([r['prompt'] for r in r1] == [r['prompt'] for r in r2]
            and [r['seeds'] for r in r1] != [r['seeds'] for r in r2])
    info = json.loads((a / 'mitune.json').read_text())
    assert info['rounds'] == 2 and [r['round'] for r in info['results']] == [1, 2]
    # an interrupted copy: round 1 finished, round 2's set half built and its training not started
    import shutil
    b = tmp_path / 'b'
    shutil.copytree(a / 'round-1', b / 'round-1')
    shutil.copytree(a / 'round-2' / 'set', b / 'round-2' / 'set')
    for f in sorted((b / 'round-2' / 'set' / 'records').glob('*.json'))[1:]: f.unlink()
    (b / 'round-2' / 'set' / 'metadata.jsonl').unlink()
    run(_cli(model, first, b, *args))
    A, B = load_tensors(a / 'pytorch_lora_weights.safetensors'), load_tensors(b / 'pytorch_lora_weights.safetensors')
    assert set(A) == set(B) and all(torch.allclose(A[k], B[k], atol=1e-6) for k in A)
    pipe = load_pipeline(model); base = _unet_out(pipe.unet)
    pipe.load_lora_weights(str(a))
    assert (_unet_out(pipe.unet) - base).abs().max() > 1e-5

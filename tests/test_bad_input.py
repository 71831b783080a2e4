"""Bad input gets a clear error and loses nothing: every case runs `mi-nb` as a user would and checks the exit status, a
one-line message naming the bad value, no traceback, and that no file was written or changed."""
import json, shutil, socket, sys
from pathlib import Path
import pytest
from conftest import run

SET_ARGS = ['--candidates', '2', '--steps', '3', '--batch-size', '2', '--guidance', '5']  # how the shared set is built

@pytest.fixture(scope='module')
def world(tmp_path_factory):
    "Shared, read-only inputs: a tiny SD folder, a tiny SDXL folder, an unsupported (Flux) folder's index, a small set, prompt files."
    d = tmp_path_factory.mktemp('world')
    code = (f'from mi_nb.fixtures import tiny_sd_pipeline, tiny_sdxl_pipeline\n'
            f'tiny_sd_pipeline().save_pretrained({str(d / "sd")!r}); tiny_sdxl_pipeline().save_pretrained({str(d / "sdxl")!r})')
    run([sys.executable, '-c', code])
    (d / 'ok.txt').write_text('a red circle\ntwo blue squares\n')
    run(['mi-nb', 'build-set', '--model', str(d / 'sd'), '--prompts', str(d / 'ok.txt'), '--out', str(d / 'set'), *SET_ARGS])
    (d / 'flux').mkdir(); (d / 'flux' / 'model_index.json').write_text(json.dumps({'_class_name': 'FluxPipeline'}))
    files = {'empty': b'', 'blank': b'\n  \n\t\n', 'dup': b'a red circle\ntwo blue squares\na red circle\n',
             'long': b'a red circle to the left of a blue square and a green triangle above a yellow square\n',
             'latin1': b'a red circle\n\xe9t\xe9\n', 'slash': b'a red circle\na red/circle\n', 'dotdot': b'../../etc/passwd\n',
             'nul': b'a red circle\na red\x00circle\n', 'nonlab': b'a photo of a cat\n'}
    for k, v in files.items(): (d / f'{k}.txt').write_bytes(v)
    (d / 'a-file').write_text('not a folder')
    return d

def _tree(d: Path) -> dict:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob('*')) if p.is_file()}

def _prepare(kind: str, world: Path, tmp: Path) -> None:
    "Per-case inputs that are damaged or occupied on purpose."
    if kind in ('truncated', 'nan', 'badjson', 'otherargs', 'otherbatch', 'locked-set'): shutil.copytree(world / 'set', tmp / 'set')
    if kind == 'truncated':
        f = sorted((tmp / 'set' / 'records').glob('*.safetensors'))[0]; f.write_bytes(f.read_bytes()[:200])
    if kind == 'nan':
        code = (f'from mi_nb.core import load_tensors, save_tensors\nf = sorted(__import__("pathlib").Path({str(tmp / "set" / "records")!r}).glob("*.safetensors"))[0]\n'
                f't = load_tensors(f); t["latents"][0, 0, 0, 0] = float("nan"); save_tensors(t, f)')
        run([sys.executable, '-c', code])
    if kind == 'badjson': (tmp / 'set' / 'set.json').write_text('{"format": ')
    if kind == 'locked-set': (tmp / 'set' / '.lock').write_text('another-host 123')
    if kind == 'locked-run': (tmp / 'run').mkdir(); (tmp / 'run' / '.lock').write_text('another-host 123')

W, T = '{world}', '{tmp}'
BUILD = ['build-set', '--out', f'{T}/out']
SD = ['--model', f'{W}/sd']
FT = ['finetune', '--data', f'{W}/set', '--out', f'{T}/run', '--quiet']
CASES = [  # (id, preparation, argv, what the message must contain)
    ('M=0', None, BUILD + ['--candidates', '0'], 'argument --candidates: must be at least 1, not 0'),
    ('M<0', None, BUILD + ['--candidates', '-2'], 'argument --candidates: must be at least 1, not -2'),
    ('guidance=0', None, BUILD + ['--guidance', '0'], 'argument --guidance: must be more than 1.0'),
    ('guidance=1 with MI', None, BUILD + ['--guidance', '1'], 'argument --guidance: must be more than 1.0 (MI is read from classifier-free guidance), not 1'),
    ('steps=0', None, BUILD + ['--steps', '0'], 'argument --steps: must be at least 1, not 0'),
    ('steps<0', None, BUILD + ['--steps', '-3'], 'argument --steps: must be at least 1, not -3'),
    ('keep=0', None, BUILD + ['--keep', '0'], 'argument --keep: must be at least 1, not 0'),
    ('keep<0', None, BUILD + ['--keep', '-1'], 'argument --keep: must be at least 1, not -1'),
    ('k>M', None, BUILD + ['--keep', '5', '--candidates', '3'], 'keep (k = 5) is more than candidates (M = 3)'),
    ('limit<0', None, BUILD + ['--limit', '-1'], 'argument --limit: must be at least 1, not -1'),
    ('batch=0', None, BUILD + ['--batch-size', '0'], 'argument --batch-size: must be at least 1, not 0'),
    ('steps not a number', None, BUILD + ['--steps', 'ten'], "argument --steps: 'ten' is not an integer"),
    ('empty prompts', None, BUILD + ['--prompts', f'{W}/empty.txt'], 'no prompt in the file'),
    ('blank prompts', None, BUILD + ['--prompts', f'{W}/blank.txt'], 'no prompt in the file'),
    ('duplicate prompt', None, BUILD + ['--prompts', f'{W}/dup.txt'], 'line 3 (same as line 1)'),
    ('over-long prompt', None, BUILD + SD + ['--prompts', f'{W}/long.txt'], 'exceed the tokenizer window'),
    ('undecodable prompts', None, BUILD + ['--prompts', f'{W}/latin1.txt'], 'line 2 is not UTF-8'),
    ('prompt with /', None, BUILD + ['--prompts', f'{W}/slash.txt'], "'a red/circle', is not a lab prompt"),
    ('prompt with ..', None, BUILD + ['--prompts', f'{W}/dotdot.txt'], "'../../etc/passwd', is not a lab prompt"),
    ('prompt with NUL', None, BUILD + ['--prompts', f'{W}/nul.txt'], 'line 2 contains the control character'),
    ('no prompt file', None, BUILD + ['--prompts', f'{W}/nope.txt'], "'{world}/nope.txt' is neither a lab split"),
    ('prompts needed', None, BUILD + SD, '--prompts is required with --model'),
    ('missing model', None, BUILD + ['--model', f'{T}/nope'], 'no diffusers pipeline at {tmp}/nope'),
    ('wrong family', None, BUILD + ['--model', f'{W}/flux'], 'holds a FluxPipeline; build-set supports'),
    ('out is a file', None, ['build-set', '--out', f'{W}/a-file'], '--out {world}/a-file is a file'),
    ('set with other args', 'otherargs', ['build-set', '--out', f'{T}/set', *SD, '--prompts', f'{W}/ok.txt', *SET_ARGS, '--candidates', '3'],
     'holds a set made with other settings (candidates: 2 -> 3)'),
    ('set with other batch size', 'otherbatch', ['build-set', '--out', f'{T}/set', *SD, '--prompts', f'{W}/ok.txt', *SET_ARGS, '--batch-size', '4'],
     'holds a set made with other settings (batch_size: 2 -> 4)'),
    ('damaged set.json', 'badjson', ['build-set', '--out', f'{T}/set', *SD, '--prompts', f'{W}/ok.txt'], 'set.json is not valid JSON'),
    ('set being written', 'locked-set', ['build-set', '--out', f'{T}/set', *SD, '--prompts', f'{W}/ok.txt', *SET_ARGS],
     'being written by another build-set (process 123 on another-host)'),
    ('images=0', None, ['evaluate', '--images-per-prompt', '0', '--out', f'{T}/ev'], 'argument --images-per-prompt: must be at least 1, not 0'),
    ('evaluate limit<0', None, ['evaluate', '--limit', '-1', '--out', f'{T}/ev'], 'argument --limit: must be at least 1, not -1'),
    ('evaluate guidance=0', None, ['evaluate', '--guidance', '0', '--out', f'{T}/ev'], 'argument --guidance: must be at least 1.0, not 0'),
    ('evaluate out is a file', None, ['evaluate', '--out', f'{W}/a-file'], 'is a file, not a folder'),
    ('evaluate non-lab prompt', None, ['evaluate', '--prompts', f'{W}/nonlab.txt', '--out', f'{T}/ev'], "'a photo of a cat', is not a lab prompt"),
    ('evaluate SDXL folder', None, ['evaluate', '--model', f'{W}/sdxl', '--out', f'{T}/ev'], 'holds a StableDiffusionXLPipeline; evaluate (the lab oracle) supports'),
    ('evaluate missing adapter', None, ['evaluate', '--adapter', f'{T}/none', '--out', f'{T}/ev'], 'no pytorch_lora_weights.safetensors (nor unet/'),
    ('max-steps=0', None, FT + ['--max-steps', '0'], 'argument --max-steps: must be at least 1, not 0'),
    ('lr=0', None, FT + ['--lr', '0'], 'argument --lr: must be more than 0.0, not 0'),
    ('uncond-prob>1', None, FT + ['--uncond-prob', '1.5'], 'argument --uncond-prob: must be less than 1, not 1.5'),
    ('validation images=0', None, FT + ['--num-validation-images', '0'], 'argument --num-validation-images: must be at least 1, not 0'),
    ('blank validation prompt', None, FT + ['--validation-prompt', '  '], 'argument --validation-prompt: must not be blank'),
    ('unknown tracker', None, FT + ['--report-to', 'bogus'], "argument --report-to: invalid choice: 'bogus'"),
    ('truncated record', 'truncated', ['finetune', '--data', f'{T}/set', '--out', f'{T}/run', *SD], 'cannot be read'),
    ('NaN latents', 'nan', ['finetune', '--data', f'{T}/set', '--out', f'{T}/run', *SD, '--val-every', '0'], 'latents are not finite'),
    ('no set', None, ['finetune', '--data', f'{T}/none', '--out', f'{T}/run'], 'no such set folder'),
    ('push offline', None, FT + ['--push-to-hub', 'someone/adapter'], '--push-to-hub someone/adapter needs the network'),
    ('finetune Flux folder', None, FT + ['--model', f'{W}/flux'], 'holds a FluxPipeline; finetune supports'),
    ('loss validation without held-out prompts', None, FT + SD + ['--validation', 'loss'], '--validation loss needs --val-fraction > 0'),
    ('text encoder without full', None, FT + SD + ['--train-text-encoder'], "train-text-encoder needs adapter='full'"),
    ('text-encoder lr 0', None, FT + SD + ['--text-encoder-lr', '0'], 'argument --text-encoder-lr: must be more than 0.0'),
    ('weighted sampling of a set without weights', None, FT + SD + ['--sampling', 'weighted'], 'no record of'),
    ('text-encoder lr without the text encoder', None, FT + SD + ['--adapter', 'full', '--text-encoder-lr', '1e-3'], 'it needs train-text-encoder'),
    ('run being written', 'locked-run', FT + SD + ['--val-every', '0'], 'being written by another fine-tuning run'),
    ('lab M=0', None, ['lab', '--candidates', '0', '--out', f'{T}/lab'], 'argument --candidates: must be at least 1, not 0'),
    ('compare repeated seed', None, ['lab', 'compare', '--seeds', '0', '0', '--out', f'{T}/cmp'], 'repeats a seed'),
    ('compare pool guidance 1', None, ['lab', 'compare', '--pool-guidance', '1', '--out', f'{T}/cmp'], 'argument --pool-guidance: must be more than 1.0, not 1'),
    ('compare preset lora', None, ['lab', 'compare', '--preset', 'lora', '--out', f'{T}/cmp'], "argument --preset: invalid choice: 'lora'"),
    ('compare unknown row', None, ['lab', 'compare', '--methods', 'best', '--out', f'{T}/cmp'], "argument --methods: invalid choice: 'best'"),
]

@pytest.mark.parametrize('name,prep,argv,msg', CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly(world, tmp_path, name, prep, argv, msg):
    tmp = tmp_path / 'case'; tmp.mkdir()
    if prep: _prepare(prep, world, tmp)
    fill = lambda s: s.replace('{world}', str(world)).replace('{tmp}', str(tmp))
    before = _tree(world), _tree(tmp)
    p = run(['mi-nb', *map(fill, argv)], check=False, env={'HF_HUB_OFFLINE': '1'}, timeout=300)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert p.returncode != 0, (name, p.stdout[-500:], p.stderr[-1500:])
    assert 'Traceback' not in p.stderr, p.stderr[-3000:]
    assert lines and fill(msg) in lines[-1], (fill(msg), p.stderr[-1500:])
    assert sum('error:' in l for l in lines) == 1, p.stderr[-1500:]
    assert (_tree(world), _tree(tmp)) == before, 'a file was written or changed'
    assert {p.name for p in tmp.iterdir()} <= {'set', 'run'}, f'new files: {list(tmp.iterdir())}'

"""Bad input gets a clear error and loses nothing: every case runs `mi-nb` as a user would and checks the exit status, a
one-line message naming the bad value, no traceback, and that no file was written or changed. The same checks run on
every number and path option of every command, generated from the parser: a new option is covered without a new row."""
import argparse, contextlib, io, json, os, shutil, socket, subprocess, sys
from pathlib import Path
import pytest
from conftest import run

SET_ARGS = ['--candidates', '2', '--steps', '3', '--batch-size', '2', '--guidance', '5']  # how the shared set is built

@pytest.fixture(scope='module')
def world(tmp_path_factory):
    """Shared, read-only inputs: a tiny SD folder, a tiny SDXL folder, an unsupported (Flux) folder's index, a small
    set, prompt files."""
    d = tmp_path_factory.mktemp('world')
    code = (f'from mi_nb.fixtures import tiny_sd_pipeline, tiny_sdxl_pipeline\n'
            f'tiny_sd_pipeline().save_pretrained({str(d / "sd")!r}); '
            f'tiny_sdxl_pipeline().save_pretrained({str(d / "sdxl")!r})')
    run([sys.executable, '-c', code])
    (d / 'ok.txt').write_text('a red circle\ntwo blue squares\n')
    run(['mi-nb', 'build-set', '--model', str(d / 'sd'), '--prompts', str(d / 'ok.txt'), '--out', str(d / 'set'),
         *SET_ARGS])
    (d / 'flux').mkdir(); (d / 'flux' / 'model_index.json').write_text(json.dumps({'_class_name': 'FluxPipeline'}))
    files = {'empty': b'', 'blank': b'\n  \n\t\n', 'dup': b'a red circle\ntwo blue squares\na red circle\n',
             'long': b'a red circle to the left of a blue square and a green triangle above a yellow square\n',
             'latin1': b'a red circle\n\xe9t\xe9\n', 'slash': b'a red circle\na red/circle\n',
             'dotdot': b'../../etc/passwd\n',
             'nul': b'a red circle\na red\x00circle\n', 'nonlab': b'a photo of a cat\n',
             'bom': b'\xef\xbb\xbfa red circle\r\ntwo blue squares\r\n'}
    for k, v in files.items(): (d / f'{k}.txt').write_bytes(v)
    (d / 'a-file').write_text('not a folder')
    return d

def _tree(d: Path) -> dict:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob('*')) if p.is_file()}

def _prepare(kind: str, world: Path, tmp: Path) -> None:
    "Per-case inputs that are damaged or occupied on purpose."
    if kind in ('truncated', 'nan', 'badjson', 'otherargs', 'otherbatch', 'locked-set'):
        shutil.copytree(world / 'set', tmp / 'set')
    if kind == 'truncated':
        f = sorted((tmp / 'set' / 'records').glob('*.safetensors'))[0]; f.write_bytes(f.read_bytes()[:200])
    if kind == 'nan':
        code = (f'from mi_nb.core import load_tensors, save_tensors\n'
                f'f = sorted(__import__("pathlib").Path({str(tmp / "set" / "records")!r}).glob("*.safetensors"))[0]\n'
                f't = load_tensors(f); t["latents"][0, 0, 0, 0] = float("nan"); save_tensors(t, f)')
        run([sys.executable, '-c', code])
    if kind == 'badjson': (tmp / 'set' / 'set.json').write_text('{"format": ')
    if kind == 'locked-set': (tmp / 'set' / '.lock').write_text('another-host 123')
    if kind == 'locked-run': (tmp / 'run').mkdir(); (tmp / 'run' / '.lock').write_text('another-host 123')
    if kind in ('read-only', 'full-disk'):
        (tmp / 'disk').mkdir()  # mounted over in the command's own namespace (`_wrap`)

def _can_mount() -> bool:
    "Whether this process may mount a filesystem in a private mount namespace (root, `unshare`)."
    return shutil.which('unshare') is not None and subprocess.run(
        ['unshare', '--mount', 'true'], capture_output=True).returncode == 0

def _wrap(kind, tmp: Path, cmd: list) -> list:
    """`cmd` run on a read-only, or a full, disk mounted at `tmp/disk` for it alone (a tmpfs in a private mount
    namespace)."""
    if kind not in ('read-only', 'full-disk'): return cmd
    if not _can_mount():
        if kind == 'full-disk' or os.geteuid() == 0: pytest.skip('needs a private mount namespace (unshare, as root)')
        (tmp / 'disk').chmod(0o555); return cmd  # a user: a folder without write permission
    mount = ('mount -t tmpfs -o ro,size=1m tmpfs "$D"' if kind == 'read-only' else
             'mount -t tmpfs -o size=64k tmpfs "$D" && (head -c 1000000 /dev/zero > "$D/filler" 2>/dev/null || true)')
    return ['unshare', '--mount', 'sh', '-c', f'D={tmp}/disk; {mount} && exec "$@"', 'sh', *cmd]

W, T = '{world}', '{tmp}'
BUILD = ['build-set', '--out', f'{T}/out']
SD = ['--model', f'{W}/sd']
FT = ['finetune', '--data', f'{W}/set', '--out', f'{T}/run', '--quiet']
CASES = [  # (id, preparation, argv, what the message must contain)
    ('M=0', None, BUILD + ['--candidates', '0'], 'argument --candidates: must be at least 1, not 0'),
    ('M<0', None, BUILD + ['--candidates', '-2'], 'argument --candidates: must be at least 1, not -2'),
    ('guidance=0', None, BUILD + ['--guidance', '0'], 'argument --guidance: must be more than 1.0'),
    ('guidance=1 with MI', None, BUILD + ['--guidance', '1'],
     'argument --guidance: must be more than 1.0 (MI is read from classifier-free guidance), not 1'),
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
    ('set with other args', 'otherargs',
     ['build-set', '--out', f'{T}/set', *SD, '--prompts', f'{W}/ok.txt', *SET_ARGS, '--candidates', '3'],
     'holds a set made with other settings (candidates: 2 -> 3)'),
    ('set with other batch size', 'otherbatch',
     ['build-set', '--out', f'{T}/set', *SD, '--prompts', f'{W}/ok.txt', *SET_ARGS, '--batch-size', '4'],
     'holds a set made with other settings (batch_size: 2 -> 4)'),
    ('damaged set.json', 'badjson', ['build-set', '--out', f'{T}/set', *SD, '--prompts', f'{W}/ok.txt'],
     'set.json is not valid JSON'),
    ('set being written', 'locked-set', ['build-set', '--out', f'{T}/set', *SD, '--prompts', f'{W}/ok.txt', *SET_ARGS],
     'being written by another build-set (process 123 on another-host'),
    ('images=0', None, ['evaluate', '--images-per-prompt', '0', '--out', f'{T}/ev'],
     'argument --images-per-prompt: must be at least 1, not 0'),
    ('evaluate limit<0', None, ['evaluate', '--limit', '-1', '--out', f'{T}/ev'],
     'argument --limit: must be at least 1, not -1'),
    ('evaluate guidance=0', None, ['evaluate', '--guidance', '0', '--out', f'{T}/ev'],
     'argument --guidance: must be at least 1.0, not 0'),
    ('evaluate out is a file', None, ['evaluate', '--out', f'{W}/a-file'], 'is a file, not a folder'),
    ('evaluate non-lab prompt', None, ['evaluate', '--prompts', f'{W}/nonlab.txt', '--out', f'{T}/ev'],
     "'a photo of a cat', is not a lab prompt"),
    ('evaluate SDXL folder', None, ['evaluate', '--model', f'{W}/sdxl', '--out', f'{T}/ev'],
     'holds a StableDiffusionXLPipeline; evaluate (the lab oracle) supports'),
    ('evaluate missing adapter', None, ['evaluate', '--adapter', f'{T}/none', '--out', f'{T}/ev'],
     'no pytorch_lora_weights.safetensors (nor unet/'),
    ('max-steps=0', None, FT + ['--max-steps', '0'], 'argument --max-steps: must be at least 1, not 0'),
    ('lr=0', None, FT + ['--lr', '0'], 'argument --lr: must be more than 0.0, not 0'),
    ('uncond-prob>1', None, FT + ['--uncond-prob', '1.5'], 'argument --uncond-prob: must be less than 1, not 1.5'),
    ('validation images=0', None, FT + ['--num-validation-images', '0'],
     'argument --num-validation-images: must be at least 1, not 0'),
    ('blank validation prompt', None, FT + ['--validation-prompt', '  '],
     'argument --validation-prompt: must not be blank'),
    ('unknown tracker', None, FT + ['--report-to', 'bogus'], "argument --report-to: invalid choice: 'bogus'"),
    ('truncated record', 'truncated', ['finetune', '--data', f'{T}/set', '--out', f'{T}/run', *SD], 'cannot be read'),
    ('NaN latents', 'nan', ['finetune', '--data', f'{T}/set', '--out', f'{T}/run', *SD, '--val-every', '0'],
     'latents are not finite'),
    ('no set', None, ['finetune', '--data', f'{T}/none', '--out', f'{T}/run'], 'no such set folder'),
    ('push offline', None, FT + ['--push-to-hub', 'someone/adapter'],
     '--push-to-hub someone/adapter needs the network'),
    ('finetune Flux folder', None, FT + ['--model', f'{W}/flux'], 'holds a FluxPipeline; finetune supports'),
    ('loss validation without held-out prompts', None, FT + SD + ['--validation', 'loss'],
     '--validation loss needs --val-fraction > 0'),
    ('text encoder without full', None, FT + SD + ['--train-text-encoder'], "train-text-encoder needs adapter='full'"),
    ('text-encoder lr 0', None, FT + SD + ['--text-encoder-lr', '0'],
     'argument --text-encoder-lr: must be more than 0.0'),
    ('weighted sampling of a set without weights', None, FT + SD + ['--sampling', 'weighted'], 'no record of'),
    ('text-encoder lr without the text encoder', None, FT + SD + ['--adapter', 'full', '--text-encoder-lr', '1e-3'],
     'it needs train-text-encoder'),
    ('run being written', 'locked-run', FT + SD + ['--val-every', '0'], 'being written by another fine-tuning run'),
    ('lab M=0', None, ['lab', '--candidates', '0', '--out', f'{T}/lab'],
     'argument --candidates: must be at least 1, not 0'),
    ('compare repeated seed', None, ['lab', 'compare', '--seeds', '0', '0', '--out', f'{T}/cmp'], 'repeats a seed'),
    ('compare pool guidance 1', None, ['lab', 'compare', '--pool-guidance', '1', '--out', f'{T}/cmp'],
     'argument --pool-guidance: must be more than 1.0, not 1'),
    ('compare preset lora', None, ['lab', 'compare', '--preset', 'lora', '--out', f'{T}/cmp'],
     "argument --preset: invalid choice: 'lora'"),
    ('compare unknown row', None, ['lab', 'compare', '--methods', 'best', '--out', f'{T}/cmp'],
     "argument --methods: invalid choice: 'best'"),
    # the second round (issue: silent nonsense and tracebacks a new user still met)
    ('guidance=inf', None, BUILD + ['--guidance', 'inf'], 'argument --guidance: must be a finite number, not inf'),
    ('guidance=nan', None, BUILD + ['--guidance', 'nan'], 'argument --guidance: must be a finite number, not nan'),
    ('lr=1e999', None, FT + ['--lr', '1e999'], 'argument --lr: must be a finite number, not 1e999'),
    ('out empty', None, ['build-set', '--out', ''], "argument --out: '' is not a path"),
    ('data empty', None, ['finetune', '--data', '', '--out', f'{T}/run'], "argument --data: '' is not a path"),
    ('device bogus', None, ['evaluate', '--device', 'bogus', '--out', f'{T}/ev'],
     "argument --device: 'bogus' is not a torch device"),
    ('device not here', None, ['lab', '--device', 'cuda:99', '--out', f'{T}/lab'],
     "argument --device: 'cuda:99': this machine has"),
    ('model not cached offline', None, BUILD + ['--model', 'someone/model', '--prompts', f'{W}/ok.txt'],
     '--model someone/model is not in the local Hugging Face cache and HF_HUB_OFFLINE is set: run once online'),
    ('scorer not cached offline', None,
     ['evaluate', '--metric', 'clipscore', '--scorer', 'someone/clip', '--prompts', f'{W}/ok.txt', '--out', f'{T}/ev'],
     '--scorer someone/clip is not in the local Hugging Face cache'),
    ('out on a read-only disk', 'read-only', ['build-set', '--out', f'{T}/disk/set'],
     '--out {tmp}/disk/set cannot be written'),
    ('out on a full disk', 'full-disk', FT + ['--out', f'{T}/disk/run'], 'its disk has 0.0 MiB free'),
    ('finetune out on a read-only disk', 'read-only', FT + ['--out', f'{T}/disk/run'],
     '--out {tmp}/disk/run cannot be written'),
]

@pytest.mark.parametrize('name,prep,argv,msg', CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly(world, tmp_path, name, prep, argv, msg):
    tmp = tmp_path / 'case'; tmp.mkdir()
    if prep: _prepare(prep, world, tmp)
    fill = lambda s: s.replace('{world}', str(world)).replace('{tmp}', str(tmp))
    before = _tree(world), _tree(tmp)
    p = run(_wrap(prep, tmp, ['mi-nb', *map(fill, argv)]), check=False, env={'HF_HUB_OFFLINE': '1'}, timeout=300)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert p.returncode != 0, (name, p.stdout[-500:], p.stderr[-1500:])
    assert 'Traceback' not in p.stderr, p.stderr[-3000:]
    assert lines and fill(msg) in lines[-1], (fill(msg), p.stderr[-1500:])
    assert sum('error:' in l for l in lines) == 1, p.stderr[-1500:]
    assert (_tree(world), _tree(tmp)) == before, 'a file was written or changed'
    assert {p.name for p in tmp.iterdir()} <= {'set', 'run', 'disk'}, f'new files: {list(tmp.iterdir())}'

def test_a_byte_order_mark_is_not_part_of_the_first_prompt(world, tmp_path):
    "A prompt file saved with a UTF-8 byte-order mark (and Windows line ends) reads as the same prompts without it."
    out = tmp_path / 'ev'
    run(['mi-nb', 'evaluate', '--prompts', str(world / 'bom.txt'), '--images-per-prompt', '1', '--steps', '2',
         '--out', str(out)])
    test = json.loads((out / 'metrics.json').read_text())
    assert test['settings']['n_prompts'] == 2 and '\ufeff' not in (out / 'records.csv').read_text(encoding='utf-8')

# Every option of every command, from the parser itself
def _options() -> list:
    "(command words, the option's action, the command's required options) of every option of every `mi-nb` command."
    from mi_nb.cli import build_parser
    def walk(p, words):
        acts = [a for a in p._actions if a.option_strings and a.dest != 'help']
        need = [a.option_strings[0] for a in acts if a.required]
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sub in a.choices.items(): yield from walk(sub, words + [name])
        for a in acts: yield words, a, need
    return list(walk(build_parser(), []))

def _is_float(act) -> bool:
    "Whether an option takes a real number (its type turns '0.5' or '1.5' into a float)."
    for text in ('0.5', '1.5', '2.5'):
        try:
            if isinstance(act.type(text), float): return True
        except (argparse.ArgumentTypeError, ValueError, TypeError): pass
    return False

def _ids(cases): return [' '.join(w + [a.option_strings[0]]) for w, a, _ in cases]

OPTIONS = _options()
FLOATS = [c for c in OPTIONS if callable(c[1].type) and _is_float(c[1])]
PATHS = [c for c in OPTIONS if c[1].type is __import__('mi_nb.args', fromlist=['path']).path]
FREE_TEXT = {'--revision', '--variant', '--push-to-hub', '--lr-scheduler', '--targets'}  # texts that are not paths

def test_the_parser_walk_finds_the_options():
    assert len(FLOATS) >= 15 and len(PATHS) >= 15, (len(FLOATS), len(PATHS))
    assert {' '.join(w) for w, _, _ in PATHS} == {'lab', 'lab train', 'lab compare', 'evaluate', 'build-set',
                                                   'finetune'}
    untyped = {a.option_strings[0] for _, a, _ in OPTIONS if a.type in (None, str) and not a.choices and a.nargs != 0}
    assert untyped <= FREE_TEXT, ('options without a type (give a path args.path, a number args.number...): '
                                  f'{untyped - FREE_TEXT}')

def _main(argv) -> tuple:
    "(exit status, stderr) of `mi-nb argv` run in this process."
    from mi_nb.cli import main
    with contextlib.redirect_stderr(io.StringIO()) as err, contextlib.redirect_stdout(io.StringIO()):
        try: rc = main(argv)
        except SystemExit as e: rc = e.code
    return rc, err.getvalue()

def _refused(tmp_path, words, opt, value, need, msg):
    """The same checks as the table's, in this process: status 2, one line naming the option and its value, nothing
    written."""
    argv = [*words, f'{opt}={value}'] + [x for o in need if o != opt for x in (o, str(tmp_path / o.strip('-')))]
    rc, err = _main(argv)
    lines = [l for l in err.splitlines() if l.strip()]
    assert rc == 2 and len(lines) == 1 and f'argument {opt}: ' in lines[0] and msg in lines[0], (argv, err)
    assert 'Traceback' not in err and not any(tmp_path.iterdir()), argv

@pytest.mark.parametrize('words,act,need', FLOATS, ids=_ids(FLOATS))
def test_every_number_option_refuses_non_finite_values(tmp_path, words, act, need):
    for value in ('inf', '-inf', 'nan', '1e999'):
        _refused(tmp_path, words, act.option_strings[0], value, need, f'must be a finite number, not {value}')

@pytest.mark.parametrize('words,act,need', PATHS, ids=_ids(PATHS))
def test_every_path_option_refuses_an_empty_path(tmp_path, words, act, need):
    for value in ('', '  '): _refused(tmp_path, words, act.option_strings[0], value, need, f"{value!r} is not a path")

OUTS = [c for c in PATHS if c[1].dest == 'out']

@pytest.mark.parametrize('words,act,need', OUTS, ids=_ids(OUTS))
def test_every_output_folder_is_checked_before_a_model_loads(tmp_path, words, act, need, monkeypatch):
    "An output folder on a full disk, or one that cannot be written, is refused before any pipeline is loaded."
    import mi_nb.core, mi_nb.args
    def no_load(*a, **k): raise AssertionError('a model was loaded before the output folder was checked')
    monkeypatch.setattr(mi_nb.core, 'load_pipeline', no_load)
    need = [o for o in need if o != '--out']
    for case, patch in (('0.0 MiB free', lambda p: shutil._ntuple_diskusage(10**9, 10**9, 0)),
                        ('cannot be written', None)):
        with monkeypatch.context() as m:
            if patch: m.setattr(shutil, 'disk_usage', patch)
            else: m.setattr(mi_nb.args.tempfile, 'TemporaryFile',
                            lambda **k: (_ for _ in ()).throw(OSError(30, 'Read-only file system')))
            argv = ([*words, '--out', str(tmp_path / 'out')]
                    + [x for o in need for x in (o, str(tmp_path / o.strip('-')))])
            rc, err = _main(argv)
        assert rc == 1 and case in err and err.count('\n') == 1 and 'Traceback' not in err, (argv, err)
        assert not any(tmp_path.iterdir())

"""`mi-nb` on the families beyond the lab and on real-model evaluation, with tiny random models saved to disk: SD3
through build-set and finetune, `evaluate --metric blip-vqa|clipscore` (images in T2I-CompBench's layout), and the
refusals these options add (one line, exit 1 or 2, nothing written)."""
import contextlib, io, json, sys
from pathlib import Path
import pytest
from conftest import run, ROOT

T2I = ROOT.parent / 'shared' / 'data' / 't2i-compbench'  # the benchmark's prompt lists, in this workplace

@pytest.fixture(scope='module')
def models(tmp_path_factory):
    "Tiny SD3 and SD (77-token window) pipelines, a tiny BLIP VQA and a tiny CLIP, each saved the ordinary way."
    d = tmp_path_factory.mktemp('models')
    code = ('import torch; torch.set_num_threads(1)\n'
            'from mi_nb.fixtures import tiny_sd3_pipeline, tiny_sd_pipeline, tiny_blip_vqa, tiny_clip\n'
            f'd = {str(d)!r}\n'
            'tiny_sd3_pipeline().save_pretrained(d + "/sd3"); '
            'tiny_sd_pipeline(max_length=77).save_pretrained(d + "/sd")\n'
            'for name, (m, p) in (("blip", tiny_blip_vqa()), ("clip", tiny_clip())): '
            'm.save_pretrained(d + "/" + name); p.save_pretrained(d + "/" + name)\n')
    run([sys.executable, '-c', code])
    (d / 'prompts.txt').write_text('a red circle\ntwo blue squares\n')
    return d

def test_sd3_build_set_finetune_evaluate(models, tmp_path):
    "SD3 through the CLI: an RFMI-scored set, a LoRA on the transformer, and CLIPScore of the tuned model."
    m = models
    run(['mi-nb', 'build-set', '--model', str(m / 'sd3'), '--prompts', str(m / 'prompts.txt'),
         '--out', str(tmp_path / 'set'), '--candidates', '3', '--steps', '3', '--guidance', '5', '--batch-size', '3'])
    info = json.loads((tmp_path / 'set' / 'set.json').read_text())
    assert info['pipeline'] == 'StableDiffusion3Pipeline' and info['scheduler'] == 'FlowMatchEulerDiscreteScheduler'
    p = run(['mi-nb', 'finetune', '--model', str(m / 'sd3'), '--data', str(tmp_path / 'set'),
             '--out', str(tmp_path / 'ft'), '--quiet', '--adapter', 'lora', '--rank', '4', '--alpha', '8',
             '--lr', '1e-3', '--batch-size', '2', '--grad-accum', '1', '--max-steps', '2',
             '--ckpt-every', '2', '--weighting', 'mode'])
    res = json.loads((tmp_path / 'ft' / 'finetune.json').read_text())
    assert res['steps'] == 2 and res['config']['weighting'] == 'mode' and 'pipe.load_lora_weights' in p.stdout
    p = run(['mi-nb', 'evaluate', '--metric', 'clipscore', '--model', str(m / 'sd3'), '--adapter', str(tmp_path / 'ft'),
             '--scorer', str(m / 'clip'), '--prompts', str(m / 'prompts.txt'), '--images-per-prompt', '2',
             '--steps', '3', '--out', str(tmp_path / 'ev')])
    met = json.loads((tmp_path / 'ev' / 'metrics.json').read_text())['clipscore']
    assert met['metric'] == 'clipscore' and met['images'] == 4 and -1 <= met['score'] <= 1 and '+ft@' in met['model']
    assert sorted(f.name for f in (tmp_path / 'ev' / 'samples').iterdir()) == [
        'a red circle_000000.png', 'a red circle_000001.png',
        'two blue squares_000002.png', 'two blue squares_000003.png']
    assert 'clipscore:' in p.stdout

@pytest.mark.skipif(not T2I.exists(), reason='no local copy of the T2I-CompBench prompt lists')
def test_blip_vqa_on_t2i_compbench_prompts(models, tmp_path):
    "BLIP-VQA of a tiny SD on two T2I-CompBench colour prompts: one question per noun phrase, the product per image."
    f = tmp_path / 'color.txt'; f.write_text('\n'.join((T2I / 'color_val.txt').read_text().splitlines()[:2]) + '\n')
    out = tmp_path / 'ev'
    run(['mi-nb', 'evaluate', '--metric', 'blip-vqa', '--model', str(models / 'sd'), '--scorer', str(models / 'blip'),
         '--prompts', str(f), '--images-per-prompt', '2', '--steps', '3', '--vqa-image-size', '64', '--out', str(out)])
    met = json.loads((out / 'metrics.json').read_text())['blip-vqa']
    assert (met['metric'] == 'blip-vqa' and met['images'] == 4 and 0 < met['score'] < 1
            and met['chunker'] in ('spacy', 'rules'))
    import csv
    rows = list(csv.DictReader(open(out / 'scores-blip-vqa.csv')))
    for r in rows:
        answers = json.loads(r['answers'])
        assert len(answers) == 2 and all(q.endswith('?') for q in answers)  # "a <colour> <noun>?" twice
        prod = 1.0
        for a in answers.values(): prod *= a
        assert abs(prod - float(r['score'])) < 1e-5

def _fake_world(d: Path):
    "Folders that pass the checks made before loading: an SD3 index, a one-record set."
    from mi_nb.core import save_tensors
    import torch
    (d / 'sd3').mkdir()
    (d / 'sd3' / 'model_index.json').write_text(json.dumps({'_class_name': 'StableDiffusion3Pipeline'}))
    save_tensors(dict(latents=torch.zeros(1, 16, 8, 8), prompt_embeds=torch.zeros(1, 4, 8)),
                 d / 'set' / 'records' / 'x.safetensors')
    (d / 'p.txt').write_text('a red circle\n'); (d / 'under.txt').write_text('a snake_case prompt\n')

BAD = [  # (argv, what the last stderr line must contain)
    (['build-set', '--model', '{d}/sd3', '--prompts', '{d}/p.txt', '--out', '{d}/o', '--score', 'pmi'],
     'on SD3 use trajectory or trajectory-nats'),
    (['finetune', '--model', '{d}/sd3', '--data', '{d}/set', '--out', '{d}/o', '--snr-gamma', '5'],
     '--snr-gamma weights a VP loss'),
    (['finetune', '--model', '{d}/sd3', '--data', '{d}/set', '--out', '{d}/o', '--weighting', 'lognormal'],
     "argument --weighting: invalid choice: 'lognormal'"),
    (['evaluate', '--metric', 'blip-vqa', '--model', '{d}/sd3', '--scorer', '{d}/none', '--prompts', '{d}/p.txt',
      '--out', '{d}/o'], 'no transformers model at {d}/none'),
    (['evaluate', '--metric', 'clipscore', '--model', '{d}/sd3', '--scorer', '{d}/set', '--prompts', '{d}/p.txt',
      '--out', '{d}/o'], 'no transformers model at {d}/set'),
    (['evaluate', '--metric', 'vqascore', '--out', '{d}/o'], "argument --metric: invalid choice: 'vqascore'"),
    (['evaluate', '--metric', 'clipscore', '--model', '{d}/sd3', '--scorer', 'openai/clip-vit-base-patch32',
      '--prompts', '{d}/p.txt', '--ddim', '--out', '{d}/o'], '--ddim: SD3 samples a flow'),
    (['evaluate', '--metric', 'clipscore', '--model', '{d}/sd3', '--scorer', 'openai/clip-vit-base-patch32',
      '--prompts', '{d}/under.txt', '--out', '{d}/o'],
     "contains '_': T2I-CompBench reads the prompt back from the file name"),
    (['evaluate', '--metric', 'clipscore', '--vqa-image-size', '0', '--out', '{d}/o'],
     'argument --vqa-image-size: must be at least 16, not 0'),
]

@pytest.mark.parametrize('argv,msg', BAD, ids=[f'{i}-{a[0]}' for i, (a, _) in enumerate(BAD)])
def test_new_options_refuse_bad_input(tmp_path, argv, msg):
    from mi_nb.cli import main
    _fake_world(tmp_path)
    before = sorted(p for p in tmp_path.rglob('*'))
    fill = lambda s: s.replace('{d}', str(tmp_path))
    with contextlib.redirect_stderr(io.StringIO()) as err, contextlib.redirect_stdout(io.StringIO()):
        try: rc = main([fill(x) for x in argv])
        except SystemExit as e: rc = e.code
    lines = [l for l in err.getvalue().splitlines() if l.strip()]
    assert rc in (1, 2) and lines and fill(msg) in lines[-1] and 'Traceback' not in err.getvalue(), err.getvalue()
    assert sum('error:' in l for l in lines) == 1
    assert sorted(p for p in tmp_path.rglob('*')) == before, 'a file was written'

"`mi-nb lab --quick`: the main job end to end at toy size, as a user runs it."
import json, math
from conftest import run

def _finite(x, path='report'):
    if isinstance(x, dict):
        for k, v in x.items(): _finite(v, f'{path}.{k}')
    elif isinstance(x, list):
        for i, v in enumerate(x): _finite(v, f'{path}[{i}]')
    elif isinstance(x, float): assert math.isfinite(x), path

def test_lab_quick_end_to_end(tmp_path):
    out = tmp_path / 'lab'
    p = run(['mi-nb', 'lab', '--quick', '--out', str(out)], timeout=900)
    rep = json.loads((out / 'report.json').read_text())
    assert set(rep) >= {'settings', 'accuracy', 'mi_ranking', 'finetune', 'seconds'}
    for split in ('test', 'test_unseen'):
        by = rep['accuracy'][split]
        assert set(by) == {'base', 'MI-TUNE'} and 'overall' in by['base']
        for model in by.values():
            for v in model.values(): assert 0 <= v['accuracy'] <= 1 and v['images'] > 0
    r = rep['mi_ranking']
    assert r['candidates'] == rep['settings']['train_prompts'] * rep['settings']['candidates']
    assert 0 <= r['top1_mi_accuracy'] <= 1 and 0 <= r['random_pick_accuracy'] <= 1
    _finite(rep)
    for f in ('report.md', 'before_after.png', 'by_category.png', 'adapter/pytorch_lora_weights.safetensors'):
        assert (out / f).stat().st_size > 0, f
    assert '| split | category | base | MI-TUNE |' in p.stdout

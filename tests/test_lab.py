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
    assert 0 <= r['top1_accuracy'] <= 1 and 0 <= r['random_pick_accuracy'] <= 1
    _finite(rep)
    for f in ('report.md', 'before_after.png', 'by_category.png'): assert (out / f).stat().st_size > 0, f
    assert any(f.stat().st_size > 0 for f in (out / 'adapter').rglob('*.safetensors'))  # the tuned weights, any preset
    assert '| split | category | base | MI-TUNE |' in p.stdout
    assert '--quick: a smoke test' in p.stdout and 'A smoke test, not a result' in p.stdout and '[+' not in p.stdout
    # each progress bar's end once, named by its stage
    ends = [l.split(':')[0] for l in p.stderr.splitlines() if '100%|' in l]
    assert ends == ['base test', 'base test_unseen', 'build-set', 'finetune',
                    'tuned test', 'tuned test_unseen'], p.stderr

def test_lab_quick_two_rounds(tmp_path):
    "`mi-nb lab --quick --rounds 2`: round 2 builds its own set with the round-1 adapter; the report says so."
    out = tmp_path / 'lab'
    run(['mi-nb', 'lab', '--quick', '--rounds', '2', '--out', str(out)], timeout=900)
    rep = json.loads((out / 'report.json').read_text())
    assert rep['settings']['rounds'] == 2 and '2 rounds' in (out / 'report.md').read_text()
    info = json.loads((out / 'adapter' / 'mitune.json').read_text())
    assert [r['round'] for r in info['results']] == [1, 2]
    assert (out / 'adapter' / 'round-2' / 'set' / 'metadata.jsonl').stat().st_size > 0
    _finite(rep)

def test_lab_compare_quick_two_seeds(tmp_path):
    "`mi-nb lab compare --quick`: every row for two seeds, then the paired table with 95% intervals and the sets."
    out = tmp_path / 'cmp'
    rec = tmp_path / 'record'
    p = run(['mi-nb', 'lab', 'compare', '--quick', '--seeds', '0', '1', '--out', str(out), '--record', str(rec)],
            timeout=1500)
    s = json.loads((out / 'compare.json').read_text())
    assert s['seeds'] == [0, 1] and set(s) >= {'settings', 'paired', 'sets', 'pools', 'seconds', 'break_even'}
    from mi_nb.lab.compare import METHODS
    trained = set(METHODS) - {'base'}
    assert {r['method'] for r in s['paired']} == trained
    for r in s['paired']:
        assert len(r['per_run']) == 2 and r['lo'] <= r['change'] <= r['hi'] and math.isfinite(r['run_ci95']), r
    assert {x['method'] for x in s['sets']} == trained and all(len(x['per_seed']) == 2 for x in s['sets'])
    assert all(set(pools) == {'lab', 'paper'} for pools in s['pools'].values())
    _finite({k: v for k, v in s.items() if k not in ('pools', 'sets', 'break_even', 'methods')})
    for m in trained: assert f'| {METHODS[m].label} |' in p.stdout
    assert (out / 'table.png').stat().st_size > 0
    # the record holds every row of both seeds: the tables of two of its rows, from the record alone
    assert all(json.loads((rec / f'seed-{i}' / 'results.json').read_text())['methods'] == list(METHODS) for i in (0, 1))
    t = run(['mi-nb', 'lab', 'compare', '--out', str(rec), '--seeds', '0', '1', '--tables-only',
             '--methods', 'truth', 'mi'])
    r = json.loads((rec / 'compare.json').read_text())
    assert {x['method'] for x in r['paired']} == {'truth', 'mi'} and '| ground truth |' in t.stdout
    assert [x for x in r['paired'] if x['method'] == 'mi'] == [x for x in s['paired'] if x['method'] == 'mi']
    again = run(['mi-nb', 'lab', 'compare', '--quick', '--seeds', '0', '1', '--out', str(tmp_path / 'new'),
                 '--record', str(rec)])  # a fresh run folder: the record says both seeds are done
    assert 'nothing to run' in again.stdout and not (tmp_path / 'new' / 'seed-0').exists()

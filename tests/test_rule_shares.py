"experiments/rule_shares.py on a made-up comparison folder: every ranking and rule, per seed and averaged."
import json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pool(d: Path, pool: str, m: int, prompts=('a red circle', 'two blue squares', 'a green star')):
    "A judged pool of `m` candidates per prompt whose `pmi` score ranks the correct ones first (the first 1-2)."
    rows, scores = [], {}
    for i, p in enumerate(prompts):
        key = f'k{i}'
        for r in range(m):
            rows.append(dict(prompt=p, category='single', key=key, rank=r, candidate=r, seed=100 * i + r,
                             trajectory=float(r), correct=r < 1 + i % 2))
        scores.setdefault('pmi', {})[key] = [float(-r) for r in range(m)]
    d.mkdir(parents=True, exist_ok=True)
    (d / f'pool-{pool}-rows.json').write_text(json.dumps(rows))
    if pool == 'lab': (d / f'pool-{pool}-scores.json').write_text(json.dumps(scores))


def test_rule_shares_per_seed_and_mean(tmp_path):
    run, out = tmp_path / 'compare', tmp_path / 'out'
    for s in (0, 1): _pool(run / f'seed-{s}', 'lab', 4)
    _pool(run / 'seed-0', 'paper', 6)
    p = subprocess.run([sys.executable, 'experiments/rule_shares.py', str(run), str(out)], cwd=ROOT,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    r = json.loads((out / 'rule_shares.json').read_text())
    assert set(r['pools']) == {'lab seed 0', 'lab seed 1', 'paper seed 0'}
    mean = {(x['pool'], x['ranking'], x['k'], x['share']): x for x in r['mean'] if x['within'] is None}
    cat = {(x['pool'], x['ranking'], x['k'], x['share']): x for x in r['mean'] if x['within'] == 'category'}
    assert set(cat) == {key for key in mean if key[3] < 1}                  # every cut also within each category
    assert mean['lab', 'pmi', 1, 1.0]['correct'] == 1.0 and mean['lab', 'pmi', 1, 1.0]['seeds'] == [0, 1]
    assert mean['lab', 'pmi', 1, 1.0]['auc'] == 1.0 and mean['lab', 'trajectory', 1, 1.0]['auc'] == 0.0
    assert mean['lab', 'trajectory', 1, 1.0]['correct'] == 0.0                  # ranks the wrong ones first
    assert mean['lab', 'trajectory', 1, 1.0]['seeds'] == [0, 1]                 # one row per seed and rule
    assert mean['lab', 'perfect', 3, 1.0]['correct'] == 4 / 9                   # 1, 2, 1 correct of 3 kept each
    assert ('paper', 'pmi', 1, 1.0) not in mean and mean['paper', 'perfect', 1, 1.0]['correct'] == 1.0
    assert cat['lab', 'pmi', 1, 0.5]['correct'] == mean['lab', 'pmi', 1, 0.5]['correct']  # one category: the same
    assert '| lab | pmi | top 1 per prompt | 3 |' in (out / 'table.md').read_text()
    assert '| lab | pmi | top 1 per prompt, the best 50% of those in each category |' in (out / 'table.md').read_text()


def test_rule_shares_says_what_is_missing(tmp_path):
    p = subprocess.run([sys.executable, 'experiments/rule_shares.py', str(tmp_path), str(tmp_path / 'out')], cwd=ROOT,
                       capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr.strip().endswith('no judged pool (pool-lab-rows.json) in any seed-N folder')

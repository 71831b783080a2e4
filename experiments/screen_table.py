"""Collect the screening (experiments/record_screen.sh) into nbs/results/screen/: screen.json (every number) and
table.md (what chapter 13a shows). Everything here was measured on one seed and judged on `val`, never on `test`."""
import json, sys
from pathlib import Path
import numpy as np
import pandas as pd
sys.path.insert(0, str(Path(__file__).parent))
from screen_analyse import variants
from mi_nb.core import atomic_write_json, atomic_write_text
from mi_nb.selection import Rule, apply_rule, within_prompt_auc

ROOT, OUT = Path('runs/screen'), Path('nbs/results/screen')
SMALL = {'trajectory': 'trajectory', 'pmi-elbo': 'pmi', 'pmi-high': 'pmi_late', 'contr-min-elbo': 'contrastive'}


def guidance_sweep() -> dict:
    g = json.loads((ROOT / 'guidance-val-4.json').read_text())
    order = ('single', 'binding', 'spatial', 'counting', 'overall')
    return {k: {c: g[k]['summary'][c]['accuracy'] for c in order} for k in sorted(g, key=float)}


def small_pools() -> dict:
    "Per guidance: the share of correct candidates, and per score its within-prompt AUC and top-1-of-16 share."
    out = {}
    for f in sorted(ROOT.glob('pool-g*-p64-m16-d32.npz')):
        d = np.load(f); v = variants(d)
        df = pd.DataFrame(dict(prompt=d['prompt'], candidate=np.tile(np.arange(16), len(d['prompt']) // 16),
                               correct=d['correct'], **{SMALL[k]: v[k] for k in SMALL}))
        g = f.name.split('-')[1][1:]
        out[g] = dict(candidates=len(df), correct=float(df.correct.mean()),
                      scores={s: dict(auc=within_prompt_auc(df, s)['auc'],
                                      top1=float(apply_rule(df, s, Rule(1)).correct.mean()))
                              for s in SMALL.values()})
    return out


def full_pool(pool=ROOT / 'pool-g1.01-m8') -> dict:
    rows = pd.DataFrame(json.loads((pool / 'pool-rows.json').read_text()))
    for f in sorted(pool.glob('scores-*.json')):
        for s, by in json.loads(f.read_text()).items(): rows[s] = [by[k][r] for k, r in zip(rows.key, rows['rank'])]
    names = ['trajectory'] + sorted(c for c in rows.columns if c.startswith(('pmi', 'contrastive')))
    share = lambda s, r: float(apply_rule(rows, s, r).correct.mean())
    return dict(candidates=len(rows), correct=float(rows.correct.mean()),
                scores={s: dict(auc=within_prompt_auc(rows, s)['auc'] if s in rows else None, top1=share(s, Rule(1)),
                                top3=share(s, Rule(3))) for s in names + ['random', 'perfect']})


def arms() -> list:
    out = []
    for f in sorted(ROOT.glob('pool-*/arms/*/result.json')):
        r = json.loads(f.read_text()); a = r['args']
        out.append(dict(name=r['name'], pool_guidance=float(f.parts[-4].split('-')[1][1:]), ranking=a['rank'], k=a['k'],
                        filter=a['filter'], steps=a['steps'], uncond=a['uncond'], text_encoder=not a['no_te'],
                        items=r['set']['items'], correct=r['set']['correct'], change=r['change']))
    return out


def markdown(s: dict) -> str:
    lines = ['Accuracy on `val` (109 prompts x 4 images) of the base model at each guidance:', '',
             '| guidance | ' + ' | '.join(next(iter(s['guidance'].values()))) + ' |', '|---|' + '---|' * 5]
    lines += [f'| {g} | ' + ' | '.join(f'{100 * v:.1f}' for v in by.values()) + ' |' for g, by in s['guidance'].items()]
    lines += ['', 'Arms (one seed, `val` x 8, change from the base model in points [95% interval over prompts]):', '',
              '| pool guidance | ranking | rule | updates | empty prompts | text encoder | items | correct share '
              '| change |',
              '|---|---|---|---|---|---|---|---|---|']
    for a in s['arms']:
        c = a['change']['overall']; rule = f"{'correct only, up to ' if a['filter'] else 'top '}{a['k']}"
        lines.append(f"| {a['pool_guidance']} | {a['ranking']} | {rule} | {a['steps']} | {a['uncond']} | "
                     f"{a['text_encoder']} | {a['items']} | {100 * a['correct']:.1f}% | "
                     f"{100 * c['change']:+.1f} [{100 * c['lo']:+.1f}, {100 * c['hi']:+.1f}] |")
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    s = dict(guidance=guidance_sweep(), small_pools=small_pools(), pool=full_pool(), arms=arms())
    OUT.mkdir(parents=True, exist_ok=True)
    atomic_write_json(OUT / 'screen.json', s); atomic_write_text(OUT / 'table.md', markdown(s))
    print(markdown(s))

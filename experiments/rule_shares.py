"""The share of correct candidates that every self-score and rule would put in a training set, on the comparison's own
pools, without training anything: how far each selection falls short of the share a set needs to help.

    python experiments/rule_shares.py runs/compare nbs/results/rule-shares

Reads runs/compare/seed-N/pool-{lab,paper}-rows.json (every candidate's oracle verdict) and pool-*-scores.json (the
re-noising self-scores) of every seed whose pool is judged; writes rule_shares.json (per seed and the mean over seeds)
and table.md into the output folder. Rankings: every self-score of the pool, random picks, and the perfect ranker (the
oracle's verdict, then random) under the same rule; rules: the top k per prompt, then the best share of those overall
or in each prompt category (a score's scale differs between categories).
"""
import argparse, json, sys
from pathlib import Path
import numpy as np
from mi_nb.core import atomic_write_json
from mi_nb.lab.compare import SCORES, pool_table
from mi_nb.selection import Rule, apply_rule, within_prompt_auc

KS = dict(lab=(1, 2, 3), paper=(1,))   # picks per prompt: the lab pool's rows keep 3 of 8, the paper's 1 of 32
SHARES = (1.0, 0.5, 0.25)              # then the surest share of those picks over all prompts
WITHIN = (None, 'category')            # ... or within each prompt category


def seed_pools(run: Path) -> dict:
    "{(pool, seed): pool table} of every judged pool in the comparison folder `run`."
    out = {}
    for d in sorted(run.glob('seed-*')):
        for pool in KS:
            rows = d / f'pool-{pool}-rows.json'
            if not rows.exists(): continue
            scores = d / f'pool-{pool}-scores.json'
            out[pool, int(d.name.split('-')[1])] = pool_table(json.loads(rows.read_text()),
                                                              json.loads(scores.read_text()) if scores.exists() else {})
    return out


def rule_rows(table, pool: str, seed: int) -> list:
    "One row per ranking and rule: the kept set's size and correct share, and the ranking's within-prompt AUC."
    rankings = [s for s in SCORES if s in table] + ['random', 'perfect']  # SCORES starts with the paper's
    rows = []
    for ranking in rankings:
        auc = within_prompt_auc(table, ranking)['auc'] if ranking in table else None
        for k in KS[pool]:
            for share in SHARES:
                for within in WITHIN[:1 if share == 1 else None]:
                    kept = apply_rule(table, ranking, Rule(k, share, within=within), seed)
                    rows.append(dict(pool=pool, seed=seed, ranking=ranking, k=k, share=share, within=within,
                                     items=len(kept), prompts=int(kept.prompt.nunique()),
                                     correct=float(kept.correct.mean()), auc=auc))
    return rows


def mean_rows(rows: list) -> list:
    "The rows averaged over seeds (correct share and AUC), with the seeds they cover."
    groups = {}
    for r in rows: groups.setdefault((r['pool'], r['ranking'], r['k'], r['share'], r.get('within')), []).append(r)
    out = []
    for (pool, ranking, k, share, within), g in groups.items():
        aucs = [r['auc'] for r in g if r['auc'] is not None]
        out.append(dict(pool=pool, ranking=ranking, k=k, share=share, within=within, seeds=[r['seed'] for r in g],
                        items=float(np.mean([r['items'] for r in g])),
                        correct=float(np.mean([r['correct'] for r in g])),
                        correct_min=min(r['correct'] for r in g), correct_max=max(r['correct'] for r in g),
                        auc=float(np.mean(aucs)) if aucs else None))
    return out


def markdown(means: list) -> str:
    "The mean rows as a table: one line per pool, ranking and rule."
    head = ('| pool | ranking | rule | items | correct share (seed range) | within-prompt AUC |\n'
            '|---|---|---|---|---|---|\n')
    auc = lambda r: '' if r['auc'] is None else f"{r['auc']:.3f}"
    rule = lambda r: Rule(r['k'], r['share'], within=r.get('within'))
    lines = [f"| {r['pool']} | {r['ranking']} | {rule(r)} | {r['items']:.0f} | "
             f"{100 * r['correct']:.1f}% ({100 * r['correct_min']:.1f}-{100 * r['correct_max']:.1f}) | {auc(r)} |"
             for r in means]
    return head + '\n'.join(lines) + '\n'


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('run', type=Path, help='the comparison folder (mi-nb lab compare --out)')
    p.add_argument('out', type=Path, help='where rule_shares.json and table.md go')
    a = p.parse_args(argv)
    pools = seed_pools(a.run)
    if not pools: raise SystemExit(f'{a.run}: no judged pool (pool-lab-rows.json) in any seed-N folder')
    rows = [r for (pool, seed), t in pools.items() for r in rule_rows(t, pool, seed)]
    means = mean_rows(rows)
    a.out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(a.out / 'rule_shares.json', dict(
        command=' '.join(['python experiments/rule_shares.py', *sys.argv[1:]]) if argv is None else None,
        pools={f'{pool} seed {seed}': dict(candidates=len(t), prompts=int(t.prompt.nunique()),
                                           correct=float(t.correct.mean())) for (pool, seed), t in pools.items()},
        rows=rows, mean=means))
    (a.out / 'table.md').write_text(markdown(means))
    print(markdown(means))
    return 0


if __name__ == '__main__': sys.exit(main())

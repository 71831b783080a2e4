"""Offline analysis of a screening pool (experiments/screen_scores.py pool): within-prompt AUC, top-1 correct share and
global top-share precision of many self-score variants.   python experiments/screen_analyse.py runs/screen/pool-*.npz"""
import sys
import numpy as np
import pandas as pd
from mi_nb.lab.world import parse_prompt


def variants(d):
    # err [n, K, J]: J = uncond, cond, alternatives (NaN-padded)
    err, w, t = d['err'], d['w'], d['t']
    u, c, alts = err[..., 0], err[..., 1], err[..., 2:]
    has = ~np.isnan(alts[:, 0, :])                            # [n, A]
    out = {'trajectory': d['traj']}
    for wname, ww in (('elbo', w), ('flat', np.ones_like(w)), ('mid', ((t > 200) & (t < 800)).astype(float)),
                      ('high', (t >= 500).astype(float)), ('low', (t < 300).astype(float))):
        out[f'pmi-{wname}'] = (ww * (u - c)).sum(1)
        m = (ww[..., None] * (alts - c[..., None])).sum(1)   # [n, A]: log p(z|c) - log p(z|c'_j)
        mm = np.where(has, m, np.inf).min(1)
        out[f'contr-min-{wname}'] = np.where(np.isfinite(mm), mm, (ww * (u - c)).sum(1))
        mean = np.where(has, m, 0).sum(1) / np.maximum(has.sum(1), 1)
        out[f'contr-mean-{wname}'] = np.where(has.any(1), mean, (ww * (u - c)).sum(1))
        # the model as a classifier: log-softmax of -err over {cond, alternatives}
        ll = -np.concatenate([(ww * c).sum(1)[:, None], np.where(has, (ww[..., None] * alts).sum(1), np.inf) * 1], 1)
        ll = np.where(np.isfinite(ll), ll, -np.inf)
        out[f'cls-{wname}'] = ll[:, 0] - np.logaddexp.reduce(ll, 1)
    return out


def auc(pos, neg):
    pos, neg = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float((pos > neg).mean() + 0.5 * (pos == neg).mean())


def report(path):
    d = np.load(path)
    df = pd.DataFrame(dict(prompt=d['prompt'], correct=d['correct'], clean=d['clean'], extra=d['extra']))
    df['category'] = [parse_prompt(p).category for p in df.prompt]
    print(path, len(df), 'candidates; correct', df.correct.mean().round(3),
          df.groupby('category').correct.mean().round(3).to_dict())
    rows = []
    for name, s in variants(d).items():
        df['s'] = s
        mixed = [g for _, g in df.groupby('prompt') if 0 < g.correct.sum() < len(g)]
        a = np.mean([auc(g.s[g.correct], g.s[~g.correct]) for g in mixed])
        top1 = df.loc[df.groupby('prompt').s.idxmax()].correct.mean()
        top3 = df.loc[df.groupby('prompt').s.nlargest(3).index.get_level_values(1)].correct.mean()
        z = df.groupby('prompt').s.transform(lambda x: (x - x.mean()) / (x.std() + 1e-12))  # within-prompt standardised
        q = {f'glob{int(100*f)}': df[df.s >= df.s.quantile(1 - f)].correct.mean() for f in (0.05, 0.1, 0.2)}
        qz = {f'z{int(100*f)}': df[z >= z.quantile(1 - f)].correct.mean() for f in (0.05, 0.1, 0.2)}
        rows.append(dict(score=name, auc=a, top1=top1, top3=top3, **q, **qz))
    pd.set_option('display.width', 200)
    print(pd.DataFrame(rows).round(3).to_string(index=False))


if __name__ == '__main__':
    for p in sys.argv[1:]: report(p)

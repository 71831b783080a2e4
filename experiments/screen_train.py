"""Screen fine-tuning recipes and selections on one seed, judged on `val` (never `test`): what a set's correct share
buys, for pools drawn at several guidances, and how far each self-score's picks get.

    python experiments/screen_train.py pool --guidance 1.01 --candidates 8          # runs/screen/pool-g1.01-m8/
    python experiments/screen_train.py arm --pool runs/screen/pool-g1.01-m8 --rank random --k 3 --steps 1000
"""
import argparse, json, time
from dataclasses import replace
from pathlib import Path
import numpy as np
import pandas as pd
import torch
from mi_nb.core import derive_seed, atomic_write_json, load_tuned
from mi_nb.lab.model import load_pipeline, LAB_FINETUNE_FULL, LAB_SAMPLING
from mi_nb.lab.world import lab_prompts
from mi_nb.lab.evaluate import evaluate, summarize, paired_change
from mi_nb.lab.compare import build_pool, pool_rows, pool_scores, subset_set, weigh_categories, Compare
from mi_nb.finetune import FinetuneConfig, finetune

torch.set_num_threads(1)
ROOT = Path('runs/screen')
SEED = 100


def val_records(pipe, n):
    recs, _ = evaluate(pipe, lab_prompts('val'), n, derive_seed(SEED, 'screen-val'), 64, False)
    return recs


def pool(a):
    out = ROOT / f'pool-g{a.guidance}-m{a.candidates}'
    pipe = load_pipeline()
    t0 = time.time()
    c = Compare(candidates=a.candidates, pool_guidance=a.guidance)
    build_pool(pipe, lab_prompts('train'), out / 'pool', c, derive_seed(SEED, 'screen-candidates'), False)
    rows = pool_rows(out / 'pool'); atomic_write_json(out / 'pool-rows.json', rows)
    t1 = time.time()
    if a.scores:
        sc = pool_scores(pipe, out / 'pool', SEED, tuple(a.scores), a.draws, 32)
        atomic_write_json(out / 'scores.json', sc)
    print(out, 'correct', np.mean([r['correct'] for r in rows]).round(3),
          f'pool {t1 - t0:.0f}s scores {time.time() - t1:.0f}s')


def scores(a):
    "Re-noising self-scores of every candidate of a pool, as the set builder computes them, `--t-min` for the late PMI."
    from mi_nb.build_set import records, score_candidates, BuildConfig
    from mi_nb.core import load_tensors
    pool_dir = Path(a.pool)
    pipe = load_pipeline(); t0 = time.time()
    for name, score, t_min in [x.split(':') for x in a.scores]:
        f = pool_dir / f'scores-{name}.json'
        if f.exists(): continue
        out = {}
        for r in records(pool_dir / 'pool'):
            lat = load_tensors(pool_dir / 'pool' / 'records' / f"{r['key']}.safetensors")['latents']
            cfg = BuildConfig(seed=SEED, score=score, draws=a.draws, t_min=int(t_min))
            out[r['key']] = [float(x) for x in score_candidates(pipe, r['prompt'], lat, None,
                                                                [r['seeds'][j] for j in r['kept']], cfg, 32)]
        atomic_write_json(f, {name: out})
        print(name, f'{time.time() - t0:.0f}s', flush=True)


def ranks(df, rank, seed):
    "A per-candidate value to sort on, larger first."
    if rank == 'random':
        return pd.Series([np.random.default_rng(derive_seed(seed, k, r, 'screen-random')).random()
                          for k, r in zip(df.key, df['rank'])], index=df.index)
    if rank == 'trajectory': return df.trajectory
    if rank == 'perfect': return df.correct.astype(float) + 1e-3 * ranks(df, 'random', seed)
    return df[rank]


def choose(df, rank, k, share, seed, correct_only=False):
    df = df.assign(v=ranks(df, rank, seed))
    if correct_only: df = df[df.correct]
    top = df.sort_values('v', ascending=False, kind='stable').groupby('key').head(k)
    if share < 1: top = top[top.v >= top.v.quantile(1 - share)]
    return {key: sorted(g['rank'].tolist()) for key, g in top.groupby('key')}, top


def arm(a):
    pool_dir = Path(a.pool)
    rows = pd.DataFrame(json.loads((pool_dir / 'pool-rows.json').read_text()))
    for f in sorted(pool_dir.glob('scores*.json')):
        for s, by in json.loads(f.read_text()).items(): rows[s] = [by[k][r] for k, r in zip(rows.key, rows['rank'])]
    name = a.name or f"{a.rank}-k{a.k}-q{a.share}{'-filter' if a.filter else ''}-s{a.steps}{a.tag}"
    out = pool_dir / 'arms' / name
    if (out / 'result.json').exists(): print(name, 'done:', out / 'result.json'); return
    keep, top = choose(rows, a.rank, a.k, a.share, SEED, a.filter)
    stats = dict(items=int(len(top)), prompts=int(top.key.nunique()), correct=float(top.correct.mean()),
                 by_category=None)
    print(name, stats, flush=True)
    if not (out / 'set' / 'set.json').exists(): subset_set(pool_dir / 'pool', out / 'set', keep, a.rank)
    if a.balance: weigh_categories(out / 'set')
    cfg = FinetuneConfig(**{**LAB_FINETUNE_FULL, 'max_steps': a.steps, 'seed': SEED, 'train_text_encoder': not a.no_te,
                            'text_encoder_lr': None if a.no_te else a.te_lr,
                            'sampling': 'weighted' if a.balance else 'epochs', 'uncond_prob': a.uncond, 'lr': a.lr,
                            'ckpt_every': a.steps, 'val_every': 0, 'ema_decay': a.ema})
    t0 = time.time()
    finetune(load_pipeline(), out / 'set', out / 'adapter', cfg, resume=True, progress=False)
    tsec = time.time() - t0
    base_f = ROOT / f'val-base-n{a.val_images}.json'
    if base_f.exists(): base = pd.DataFrame(json.loads(base_f.read_text()))
    else:
        base = val_records(load_pipeline(), a.val_images); atomic_write_json(base_f, base.to_dict(orient='list'))
    p = load_pipeline(); load_tuned(p, out / 'adapter')
    tuned = val_records(p, a.val_images)
    res = dict(name=name, args=vars(a), set=stats, train_seconds=round(tsec), base=summarize(base),
               tuned=summarize(tuned),
               change={c: paired_change(base, tuned, c)
                       for c in ('single', 'binding', 'spatial', 'counting', 'overall')})
    atomic_write_json(out / 'result.json', res)
    ch = res['change']['overall']
    print(f"{name}: share {stats['correct']:.3f} items {stats['items']} | "
          f"val {100 * ch['change']:+.1f} [{100 * ch['lo']:+.1f}, {100 * ch['hi']:+.1f}] "
          + ' '.join(f"{c[:4]} {100 * res['change'][c]['change']:+.1f}"
                     for c in ('single', 'binding', 'spatial', 'counting'))
          + f' ({tsec:.0f}s train)', flush=True)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('what', choices=['pool', 'arm', 'scores'])
    ap.add_argument('--guidance', type=float, default=1.01)
    ap.add_argument('--candidates', type=int, default=8)
    ap.add_argument('--scores', nargs='*', default=[])
    ap.add_argument('--draws', type=int, default=16)
    ap.add_argument('--pool')
    ap.add_argument('--rank', default='random')
    ap.add_argument('--k', type=int, default=3)
    ap.add_argument('--share', type=float, default=1.0)
    ap.add_argument('--filter', action='store_true', help='keep only oracle-correct candidates (the oracle filter)')
    ap.add_argument('--steps', type=int, default=1000)
    ap.add_argument('--lr', type=float, default=1e-4)
    ap.add_argument('--te-lr', type=float, default=5e-4)
    ap.add_argument('--no-te', action='store_true')
    ap.add_argument('--uncond', type=float, default=0.1)
    ap.add_argument('--ema', type=float, default=0.998)
    ap.add_argument('--no-balance', dest='balance', action='store_false')
    ap.add_argument('--val-images', type=int, default=8)
    ap.add_argument('--name', default=None)
    ap.add_argument('--tag', default='')
    a = ap.parse_args()
    {'pool': pool, 'arm': arm, 'scores': scores}[a.what](a)

"""Screen: base accuracy against guidance (val), and every self-score's raw re-noising terms on small train pools at
several guidances, so weightings and rules can be compared offline.  One seed; nothing here touches `test`.

    OMP_NUM_THREADS=1 python experiments/screen_scores.py guidance --out runs/screen
    OMP_NUM_THREADS=1 python experiments/screen_scores.py pool --guidance 7.5 --prompts 64 --candidates 16 \
        --out runs/screen
"""
import argparse, json, time
from pathlib import Path
import numpy as np
import torch
from mi_nb.core import derive_seed, atomic_write_json
from mi_nb.lab.model import load_pipeline, LAB_SAMPLING
from mi_nb.lab.world import lab_prompts
from mi_nb.lab.evaluate import evaluate, summarize, spread
from mi_nb.lab.oracle import judge
from mi_nb.build_set import BuildConfig, generate_batched, decode_latents
from mi_nb.mi import prompt_conditions, counterfactual_prompts, renoise_terms, term_weights

torch.set_num_threads(1)


def guidance(a):
    pipe = load_pipeline()
    out = {}
    for g in a.scales:
        t0 = time.time()
        recs, _ = evaluate(pipe, lab_prompts('val'), a.images, derive_seed(a.seed, 'screen-val'), 64, False,
                           guidance_scale=g)
        out[str(g)] = dict(summary=summarize(recs), seconds=round(time.time() - t0, 1))
        print(g, {c: round(v['accuracy'], 3) for c, v in out[str(g)]['summary'].items()}, out[str(g)]['seconds'],
              flush=True)
    atomic_write_json(Path(a.out) / f'guidance-val-{a.images}.json', out)


@torch.no_grad()
def pool(a):
    pipe = load_pipeline()
    prompts = spread(lab_prompts('train'), a.prompts)
    cfg = BuildConfig(candidates=a.candidates, keep=a.candidates, **{**LAB_SAMPLING, 'guidance_scale': a.guidance})
    jobs = [(p, derive_seed(a.seed, 'screen-pool', p, j)) for p in prompts for j in range(a.candidates)]
    lats, traj = [], []
    t0 = time.time()
    for _, lat, sc in generate_batched(pipe, jobs, cfg, 32): lats.append(lat.cpu()); traj.append(sc)
    lat, traj = torch.cat(lats), torch.cat(traj)
    ims = [np.asarray(im.convert('RGB')) for i in range(0, len(lat), 64) for im in decode_latents(pipe, lat[i:i + 64])]
    verdicts = [judge(im, p) for im, (p, _) in zip(ims, jobs)]
    gen_s = time.time() - t0
    # raw terms: conditions [uncond, cond, counterfactuals...] on the same (t, noise) draws
    T, E, SQ = [], [], []
    J = 0
    t1 = time.time()
    for i, p in enumerate(prompts):
        cond, uncond = prompt_conditions(pipe, [p], 32, 32)
        alts = [prompt_conditions(pipe, [q], 32, 32)[0] for q in counterfactual_prompts(p)]
        conds = [uncond, cond, *alts]
        g = torch.Generator().manual_seed(derive_seed(a.seed, 'screen-draws', p))
        z = lat[i * a.candidates:(i + 1) * a.candidates]
        t, sizes, err, _ = renoise_terms(pipe.unet, pipe.scheduler, z, conds, a.draws, g, 50, 256)
        pad = np.full((len(z), a.draws, 5), np.nan); pad[:, :, :err.shape[2]] = err.numpy()
        T.append(t.numpy()); E.append(pad)
    w = term_weights(pipe.scheduler, torch.from_numpy(np.concatenate(T)), sizes).numpy()
    score_s = time.time() - t1
    name = f'pool-g{a.guidance}-p{a.prompts}-m{a.candidates}-d{a.draws}'
    np.savez_compressed(Path(a.out) / f'{name}.npz', t=np.concatenate(T), err=np.concatenate(E), w=w, traj=traj.numpy(),
                        sizes=sizes.numpy(), correct=np.array([v.correct for v in verdicts]),
                        clean=np.array([v.clean for v in verdicts]), extra=np.array([v.extra for v in verdicts]),
                        prompt=np.array([p for p, _ in jobs]), images=np.stack(ims))
    print(name, 'correct', np.mean([v.correct for v in verdicts]).round(3), 'gen', round(gen_s), 's; scores',
          round(score_s), 's', flush=True)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('what', choices=['guidance', 'pool'])
    ap.add_argument('--out', default='runs/screen')
    ap.add_argument('--seed', type=int, default=100)
    ap.add_argument('--images', type=int, default=4)
    ap.add_argument('--scales', type=float, nargs='+', default=[1.01, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0])
    ap.add_argument('--guidance', type=float, default=7.5)
    ap.add_argument('--prompts', type=int, default=64)
    ap.add_argument('--candidates', type=int, default=16)
    ap.add_argument('--draws', type=int, default=32)
    a = ap.parse_args()
    Path(a.out).mkdir(parents=True, exist_ok=True)
    {'guidance': guidance, 'pool': pool}[a.what](a)

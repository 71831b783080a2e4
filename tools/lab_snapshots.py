#!/usr/bin/env python
"""Measure every snapshot of a lab training run on the `val` split and pick the one to ship.

    python tools/lab_snapshots.py runs/lab-b [--images-per-prompt 4] [--seed 0]

A run trained with `mi-nb lab train --snapshots` keeps the EMA pipeline of each checkpoint in RUN/snapshots/step-N.
Each is evaluated with the oracle on the lab `val` prompts (never the test splits), cached in RUN/snapshots-val.json.
The lab's difficulty target (`mi_nb.lab.evaluate.DIFFICULTY_TARGET`, issue #3): single objects >= 85% correct with
clean backgrounds, two-object binding and spatial prompts between 20% and 75%. The pick is the most-trained snapshot
that meets it on `val`; the test numbers of the shipped model are then measured once, by
`mi-nb evaluate --prompts test`.
"""
import argparse, json, sys
from pathlib import Path

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('run'); ap.add_argument('--images-per-prompt', type=int, default=4)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args(argv)
    from mi_nb.core import atomic_write_json
    from mi_nb.lab.model import load_pipeline
    from mi_nb.lab.evaluate import evaluate, summarize, meets_target
    from mi_nb.lab.world import lab_prompts
    run = Path(a.run); cache = run / 'snapshots-val.json'
    done = json.loads(cache.read_text()) if cache.exists() else {}
    snaps = sorted((run / 'snapshots').glob('step-*'), key=lambda p: int(p.name.split('-')[1]))
    for s in snaps:
        key = f'{s.name}/n{a.images_per_prompt}/seed{a.seed}'
        if key in done: continue
        recs, _ = evaluate(load_pipeline(s), lab_prompts('val'), a.images_per_prompt, a.seed, progress=False)
        done[key] = summarize(recs); atomic_write_json(cache, done)
    rows = [(int(s.name.split('-')[1]), done[f'{s.name}/n{a.images_per_prompt}/seed{a.seed}']) for s in snaps]
    print('| step | single | binding | spatial | counting | overall | clean | meets target |')
    print('|---|---|---|---|---|---|---|---|')
    for step, m in rows:
        print(f"| {step} | "
              + ' | '.join(f"{m[c]['accuracy']:.1%}" for c in ('single', 'binding', 'spatial', 'counting', 'overall'))
              + f" | {m['overall']['clean']:.1%} | {'yes' if meets_target(m) else 'no'} |")
    ok = [step for step, m in rows if meets_target(m)]
    print(f'pick: step-{ok[-1]}' if ok else 'no snapshot meets the target')
    return 0 if ok else 1

if __name__ == '__main__': sys.exit(main())

"""Start a comparison with more fine-tuning updates from one already run, without training again what it trained.

    python tools/continue_compare.py runs/compare runs/compare-4k --seeds 0 1 2
    mi-nb lab compare --out runs/compare-4k --seeds 0 1 2 <the same options> --finetune-steps 4000

For each seed this copies what does not depend on the number of updates (the base model's evaluation, the pools, their
oracle rows and self-scores, the selected sets, the timings) and every method's fine-tuning run (checkpoints, logs; its
`run.json` pointing at the copied set), but not the methods' evaluations nor the settings. `mi-nb lab compare` with a
larger `--finetune-steps` then continues each run from its last checkpoint (chapter 10: with the lab's constant
learning rate, a finished run continued to N updates ends where a run of N updates from the start ends), selects its
checkpoint on the same validation over all N updates, and evaluates it. The seconds it records for a trained method are
those of the continuation. The source folder is not changed.
"""
import argparse, json, shutil, sys
from pathlib import Path

SKIP = ('results.json', 'settings.json')  # remade by the continued comparison, with its own settings


def copy_seed(src: Path, dst: Path) -> None:
    """Copy seed folder `src` to `dst` without the trained methods' evaluations; re-point the fine-tuning runs at the
    copied sets."""
    if not (src / 'settings.json').exists():
        sys.exit(f'{src} is not a seed folder of `mi-nb lab compare` (no settings.json)')
    if dst.exists(): sys.exit(f'{dst} exists already: give another destination')
    tmp = dst.with_name(f'.tmp-{dst.name}')
    shutil.rmtree(tmp, ignore_errors=True)
    skip = lambda d, names: [n for n in names if Path(d) == src
                             and (n in SKIP or (n.startswith('eval-') and n != 'eval-base.json'))]
    shutil.copytree(src, tmp, ignore=skip)
    for f in sorted((tmp / 'adapters').glob('*/run.json')):
        run = json.loads(f.read_text())
        data = Path(run['data'])
        if data.is_relative_to(src.resolve()): run['data'] = str(dst.resolve() / data.relative_to(src.resolve()))
        f.write_text(json.dumps(run, indent=1, sort_keys=True))
    tmp.rename(dst)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('src', type=Path, help='a comparison folder (holding seed-N folders)')
    p.add_argument('dst', type=Path, help='the new comparison folder')
    p.add_argument('--seeds', type=int, nargs='+', required=True)
    a = p.parse_args(argv)
    a.dst.mkdir(parents=True, exist_ok=True)
    for s in a.seeds:
        copy_seed(a.src / f'seed-{s}', a.dst / f'seed-{s}')
        print(f'seed {s}: {a.src / f"seed-{s}"} -> {a.dst / f"seed-{s}"}')
    return 0


if __name__ == '__main__': sys.exit(main())

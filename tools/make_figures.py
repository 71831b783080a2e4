"""Figures the docs show that no notebook cell computes. Rerun after shipping a new lab model:

    python tools/make_figures.py      # writes nbs/images/lab_overview.png (seed 0)

lab_overview.png: for 8 test prompts, 4 ground-truth renders of the lab world (left) and 4 samples of the shipped lab
model (right, DDIM 25 steps, guidance 5, per-image seeds derive_seed(0, prompt, i)), framed green where the oracle
judges the image correct, red where not.
"""
from pathlib import Path
import numpy as np
from PIL import Image, ImageDraw

def main(seed: int = 0, out=Path(__file__).resolve().parent.parent / 'nbs' / 'images' / 'lab_overview.png'):
    from mi_nb.lab.world import lab_prompts, render, parse_prompt
    from mi_nb.lab.model import load_pipeline
    from mi_nb.lab.evaluate import evaluate
    from mi_nb.lab.oracle import judge
    prompts = [lab_prompts('test')[i] for i in (0, 5, 13, 17, 26, 40, 61, 90)]
    rng = np.random.default_rng(seed)
    truth = [[render(parse_prompt(p), rng)[0] for _ in range(4)] for p in prompts]
    recs, ims = evaluate(load_pipeline(), prompts, n=4, seed=seed, progress=False)
    s, pad, tw, gap = 64, 3, 250, 16
    W = tw + 8 * (s + 2 * pad) + gap
    g = Image.new('RGB', (W, 18 + len(prompts) * (s + 2 * pad)), 'white'); d = ImageDraw.Draw(g)
    d.text((tw, 3), 'the world (renders)', fill='black')
    d.text((tw + 4 * (s + 2 * pad) + gap, 3), 'the shipped lab model', fill='black')
    for r, p in enumerate(prompts):
        y = 18 + r * (s + 2 * pad); d.text((4, y + s // 2 - 4), p, fill='black')
        for c in range(8):
            im = truth[r][c] if c < 4 else ims[r * 4 + c - 4]
            ok = judge(im, p).correct
            x = tw + c * (s + 2 * pad) + (gap if c >= 4 else 0)
            d.rectangle([x, y, x + s + 2 * pad - 1, y + s + 2 * pad - 1], fill=(40, 170, 60) if ok else (220, 40, 40))
            g.paste(Image.fromarray(im).resize((s, s), Image.NEAREST), (x + pad, y + pad))
    out.parent.mkdir(parents=True, exist_ok=True); g.save(out, optimize=True)
    print(f'wrote {out} ({out.stat().st_size // 1024} KiB)')

if __name__ == '__main__': main()

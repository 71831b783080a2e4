#!/usr/bin/env python
"""Ceiling ablation: under which fine-tuning recipe does *ground-truth* data improve the lab model?

The project's recipe (`FinetuneConfig(**{**LAB_FINETUNE, 'max_steps': 150})`, once `FinetuneConfig.lab(max_steps=150)`,
on 48 train prompts) does not improve the lab model even with perfect data; this tool measures the suspects one at a
time, paired on the same evaluation images, and then oracle-selected self-training with the winning recipe.
`tools/record_ceiling.sh` reruns every arm of the recorded table (nbs/results/ceiling/table.md).

The model measured is --model DIR (default: the package's shipped lab weights, `lab_weights_dir()`); the recorded
table was measured on the lab model shipped when it was made (model_fingerprint 6a6ca201aa572889: mi_nb/lab/weights
of commit 764f9ee, which tools/record_ceiling.sh extracts once the shipped model is replaced). Every
sub-command that loads the model checks it against ROOT/model.json (written on first use), since sets, pools and base
records cached under --root depend on it, and every arm records the model's `model_fingerprint` in its result.json.

Sub-commands (all outputs under --root, default runs/ceiling; --root and --model go before the sub-command):
  gtset   NAME --prompts 48|all --renders R --seed S      ground-truth set (renders -> VAE posterior mean x scaling factor)
  pool    NAME --candidates M --seed S                    the base model's candidates of every train prompt (trajectory MI + oracle)
  poolscores POOL [--score pmi|contrastive|renoise]       a re-noising self-score of every candidate of a pool
  subset  NAME --pool POOL --method oracle|mi|random|pmi|... --k K   a set picked from a pool
  base    --split val|test --n N --seed S                 the base model's evaluation records (cached)
  reencode NAME --src SET                                 a copy of SET with latents re-encoded by the VAE from its images
  arm     NAME --data SET [recipe options] [--eval ...]   train with this script's loop (or --library: mi_nb.finetune.finetune
                                                          validated by mi_nb.lab.evaluate.oracle_validator), evaluate, pair with the base
  table   [--arms GLOB] [--out FILE]                      the arms' results as a markdown table (default: all, ROOT/table.md)

Every arm writes arms/NAME/result.json (its command, model path and fingerprint, recipe, validation, seeds, summaries,
paired changes with bootstrap 95% intervals over prompts) and arms/NAME/records-<split>-n<N>-s<seed>.csv (per-image
verdicts). Run on the CPU with one thread (the recorded numbers are reproducible only so), from the repository root:
  OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1 python tools/ceiling_ablation.py [--root R] [--model DIR] ...
"""
from __future__ import annotations
import argparse, json, os, sys, time, shlex
from contextlib import nullcontext
from dataclasses import asdict, replace
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', '1'); os.environ.setdefault('MKL_NUM_THREADS', '1')
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np
import torch

torch.set_num_threads(int(os.environ.get('CEILING_THREADS', '1')))

from mi_nb.core import derive_seed, save_tensors, load_tensors, atomic_write_json, atomic_write_text, model_fingerprint, load_tuned
from mi_nb.set_format import prompt_key, SynthSet, save_record, write_identity
from mi_nb.finetune import FinetuneConfig, finetune
from mi_nb.adapter import add_adapter, lora_config, save_adapter, trainable_state
from mi_nb.losses import denoise_loss, drop_prompts, empty_prompt_cond, EMA
from mi_nb.runs import batch_indices
from mi_nb.lab.world import render, parse_prompt, lab_prompts, CATEGORIES
from mi_nb.lab.model import load_pipeline, lab_weights_dir, LAB_SAMPLING, LAB_FINETUNE, LAB_POOL_GUIDANCE
from mi_nb.lab.evaluate import evaluate, summarize, lab_val_prompts, oracle_validator, spread
from mi_nb.lab.compare import weigh_categories
from mi_nb.lab.train import encode_images

ROOT = Path('runs/ceiling')
TARGETS = {  # adapter target presets (peft matches module-name suffixes)
    'attn': ('to_q', 'to_k', 'to_v', 'to_out.0'),
    'attn_ff': ('to_q', 'to_k', 'to_v', 'to_out.0', 'proj_in', 'proj_out', 'ff.net.0.proj', 'ff.net.2'),
    'all': ('to_q', 'to_k', 'to_v', 'to_out.0', 'proj_in', 'proj_out', 'ff.net.0.proj', 'ff.net.2',
            'conv1', 'conv2', 'time_emb_proj'),
}


def log(*a):
    print(time.strftime('%H:%M:%S'), *a, flush=True)


def check_model(a) -> str:
    """Set `a.fingerprint` to the model's `model_fingerprint`; refuse a model other than the one ROOT/model.json names
    (written on the first use of a root), as the sets, pools and base records cached under a root are that model's."""
    if not (Path(a.model) / 'model_index.json').exists(): raise SystemExit(f'--model {a.model}: no diffusers pipeline there (no model_index.json)')
    a.fingerprint = model_fingerprint(a.model)
    f = a.root / 'model.json'
    if f.exists():
        was = json.loads(f.read_text())
        if was['fingerprint'] != a.fingerprint:
            raise SystemExit(f"{a.root} holds results of the model {was['fingerprint']} ({was['path']}), not of --model {a.model} "
                             f'({a.fingerprint}): use another --root')
    else: atomic_write_json(f, dict(path=str(a.model), fingerprint=a.fingerprint))
    return a.fingerprint


def train_prompts(n) -> list:
    ps = lab_prompts('train')
    return ps if n in (None, 'all') else spread(ps, int(n))


# ---------------------------------------------------------------- sets
@torch.no_grad()
def cmd_gtset(a):
    "Ground-truth renders in the set format `finetune` reads."
    out = a.root / 'sets' / a.name
    if (out / 'set.json').exists(): log('exists', out); return 0
    pipe = load_pipeline(a.model)
    prompts = train_prompts(a.prompts)
    sf = float(pipe.vae.config.scaling_factor)
    t0 = time.time()
    for p in prompts:
        spec = parse_prompt(p)
        ims = np.stack([render(spec, np.random.default_rng(derive_seed(a.seed, 'gt-render', p, j)))[0] for j in range(a.renders)])
        lat = encode_images(pipe.vae, ims) * sf
        emb = pipe.encode_prompt(p, 'cpu', 1, False)[0].float()
        key = prompt_key(p)
        save_record(out, dict(prompt=p, key=key, kept=list(range(a.renders))),
                    dict(latents=lat.float(), prompt_embeds=emb))
    write_identity(out, dict(format='mi_nb-set/1', model='ground truth (mi_nb.lab.world.render)',
                             prompts=len(prompts), renders=a.renders, seed=a.seed, vae_scaling_factor=sf,
                             model_fingerprint=a.fingerprint, command=command_line()))
    log(f'{out}: {len(prompts)} prompts x {a.renders} renders in {time.time() - t0:.0f}s')
    return 0


def cmd_gtmatch(a):
    """Ground truth shaped like another set: for each prompt of `--like`, as many true renders (the first ones of `--gt`) as
    that set keeps. Training on it next to `--like` separates what the data is (own samples or true renders) from how much
    of it there is per prompt and category (the oracle keeps many easy prompts' samples and few hard ones')."""
    out, like, gt = a.root / 'sets' / a.name, a.root / 'sets' / a.like, a.root / 'sets' / a.gt
    if (out / 'set.json').exists(): log('exists', out); return 0
    n = 0
    for f in sorted((like / 'records').glob('*.json')):
        r = json.loads(f.read_text()); k = len(r['kept'])
        t = load_tensors(gt / 'records' / f"{r['key']}.safetensors")
        if k > t['latents'].shape[0]: raise ValueError(f"{r['prompt']!r}: {a.like} keeps {k}, {a.gt} has {t['latents'].shape[0]} renders")
        save_record(out, dict(prompt=r['prompt'], key=r['key'], kept=list(range(k))),
                    dict(latents=t['latents'][:k], prompt_embeds=t['prompt_embeds']))
        n += k
    info = json.loads((gt / 'set.json').read_text())
    write_identity(out, dict(info, like=str(like), items=n, command=command_line()))
    log(f'{out}: {n} true renders shaped like {like}')
    return 0


def cmd_pool(a):
    "The base model's M candidates of each train prompt, with trajectory MI (library build_pool) and oracle verdicts."
    from mi_nb.lab.compare import Compare, build_pool, pool_rows
    out = a.root / 'pools' / a.name
    pipe = load_pipeline(a.model)
    t0 = time.time()
    build_pool(pipe, train_prompts(a.prompts), out, Compare(candidates=a.candidates, batch_size=a.batch_size, pool_guidance=a.guidance), a.seed, progress=False)
    f = out / 'pool-rows.json'
    if not f.exists(): atomic_write_json(f, pool_rows(out))
    rows = json.loads(f.read_text())
    log(f'{out}: {len(rows)} candidates, oracle-correct {np.mean([r["correct"] for r in rows]):.3f}, {time.time() - t0:.0f}s')
    return 0


def cmd_poolscores(a):
    "A re-noising self-score of every candidate of a pool (library pool_scores, as the set builder computes it): pools/POOL/scores-SCORE.json."
    from mi_nb.lab.compare import pool_scores
    pool = a.root / 'pools' / a.pool
    f = pool / f'scores-{a.score}.json'
    if f.exists(): log('exists', f); return 0
    t0 = time.time()
    atomic_write_json(f, pool_scores(load_pipeline(a.model), pool, a.seed, (a.score,), a.draws)[a.score])
    log(f'{f}: {a.score} with {a.draws} draws, {time.time() - t0:.0f}s')
    return 0


def cmd_subset(a):
    from mi_nb.lab.compare import picks, subset_set, SELECTIONS
    pool = a.root / 'pools' / a.pool
    rows = json.loads((pool / 'pool-rows.json').read_text())
    sc = SELECTIONS.get(a.method)
    scores = {sc: json.loads((pool / f'scores-{sc}.json').read_text())} if sc and sc != 'trajectory' else None
    keep = picks(rows, a.method, a.k, a.seed, scores)
    out = a.root / 'sets' / a.name
    if not (out / 'set.json').exists(): subset_set(pool, out, keep, a.method)
    n = sum(len(v) for v in keep.values())
    ok = {(r['key'], r['rank']): r['correct'] for r in rows}
    share = float(np.mean([ok[k, q] for k, v in keep.items() for q in v]))
    log(f'{out}: oracle-correct share of the kept items {share:.3f} (pool: {np.mean(list(ok.values())):.3f})')
    atomic_write_json(out / 'subset.json', dict(pool=str(pool), method=a.method, k=a.k, seed=a.seed, prompts=len(keep), items=n, correct=share,
                                                command=command_line()))
    log(f'{out}: {a.method} k={a.k}: {len(keep)} prompts, {n} items')
    return 0


@torch.no_grad()
def cmd_reencode(a):
    "A copy of set SRC whose latents are the VAE posterior means (x scaling factor) of its decoded PNG images, as the pretraining data were made, instead of the sampler's final latents."
    from PIL import Image
    from mi_nb.build_set import records
    from mi_nb.core import load_tensors
    src, out = a.root / 'sets' / a.src, a.root / 'sets' / a.name
    if (out / 'set.json').exists(): log('exists', out); return 0
    pipe = load_pipeline(a.model); sf = float(pipe.vae.config.scaling_factor)
    gap = []
    for r in records(src):
        t = load_tensors(src / 'records' / f"{r['key']}.safetensors")
        ims = np.stack([np.asarray(Image.open(src / f).convert('RGB')) for f in r['files']])
        lat = encode_images(pipe.vae, ims) * sf
        gap.append(float((lat - t['latents']).pow(2).mean()))
        save_record(out, r, {**t, 'latents': lat.float()})
    info = json.loads((src / 'set.json').read_text())
    write_identity(out, {**info, 'reencoded_from': str(src), 'command': command_line()})
    log(f'{out}: {len(gap)} records re-encoded; mean squared gap sampler latent vs re-encoded {np.mean(gap):.4f}')
    return 0


# ---------------------------------------------------------------- evaluation and pairing
def eval_prompts(split): return lab_prompts(split)


def parse_spec(spec: str):
    "SPLIT:IMAGES:SEED[:GUIDANCE] -> (split, n, seed, sampling overrides, file tag)."
    f = spec.split(':')
    kw = dict(guidance_scale=float(f[3])) if len(f) > 3 else {}
    return f[0], int(f[1]), int(f[2]), kw, f'{f[0]}-n{f[1]}-s{f[2]}' + (f'-g{f[3]}' if len(f) > 3 else '')


def base_records(root, model, split, n, seed, sampling=None, tag=None):
    "The base model's (`model`'s) records on `split` (cached under `root`, which holds one model's results: see `check_model`)."
    import pandas as pd
    f = root / 'base' / f'records-{tag or f"{split}-n{n}-s{seed}"}.csv'
    if f.exists(): return pd.read_csv(f)
    t0 = time.time()
    recs, _ = evaluate(load_pipeline(model), eval_prompts(split), n, seed, batch_size=64, progress=False, **(sampling or {}))
    f.parent.mkdir(parents=True, exist_ok=True); recs.to_csv(f, index=False)
    log(f'base {split} n={n} seed={seed}: {recs.correct.mean():.4f} ({time.time() - t0:.0f}s)')
    return recs


def paired(base, tuned, boot: int = 10000, seed: int = 0) -> dict:
    "Per category and overall: base and tuned accuracy, tuned - base, and a bootstrap 95% interval over prompts (same images)."
    assert (base.prompt.to_numpy() == tuned.prompt.to_numpy()).all() and (base.seed.to_numpy() == tuned.seed.to_numpy()).all()
    b = base.groupby('prompt', sort=False).correct.mean(); t = tuned.groupby('prompt', sort=False).correct.mean()
    cat = base.groupby('prompt', sort=False).category.first()
    d = (t - b)
    rng = np.random.default_rng(seed)
    out = {}
    for c in [*[c for c in CATEGORIES if c in set(cat)], 'overall']:
        m = (cat == c).to_numpy() if c != 'overall' else np.ones(len(cat), bool)
        dc = d.to_numpy()[m]
        idx = rng.integers(0, len(dc), (boot, len(dc)))
        bs = dc[idx].mean(1)
        sel = tuned[tuned.category == c] if c != 'overall' else tuned
        out[c] = dict(base=float(b.to_numpy()[m].mean()), tuned=float(t.to_numpy()[m].mean()), change=float(dc.mean()),
                      lo=float(np.percentile(bs, 2.5)), hi=float(np.percentile(bs, 97.5)), prompts=int(m.sum()),
                      images=int(len(sel)), clean=float(sel.clean.mean()),
                      base_clean=float((base[base.category == c] if c != 'overall' else base).clean.mean()))
    return out


# ---------------------------------------------------------------- training
def recipe(a) -> FinetuneConfig:
    """The FinetuneConfig of an arm: the lab preset (LAB_FINETUNE, once `FinetuneConfig.lab()`) overridden by the options
    given. The validation settings (--val-prompts/--val-images/--val-seed) are no longer FinetuneConfig fields: see `validation`."""
    tg = TARGETS[a.targets] if a.targets in TARGETS else tuple(a.targets.split(','))
    kw = dict(max_steps=a.steps, lr=a.lr, rank=a.rank, alpha=a.alpha if a.alpha is not None else float(a.rank), targets=tg,
              uncond_prob=a.uncond, batch_size=a.batch, seed=a.seed, lr_scheduler=a.lr_scheduler, warmup_steps=a.warmup,
              adapter=a.adapter if a.adapter != 'full' else 'dora', weight_decay=a.weight_decay,
              val_every=a.val_every, ckpt_every=a.val_every or 25, snr_gamma=a.snr_gamma)
    if a.library:  # the library does what this script's loop does by hand: full fine-tuning, the text encoder, EMA, checkpoint 0
        kw.update(adapter=a.adapter, train_text_encoder=a.train_te, text_encoder_lr=a.te_lr, ema_decay=a.ema, base_eligible=a.ckpt0,
                  sampling='weighted' if a.balance != 'none' else 'epochs')  # --balance: the set's records weighed (weigh_categories)
    return FinetuneConfig(**{**LAB_FINETUNE, **kw})


def validation(a) -> dict:
    "The checkpoint-selection validation of an arm (oracle accuracy on val prompts x images, fixed seed), as recorded in result.json."
    return dict(prompts=a.val_prompts, images=a.val_images, seed=a.val_seed, every=a.val_every)


def item_weights(ds, how: str) -> torch.Tensor:
    "Sampling weight of each item of `ds` so that the categories are drawn with the pretraining mix (or equal shares), uniform within a category: the weights `weigh_categories` gives its records."
    from mi_nb.build_set import records
    weigh_categories(ds.path, None if how == 'pretrain' else {c: 1.0 for c in CATEGORIES})
    w = {r['key']: r['weight'] for r in records(ds.path)}
    return torch.tensor([w[ds.names[r]] for r, _ in ds.items], dtype=torch.float64)


def train_arm(pipe, ds, cfg: FinetuneConfig, a, outdir: Path) -> dict:
    """This script's loop: the library's pieces (add_adapter, batch_indices, drop_prompts, denoise_loss), the same seeds as
    `finetune`, plus options the library lacked when it was written: EMA of the trained weights (`mi_nb.adapter.EMA`),
    a full-UNet mode, text-encoder training, category-balanced batches, the untuned model as an eligible checkpoint 0,
    and validation on any number of val prompts. Leaves the selected weights in `pipe.unet`."""
    from diffusers import DDPMScheduler
    from diffusers.optimization import get_scheduler
    unet = pipe.unet
    if a.adapter == 'full':
        unet.requires_grad_(True); params = list(unet.parameters())
        named = list(unet.named_parameters())
        groups = [dict(params=[p for n, p in named], weight_decay=cfg.weight_decay)]
    else:
        params = add_adapter(unet, lora_config(cfg.adapter, cfg.rank, cfg.alpha, cfg.dropout, cfg.targets), cfg.seed)
        named = [(n, p) for n, p in unet.named_parameters() if p.requires_grad]
        groups = [dict(params=[p for n, p in named if 'magnitude' not in n], weight_decay=cfg.weight_decay),
                  dict(params=[p for n, p in named if 'magnitude' in n], weight_decay=0.0)]
    te_ids = None
    if a.train_te:  # the text encoder is trained too (fully: it is tiny); embeddings are recomputed from token ids
        from mi_nb.build_set import records
        from mi_nb.lab.train import tokenize
        te = pipe.text_encoder; te.requires_grad_(True)
        te_params = list(te.parameters())
        groups.append(dict(params=te_params, weight_decay=cfg.weight_decay, lr=a.te_lr or cfg.lr))
        params = params + te_params
        prompt = {r['key']: r['prompt'] for r in records(ds.path)}
        te_ids = tokenize(pipe.tokenizer, [prompt[n] for n in ds.names])
        empty_ids = tokenize(pipe.tokenizer, [''])[0]
    opt = torch.optim.AdamW([g for g in groups if g['params']], lr=cfg.lr)
    lr_sched = get_scheduler(cfg.lr_scheduler, opt, num_warmup_steps=cfg.warmup_steps, num_training_steps=cfg.max_steps)
    noise_sched = DDPMScheduler.from_config(pipe.scheduler.config)
    null = empty_prompt_cond(pipe) if cfg.uncond_prob > 0 else None
    ema = EMA(params, a.ema) if a.ema else None
    snap = lambda: [p.detach().clone() for p in params]
    val_ps = lab_prompts('val') if a.val_prompts >= len(lab_prompts('val')) else lab_val_prompts(a.val_prompts)
    val_rows, losses, best = [], [], None

    def validate(step):
        unet.eval(); pipe.text_encoder.eval()
        with ema.applied() if ema is not None else nullcontext():
            recs, _ = evaluate(pipe, val_ps, a.val_images, a.val_seed, batch_size=64, progress=False)
            state = snap()
        unet.train()
        s = summarize(recs)
        row = dict(step=step, accuracy=s['overall']['accuracy'], clean=s['overall']['clean'],
                   **{f'acc_{c}': v['accuracy'] for c, v in s.items() if c != 'overall'},
                   train_loss=float(np.mean(losses[-cfg.val_every:])) if losses else None)
        val_rows.append(row); log(f'  val step {step}: {row["accuracy"]:.4f}')
        return row, state

    weights = item_weights(ds, a.balance) if a.balance != 'none' else None
    def indices(s):
        if weights is None: return batch_indices(len(ds), s, 0, cfg.batch_size, 1, 0, 1, cfg.seed)
        g = torch.Generator().manual_seed(derive_seed(cfg.seed, 'balanced-batch', s))
        return torch.multinomial(weights, cfg.batch_size, replacement=True, generator=g).tolist()
    t0 = time.time()
    select = cfg.val_every > 0
    if select and a.ckpt0:
        row, st = validate(0); best = (row['accuracy'], 0, st)
    unet.train()
    for s in range(cfg.max_steps):
        idx = indices(s)
        b = ds.batch(idx)
        g = torch.Generator().manual_seed(derive_seed(cfg.seed, 'noise', s, 0, 0))
        if te_ids is not None:
            ids = te_ids[[ds.items[i][0] for i in idx]]
            if cfg.uncond_prob > 0:
                drop = torch.rand(len(ids), generator=g) < cfg.uncond_prob
                ids = torch.where(drop[:, None], empty_ids[None], ids)
            pipe.text_encoder.train()
            b['prompt_embeds'] = pipe.text_encoder(ids)[0]
        elif null is not None: b = drop_prompts(b, null, cfg.uncond_prob, g)
        torch.manual_seed(derive_seed(cfg.seed, 'dropout', s, 0, 0))
        loss = denoise_loss(unet, noise_sched, b, g, cfg.snr_gamma, cfg.noise_offset, unet.dtype)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip or float('inf'))
        opt.step(); lr_sched.step(); opt.zero_grad(set_to_none=True)
        if ema is not None: ema.update()
        losses.append(loss.item())
        step = s + 1
        if step % 50 == 0: log(f'  step {step} loss {np.mean(losses[-50:]):.4f} ({time.time() - t0:.0f}s)')
        if select and (step % cfg.val_every == 0 or step == cfg.max_steps):
            row, st = validate(step)
            if best is None or row['accuracy'] > best[0]: best = (row['accuracy'], step, st)
    train_s = time.time() - t0
    atomic_write_json(outdir / 'train_loss.json', losses)
    unet.eval()
    if best is not None:
        with torch.no_grad():
            for p, v in zip(params, best[2]): p.copy_(v)
        chosen = best[1]
    else:
        if ema is not None: ema.copy_to(params)
        chosen = cfg.max_steps
    pipe.text_encoder.eval()
    if a.train_te: save_tensors({k: v.detach() for k, v in pipe.text_encoder.state_dict().items()}, outdir / 'text_encoder.safetensors')
    if a.adapter != 'full': save_adapter(pipe, outdir / 'adapter')
    else: save_tensors({k: v.detach() for k, v in unet.state_dict().items()}, outdir / 'unet.safetensors')
    return dict(selected_step=chosen, selected_by='validation' if best is not None else 'last update' + (' (EMA)' if ema else ''),
                val_log=val_rows, train_seconds=round(train_s, 1), final_loss=float(np.mean(losses[-25:])),
                loss_first25=float(np.mean(losses[:25])), items=len(ds), trainable=int(sum(p.numel() for p in params)))


def cmd_arm(a):
    import pandas as pd
    out = a.root / 'arms' / a.name
    res_f = out / 'result.json'
    if res_f.exists() and not a.force: log('done already', res_f); return 0
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(derive_seed(a.seed, 'arm'))
    t0 = time.time()
    pipe = load_pipeline(a.model)
    data = a.root / 'sets' / a.data
    cfg = recipe(a)
    if a.library:  # the project's own finetune(), exactly as the colleague ran it (its lab validation, now a callable)
        lib_out = out / 'finetune'
        if a.balance != 'none': weigh_categories(data, None if a.balance == 'pretrain' else {c: 1.0 for c in CATEGORIES})
        info = finetune(pipe, data, lib_out, cfg, validate=oracle_validator(a.val_prompts, a.val_images, a.val_seed),
                        resume=True, base_model=f'mi_nb lab model {a.fingerprint}', progress=False)
        tr = dict(selected_step=info['selected_step'], selected_by=info['selected_by'], train_seconds=info['seconds'],
                  final_loss=info['final_loss'], items=info['items'], val_base=info.get('val_base'),
                  val_selected=info.get('val_selected'), val_last=info.get('val_last'))
    else:
        ds = SynthSet(data)
        tr = train_arm(pipe, ds, cfg, a, out)
    log(f'{a.name}: trained, selected update {tr["selected_step"]} ({tr["selected_by"]}), {tr["train_seconds"]:.0f}s')
    evals = {}
    for spec in a.eval:
        split, n, seed, kw, tag = parse_spec(spec)
        base = base_records(a.root, a.model, split, n, seed, kw, tag)
        te = time.time()
        recs, _ = evaluate(pipe, eval_prompts(split), n, seed, batch_size=64, progress=False, **kw)
        recs.to_csv(out / f'records-{tag}.csv', index=False)
        pr = paired(base, recs)
        evals[spec] = dict(split=split, n=n, seed=seed, sampling={**LAB_SAMPLING, **kw}, paired=pr, seconds=round(time.time() - te, 1))
        o = pr['overall']
        log(f'{a.name} {spec}: base {o["base"]:.4f} tuned {o["tuned"]:.4f} change {100 * o["change"]:+.1f} '
            f'[{100 * o["lo"]:+.1f}, {100 * o["hi"]:+.1f}] clean {o["clean"]:.3f} | ' +
            ' '.join(f'{c} {100 * pr[c]["change"]:+.1f}' for c in CATEGORIES if c in pr))
    if a.library and tr['selected_step'] != cfg.max_steps and (out / 'finetune' / 'last').exists() and a.eval_last:
        p2 = load_pipeline(a.model); load_tuned(p2, out / 'finetune' / 'last')
        for spec in a.eval:
            split, n, seed = spec.split(':'); n, seed = int(n), int(seed)
            recs, _ = evaluate(p2, eval_prompts(split), n, seed, batch_size=64, progress=False)
            recs.to_csv(out / f'records-last-{split}-n{n}-s{seed}.csv', index=False)
            pr = paired(base_records(a.root, a.model, split, n, seed), recs)
            evals[spec + ':last'] = dict(split=split, n=n, seed=seed, paired=pr, checkpoint='last')
            o = pr['overall']
            log(f'{a.name} {spec} (last update): change {100 * o["change"]:+.1f} [{100 * o["lo"]:+.1f}, {100 * o["hi"]:+.1f}]')
    res = dict(name=a.name, note=a.note, command=command_line(), model=dict(path=str(a.model), fingerprint=a.fingerprint),
               data=str(data), set_info=json.loads((data / 'set.json').read_text()), recipe=asdict(cfg), validation=validation(a),
               extra=dict(library=a.library, adapter=a.adapter, ema=a.ema, ckpt0=a.ckpt0, balance=a.balance, train_te=a.train_te, te_lr=a.te_lr), training=tr, evals=evals,
               wall_seconds=round(time.time() - t0, 1))
    atomic_write_json(res_f, res)
    return 0


# ---------------------------------------------------------------- table
def top_share_line(rows, scores: dict, fractions=(0.05, 0.1, 0.3)) -> str:
    "How often the oracle calls correct the candidates each self-score ranks highest over the whole pool (not per prompt): a set built by a threshold."
    correct = np.array([r['correct'] for r in rows], dtype=float)
    by = {'trajectory': np.array([r['trajectory'] for r in rows]), **{s: np.array([v[r['key']][r['rank']] for r in rows]) for s, v in scores.items()}}
    def share(v, q): return correct[np.argsort(-v, kind='stable')[:max(1, int(q * len(v)))]].mean()
    return ('Oracle-correct share of the pool\'s top ' + ' / '.join(f'{100 * q:g}%' for q in fractions) + ' by each score (one threshold over all prompts): '
            + '; '.join(f"{s} {' / '.join(f'{100 * share(v, q):.0f}%' for q in fractions)}" for s, v in by.items()) + '.\n')


def arm_val_log(r: dict, root: Path) -> list:
    "The validations an arm's selection saw: its own loop's log, or the library's val_log.csv (--library arms)."
    if r['training'].get('val_log'): return r['training']['val_log']
    f = root / 'arms' / r['name'] / 'finetune' / 'val_log.csv'
    return [dict(step=int(x['step']), accuracy=float(x['accuracy'])) for x in pd_read(f)] if f.exists() else []


def pd_read(f: Path) -> list:
    import csv
    with open(f, newline='') as fh: return list(csv.DictReader(fh))


def cmd_table(a):
    rows = []
    arms = sorted((a.root / 'arms').glob(f'{a.arms}/result.json'), key=lambda p: p.stat().st_mtime)
    for f in arms:
        r = json.loads(f.read_text())
        for spec, ev in r['evals'].items():
            pr = ev['paired']; o = pr['overall']
            cats = ' / '.join(f'{100 * pr[c]["change"]:+.1f}' for c in CATEGORIES if c in pr)
            rows.append(f"| {r['name']}{' (last)' if spec.endswith(':last') else ''} | {r['note']} | {ev['split']} {o['prompts']}x{ev['n']} s{ev['seed']}{' g' + str(ev['sampling']['guidance_scale']) if ev.get('sampling', LAB_SAMPLING) != LAB_SAMPLING else ''} "
                        f"| {100 * o['base']:.1f} | {100 * o['tuned']:.1f} | {100 * o['change']:+.1f} [{100 * o['lo']:+.1f}, {100 * o['hi']:+.1f}] "
                        f"| {cats} | {100 * o['clean']:.1f} | {r['training']['selected_step']} | {r['wall_seconds']:.0f} |")
    head = ('| arm | what it trains on | eval (prompts x images, seed) | base % | tuned % | change, points [95% CI] | '
            'single / binding / spatial / counting | clean % | selected update | wall s |\n|' + '---|' * 10)
    text = head + '\n' + '\n'.join(rows) + '\n'
    vals = [{**r, 'training': {**r['training'], 'val_log': arm_val_log(r, a.root)}} for r in (json.loads(f.read_text()) for f in arms)]
    vals = [r for r in vals if r['training']['val_log']]
    if vals:  # the selection's view: oracle accuracy on val (its prompts, its image seed) at every validated update
        steps = sorted({v['step'] for r in vals for v in r['training']['val_log']})
        text += ('\nValidation accuracy (%) at each validated update, the numbers the selection saw (val prompts x images, image seed of '
                 'each arm\'s validation; update 0 is the untuned model):\n\n| arm | ' + ' | '.join(map(str, steps)) + ' | selected |\n|' + '---|' * (len(steps) + 2) + '\n')
        for r in vals:
            acc = {v['step']: v['accuracy'] for v in r['training']['val_log']}
            text += f"| {r['name']} | " + ' | '.join(f'{100 * acc[t]:.1f}' if t in acc else '-' for t in steps) + f" | {r['training']['selected_step']} |\n"
    subs = sorted((a.root / 'sets').glob('*/subset.json'))
    if subs:  # what each selection kept, and how often the oracle calls it correct
        text += '\nThe selections (from their pools):\n\n| set | pool | method | k | prompts | items | oracle-correct share |\n|---|---|---|---|---|---|---|\n'
        for f in subs:
            r = json.loads(f.read_text()); c = r.get('correct')
            text += f"| {f.parent.name} | {Path(r['pool']).name} | {r['method']} | {r['k']} | {r['prompts']} | {r['items']} | {'-' if c is None else f'{c:.3f}'} |\n"
    from mi_nb.lab.compare import ranking_aucs
    for pool in sorted((a.root / 'pools').glob('*/pool-rows.json')):
        sc = {f.stem[len('scores-'):]: json.loads(f.read_text()) for f in sorted(pool.parent.glob('scores-*.json'))}
        au = ranking_aucs(json.loads(pool.read_text()), sc)
        text += (f"\nPool {pool.parent.name}: {au['candidates']} candidates, {100 * au['correct']:.1f}% oracle-correct; within-prompt ROC AUC for "
                 f"oracle-correct candidates over the {au['prompts_with_both']} prompts with both kinds: "
                 + ', '.join(f'{k} {v:.3f}' for k, v in au['auc'].items()) + '.\n')
        text += top_share_line(json.loads(pool.read_text()), sc)
    atomic_write_text(a.root / a.out, text)
    print(text)
    return 0


def command_line() -> str:
    return 'python tools/ceiling_ablation.py ' + ' '.join(shlex.quote(x) for x in sys.argv[1:])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--root', type=Path, default=ROOT)
    p.add_argument('--model', type=Path, default=lab_weights_dir(),
                   help="the lab pipeline folder to measure (default: the package's shipped weights)")
    sub = p.add_subparsers(dest='cmd', required=True)
    g = sub.add_parser('gtset'); g.add_argument('name'); g.add_argument('--prompts', default='48')
    g.add_argument('--renders', type=int, default=1); g.add_argument('--seed', type=int, default=0); g.set_defaults(func=cmd_gtset)
    g = sub.add_parser('pool'); g.add_argument('name'); g.add_argument('--prompts', default='all')
    g.add_argument('--candidates', type=int, default=16); g.add_argument('--seed', type=int, default=0)
    g.add_argument('--guidance', type=float, default=LAB_POOL_GUIDANCE, help='guidance of the candidates (the comparison: %(default)s)')
    g.add_argument('--batch-size', type=int, default=32); g.set_defaults(func=cmd_pool)
    g = sub.add_parser('gtmatch'); g.add_argument('name'); g.add_argument('--like', required=True); g.add_argument('--gt', required=True)
    g.set_defaults(func=cmd_gtmatch)
    g = sub.add_parser('poolscores'); g.add_argument('pool'); g.add_argument('--score', choices=['pmi', 'contrastive', 'renoise'], default='pmi')
    g.add_argument('--draws', type=int, default=16); g.add_argument('--seed', type=int, default=0); g.set_defaults(func=cmd_poolscores)
    g = sub.add_parser('subset'); g.add_argument('name'); g.add_argument('--pool', required=True)
    g.add_argument('--method', choices=['oracle', 'mi', 'random', 'pmi', 'contrastive', 'mi_renoise'], required=True,
                   help='pmi, contrastive, mi_renoise: run poolscores first'); g.add_argument('--k', type=int, default=1)
    g.add_argument('--seed', type=int, default=0); g.set_defaults(func=cmd_subset)
    g = sub.add_parser('reencode'); g.add_argument('name'); g.add_argument('--src', required=True); g.set_defaults(func=cmd_reencode)
    g = sub.add_parser('base'); g.add_argument('--split', default='val'); g.add_argument('--n', type=int, default=4)
    g.add_argument('--seed', type=int, default=0)
    g.set_defaults(func=lambda a: (base_records(a.root, a.model, a.split, a.n, a.seed), 0)[1])
    g = sub.add_parser('arm'); g.add_argument('name'); g.add_argument('--data', required=True)
    g.add_argument('--note', default='')
    g.add_argument('--library', action='store_true', help="train with mi_nb.finetune.finetune (the project's loop)")
    g.add_argument('--eval-last', action='store_true', help='--library: also evaluate the last update when another was selected')
    g.add_argument('--steps', type=int, default=150); g.add_argument('--lr', type=float, default=1e-4)
    g.add_argument('--rank', type=int, default=8); g.add_argument('--alpha', type=float, default=None, help='default: = rank')
    g.add_argument('--targets', default='attn', help=f'{list(TARGETS)} or a comma list')
    g.add_argument('--adapter', choices=['dora', 'lora', 'full'], default='dora')
    g.add_argument('--uncond', type=float, default=0.0); g.add_argument('--batch', type=int, default=32)
    g.add_argument('--lr-scheduler', default='constant'); g.add_argument('--warmup', type=int, default=0)
    g.add_argument('--weight-decay', type=float, default=1e-2); g.add_argument('--snr-gamma', type=float, default=None)
    g.add_argument('--balance', choices=['none', 'pretrain', 'uniform'], default='none',
                   help='draw batches with replacement so that categories follow the pretraining mix (or equal shares); none: epochs over items. '
                        'With --library: the set\'s records are weighed (mi_nb.lab.compare.weigh_categories) and drawn with sampling=\'weighted\'')
    g.add_argument('--train-te', action='store_true', help='also train the text encoder (all of its weights)')
    g.add_argument('--te-lr', type=float, default=None, help='text-encoder learning rate (default: --lr)')
    g.add_argument('--ema', type=float, default=0.0, help='EMA decay of the trained weights; 0: off')
    g.add_argument('--val-every', type=int, default=0, help='validate (and select the best) every this many updates; 0: last update')
    g.add_argument('--val-prompts', type=int, default=16, help='val prompts (>= 109: the whole val split)')
    g.add_argument('--val-images', type=int, default=4); g.add_argument('--val-seed', type=int, default=0)
    g.add_argument('--ckpt0', action='store_true', help='the untuned model is an eligible checkpoint 0')
    g.add_argument('--seed', type=int, default=0)
    g.add_argument('--eval', nargs='+', default=['val:4:0'], help='SPLIT:IMAGES:SEED ...')
    g.add_argument('--force', action='store_true')
    g.set_defaults(func=cmd_arm)
    g = sub.add_parser('table'); g.add_argument('--arms', default='*', help="the arms' folder names, a glob (default: all)")
    g.add_argument('--out', default='table.md', help='file name under --root'); g.set_defaults(func=cmd_table)
    a = p.parse_args(argv)
    if a.cmd not in ('subset', 'table'): check_model(a)  # the others load the model
    return a.func(a)


if __name__ == '__main__':
    sys.exit(main())

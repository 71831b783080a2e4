"""Per-stage time and peak GPU memory of the tutorials' stages (chapters 30 and 31) on the real architectures of
SD-2.1-base, SDXL-base-1.0 and SD3.5-medium, with random weights (no download): once under a 14.7 GiB cap in fp16,
standing in for a Colab T4, and once uncapped in the GPU's own half precision. Writes gpu_real.json and gpu_real.md
to --out; `bash tools/gpu_real.sh` runs it (see there). --tiny runs the same stages on the tiny pipelines on a CPU."""
import argparse, json, platform, shutil, tempfile, time, warnings
from dataclasses import replace
from pathlib import Path
import torch

PROMPTS = ['a red apple and a green book', 'a blue car and a yellow bench', 'a white cat and a brown dog',
           'a pink cup and a black bowl']
T4_GIB = 15_828_320_256 / 2**30   # what torch reports for a Colab T4


def sizes(tiny: bool) -> dict:
    "How much each stage does: candidates, steps, evaluation images, fine-tuning updates."
    if tiny: return dict(prompts=2, candidates=3, steps=3, eval_images=2, eval_steps=3, updates=2)
    return dict(prompts=1, candidates=8, steps=10, eval_images=4, eval_steps=10, updates=3)


def build_pipeline(family: str, tiny: bool, device: str, dtype):
    "A random-weight pipeline: the tiny fixture, or the real architecture built on `device` in `dtype`."
    from mi_nb.fixtures import tiny_sd_pipeline, tiny_sdxl_pipeline, tiny_sd3_pipeline, real_architecture
    if tiny:
        return {'sd': tiny_sd_pipeline, 'sdxl': tiny_sdxl_pipeline, 'sd3': tiny_sd3_pipeline}[family](max_length=77)
    return real_architecture(family, device=device, dtype=dtype)


class Meter:
    "Times a stage and reads its peak GPU memory; collects the rows."
    def __init__(self, family: str, setting: str, rows: list):
        self.family, self.setting, self.rows = family, setting, rows

    def __call__(self, stage: str, work: str, fn, estimate: float | None = None):
        cuda = torch.cuda.is_available()
        if cuda: torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        out = fn()
        if cuda: torch.cuda.synchronize()
        row = dict(family=self.family, setting=self.setting, stage=stage, work=work,
                   seconds=round(time.perf_counter() - t0, 2),
                   estimate_s=None if estimate is None else round(estimate, 2),
                   peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None)
        self.rows.append(row); print(json.dumps(row), flush=True)
        return out


def stage_estimate(family: str, g, images: int, steps: int) -> float:
    "The plan's estimate (chapter 16) of `images` x `steps` CFG denoising steps of `family` on `g`."
    from mi_nb.plan import FAMILY_COSTS
    return images * steps * FAMILY_COSTS[family].step_tflop / g.tflops


def run_stages(pipe, family: str, g, plan, n: dict, work: Path, meter: Meter) -> None:
    """The tutorial's stages on `pipe`: first prompts' set, decoding, evaluation with scoring, fine-tuning,
    load_lora_weights."""
    from diffusers import DDPMScheduler, DDIMScheduler
    from mi_nb.build_set import BuildConfig, build_set, decode_latents
    from mi_nb.core import load_tensors
    from mi_nb.finetune import FinetuneConfig, finetune
    from mi_nb.adapter import remove_adapter
    from mi_nb.mi import denoiser
    from mi_nb.evaluate import generate_samples, score_samples
    from mi_nb.fixtures import tiny_blip_vqa, tiny_clip
    if family != 'sd3': pipe.scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    cfg = BuildConfig(candidates=n['candidates'], keep=2, num_inference_steps=n['steps'])
    prompts = PROMPTS[:n['prompts']]
    meter('build-set', f"{len(prompts)} prompt(s) x {n['candidates']} x {n['steps']} steps, {plan.chunk} per call",
          lambda: build_set(pipe, prompts, work / 'set', cfg, plan.chunk, model_id=family, progress=False),
          stage_estimate(family, g, len(prompts) * n['candidates'], n['steps']))
    lat = next(load_tensors(f) for f in sorted((work / 'set' / 'records').glob('*.safetensors')))['latents']
    meter('decode', f'{len(lat)} images, one at a time', lambda: decode_latents(pipe, lat, batch_size=1))
    if family != 'sd3': pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
    gen = lambda: generate_samples(pipe, prompts[:1], work / 'eval', n['eval_images'], batch_size=plan.chunk,
                                   num_inference_steps=n['eval_steps'], guidance_scale=7.5)
    meter('eval-generate', f"{n['eval_images']} images x {n['eval_steps']} steps", gen,
          stage_estimate(family, g, n['eval_images'], n['eval_steps']))
    scorers = {'blip-vqa': tiny_blip_vqa(), 'clipscore': tiny_clip()}  # tiny: the real scorers need a download
    meter('eval-score', 'BLIP-VQA and CLIPScore (tiny random scorers, CPU)',
          lambda: [score_samples(work / 'eval', m, s, image_size=64) for m, s in scorers.items()])
    if family != 'sd3': pipe.scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    tune = FinetuneConfig(adapter='dora' if family != 'sd3' else 'lora', batch_size=plan.micro_batch, grad_accum=1,
                          max_steps=n['updates'], ckpt_every=n['updates'], val_every=0,
                          gradient_checkpointing=plan.checkpointing)
    meter('finetune', f"{n['updates']} updates x {plan.micro_batch} images"
          f"{', gradient checkpointing' if plan.checkpointing else ''}",
          lambda: finetune(pipe, work / 'set', work / 'adapter', tune, progress=False))
    def reload():
        remove_adapter(denoiser(pipe)); pipe.load_lora_weights(str(work / 'adapter'))
    meter('load_lora_weights', 'the adapter into the same pipeline', reload)


def setting_run(family: str, setting: str, pipe, g, tiny: bool, rows: list) -> None:
    "One setting of one family: the plan for `g`, its memory settings applied to `pipe`, the stages."
    from mi_nb.plan import make_plan
    plan, n = make_plan(family, g), sizes(tiny)
    if torch.cuda.is_available():  # placed as the plan says: every model on the GPU, or model CPU offload
        if plan.offload: pipe.to('cpu'); pipe.enable_model_cpu_offload()
        else: pipe.to('cuda')
    work = Path(tempfile.mkdtemp(prefix=f'gpu-real-{family}-{setting}-'))
    meter = Meter(family, setting, rows)
    rows.append(dict(family=family, setting=setting, stage='plan', work=f'offload {plan.offload}, chunk {plan.chunk}, '
                     f'micro-batch {plan.micro_batch}, checkpointing {plan.checkpointing}, '
                     f'dtype {str(plan.dtype).replace("torch.", "")}', seconds=None, estimate_s=None, peak_gib=None))
    try: run_stages(pipe, family, g, plan, n, work, meter)
    except torch.cuda.OutOfMemoryError as e:  # recorded, not fatal: the next setting or family still runs
        rows.append(dict(family=family, setting=setting, stage='OOM', work=str(e)[:200], seconds=None,
                         estimate_s=None, peak_gib=None))
    finally:  # the pipeline back as it was: no adapter, no offload hooks
        from mi_nb.adapter import remove_adapter
        from mi_nb.mi import denoiser
        shutil.rmtree(work, ignore_errors=True)
        remove_adapter(denoiser(pipe)); pipe.unload_lora_weights(); pipe.remove_all_hooks()


def family_run(family: str, tiny: bool, rows: list) -> None:
    "Both settings of `family`: uncapped in the GPU's half precision, then capped at a T4's memory in fp16."
    from mi_nb.machine import default_dtype, half_dtype
    from mi_nb.plan import gpu, gpu_profile, T4
    cuda = torch.cuda.is_available()
    dev = 'cuda' if cuda else 'cpu'
    native = gpu_profile() if cuda else T4
    t0 = time.perf_counter()
    pipe = build_pipeline(family, tiny, dev, default_dtype(dev))
    rows.append(dict(family=family, setting='-', stage='build random weights', work=family, peak_gib=None,
                     seconds=round(time.perf_counter() - t0, 1), estimate_s=None))
    setting_run(family, 'uncapped', pipe, native, tiny, rows)
    t4 = gpu(f'{native.name} capped at {T4_GIB:.1f} GiB', T4_GIB, (7, 5))  # a T4's memory and precision (fp16)
    pipe.to(device='cpu', dtype=half_dtype((7, 5)) if cuda else torch.float32)
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.set_per_process_memory_fraction(T4_GIB * 2**30 / torch.cuda.get_device_properties(0).total_memory)
    try: setting_run(family, 't4-cap', pipe, replace(t4, tflops=native.tflops, rate_source=native.rate_source),
                     tiny, rows)
    finally:
        if cuda: torch.cuda.set_per_process_memory_fraction(1.0)
        del pipe
        if cuda: torch.cuda.empty_cache()


def markdown(rows: list, device: str) -> str:
    "The rows as a markdown table, with the device named."
    lines = [f'# Stages of the tutorials on random-weight real architectures\n\ndevice: {device}\n',
             '| family | setting | stage | work | seconds | plan estimate (s) | peak GiB |',
             '|---|---|---|---|---|---|---|']
    fmt = lambda v: '-' if v is None else str(v)
    lines += [f"| {r['family']} | {r['setting']} | {r['stage']} | {r['work']} | {fmt(r['seconds'])} | "
              f"{fmt(r['estimate_s'])} | {fmt(r['peak_gib'])} |" for r in rows]
    return '\n'.join(lines) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default='runs/gpu_real'); ap.add_argument('--tiny', action='store_true')
    ap.add_argument('--families', default='sd,sdxl,sd3')
    a = ap.parse_args()
    warnings.filterwarnings('ignore')
    import diffusers, transformers
    diffusers.utils.logging.set_verbosity_error(); transformers.logging.set_verbosity_error()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f'CPU ({platform.processor() or "x86-64"})'
    rows, t0 = [], time.perf_counter()
    for family in a.families.split(','):
        family_run(family, a.tiny, rows)
        meta = dict(device=device, torch=torch.__version__, diffusers=diffusers.__version__, tiny=a.tiny,
                    seconds=round(time.perf_counter() - t0, 1))
        (out / 'gpu_real.json').write_text(json.dumps(dict(meta, rows=rows), indent=1))  # after each family
        (out / 'gpu_real.md').write_text(markdown(rows, device))
    print(f'{len(rows)} rows in {time.perf_counter() - t0:.0f} s; wrote {out}/gpu_real.json and gpu_real.md')


if __name__ == '__main__':
    main()

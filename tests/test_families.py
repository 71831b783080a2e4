"""Every model family end to end on tiny random-weight pipelines built offline from the real classes (chapter 19):
SD 1.x-style (epsilon), SD-2-v-style (v-prediction), SDXL and SD3 (rectified flow, RFMI). Tiny pipeline -> MI-scored
candidates -> set -> a few fine-tuning updates -> `load_lora_weights` on a fresh pipeline loaded from disk, which
changes its output and equals the in-memory tuned model. And RFMI on SD3 against a plain loop, with the transformer's
calls counted."""
import json
import pytest
import torch
from conftest import ROOT

PROMPTS = ['a red circle', 'two blue squares', 'a green triangle above a yellow square']
FAMILIES = {'sd': ('tiny_sd_pipeline', {}), 'sd2-v': ('tiny_sd_pipeline', {'prediction_type': 'v_prediction'}),
            'sdxl': ('tiny_sdxl_pipeline', {}), 'sd3': ('tiny_sd3_pipeline', {})}

def _tiny(family):
    import mi_nb.fixtures as fx
    name, kw = FAMILIES[family]
    return getattr(fx, name)(**kw)

def _latents(pipe, seed=0):
    "Final latents of one short stock pipeline call (the whole denoiser path, adapter included)."
    with torch.no_grad():
        return pipe('a red circle', num_inference_steps=3, guidance_scale=5.0,
                    generator=torch.Generator().manual_seed(seed), output_type='latent').images

@pytest.mark.parametrize('family', list(FAMILIES))
def test_family_end_to_end(family, tmp_path):
    from mi_nb.core import load_pipeline, quiet_loading, load_tensors, pipeline_family
    from mi_nb.build_set import build_set, BuildConfig, records
    from mi_nb.finetune import finetune, FinetuneConfig
    torch.set_num_threads(1)
    with quiet_loading(): _tiny(family).save_pretrained(str(tmp_path / 'model'))
    pipe = load_pipeline(tmp_path / 'model')
    assert pipeline_family(pipe) == {'sd2-v': 'sd'}.get(family, family)  # read from the pipeline's class
    # MI-scored candidates -> the set (3 candidates per prompt, the best kept)
    cfg = BuildConfig(candidates=3, keep=1, seed=0, num_inference_steps=3, guidance_scale=5.0)
    r = build_set(pipe, PROMPTS, tmp_path / 'set', cfg, batch_size=4, model_id='tiny', progress=False)
    assert r['images'] == 3
    for rec in records(tmp_path / 'set'):
        assert len(rec['scores']) == 3 and all(map(lambda s: s == s, rec['scores']))  # finite, not NaN
        assert rec['kept'] == [max(range(3), key=lambda j: rec['scores'][j])]
    info = json.loads((tmp_path / 'set' / 'set.json').read_text())
    assert info['pipeline'] == type(pipe).__name__ and ('vae_shift_factor' in info) == (family == 'sd3')
    base = _latents(pipe)
    # a few fine-tuning updates (DoRA on the UNet families, LoRA on SD3, as the reference recipes)
    ft = FinetuneConfig(adapter='lora' if family == 'sd3' else 'dora', rank=4, alpha=8, lr=5e-3, batch_size=3,
                        grad_accum=1, max_steps=3, ckpt_every=3, val_every=0)
    res = finetune(pipe, tmp_path / 'set', tmp_path / 'adapter', ft, progress=False)
    assert res['steps'] == 3 and res['final_loss'] == res['final_loss']
    tuned = _latents(pipe)
    keys = list(load_tensors(tmp_path / 'adapter' / 'pytorch_lora_weights.safetensors'))
    assert all(k.startswith('transformer.' if family == 'sd3' else 'unet.') for k in keys)
    fresh = load_pipeline(tmp_path / 'model')
    assert torch.equal(_latents(fresh), base)  # a fresh pipeline is the base model
    with quiet_loading(): fresh.load_lora_weights(str(tmp_path / 'adapter'))
    loaded = _latents(fresh)
    assert (loaded - base).abs().max() > 1e-4, 'the adapter does not change the output'
    torch.testing.assert_close(loaded, tuned, rtol=0, atol=1e-5)

def test_rfmi_equals_a_plain_loop_and_costs_no_transformer_call():
    from mi_nb.fixtures import tiny_sd3_pipeline
    from mi_nb.mi import MIRecorder
    torch.set_num_threads(1)
    pipe = tiny_sd3_pipeline()
    prompts, n, steps, w = ['a red circle', 'two blue squares'], 2, 8, 5.0
    gens = lambda: [torch.Generator().manual_seed(i) for i in range(len(prompts) * n)]
    calls = []
    h = pipe.transformer.register_forward_pre_hook(lambda *a: calls.append(1))
    try:
        out = pipe(prompts, num_images_per_prompt=n, generator=gens(), num_inference_steps=steps, guidance_scale=w,
                   output_type='latent')
        plain = len(calls)
        with MIRecorder(pipe) as rec:
            rec_out = pipe(prompts, num_images_per_prompt=n, generator=gens(), num_inference_steps=steps,
                           guidance_scale=w, output_type='latent')
        recorded = len(calls) - plain
    finally: h.remove()
    assert plain == recorded == steps
    assert torch.equal(rec_out.images, out.images)  # recording changes nothing
    # the plain loop: encode, CFG flow-matching Euler steps, ((1 - t)/t) <v_cfg, v_cfg - v_u> for 0.05 < t < 1, mean
    with torch.no_grad():
        pe, ne, pooled, neg_pooled = pipe.encode_prompt(prompts, None, None, num_images_per_prompt=n,
                                                        do_classifier_free_guidance=True)
        lat = pipe.prepare_latents(len(pe), 16, 32, 32, pe.dtype, pipe.device, gens())
        pipe.scheduler.set_timesteps(steps)
        terms = []
        for t in pipe.scheduler.timesteps:
            u, c = pipe.transformer(hidden_states=torch.cat([lat] * 2), timestep=t.expand(2 * len(lat)),
                                    encoder_hidden_states=torch.cat([ne, pe]),
                                    pooled_projections=torch.cat([neg_pooled, pooled])).sample.chunk(2)
            v = u + w * (c - u)
            s = t.item() / 1000
            if 0.05 < s < 1: terms.append((1 - s) / s * (v * (v - u)).flatten(1).sum(1))
            lat = pipe.scheduler.step(v, t, lat).prev_sample
    ref = torch.stack(terms).mean(0).double()
    rel = ((rec.scores() - ref).abs() / ref.abs()).max().item()
    assert rel < 1e-5, rel
    torch.testing.assert_close(lat, out.images, rtol=0, atol=1e-6)
    print(f'RFMI recorder vs plain loop: max relative difference {rel:.2e}; '
          f'transformer calls {plain} plain, {recorded} recorded')

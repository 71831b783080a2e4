"MI on the trained lab model: bf16 scores keep the fp32 ranking (CPU bf16)."
import numpy as np, torch
from scipy.stats import spearmanr

def test_bf16_scores_keep_fp32_ranking_on_the_lab_model():
    from mi_nb.lab.model import load_pipeline, LAB_SAMPLING
    from mi_nb.mi import MIRecorder
    torch.set_num_threads(1)
    prompts = ['a red circle', 'a blue square to the left of a green triangle', 'two yellow triangles']
    n = 8
    noise = torch.randn(len(prompts) * n, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    scores = {}
    for dt in (torch.float32, torch.bfloat16):
        pipe = load_pipeline(torch_dtype=dt)
        with MIRecorder(pipe) as rec:
            pipe(prompts, num_images_per_prompt=n, latents=noise.to(dt), output_type='latent', **LAB_SAMPLING)
        scores[dt] = rec.scores().numpy()
    a, b = scores[torch.float32], scores[torch.bfloat16]
    assert np.isfinite(b).all()
    rho = spearmanr(a, b).correlation
    print(f"spearman {rho:.3f}")
    assert rho > 0.9, rho
    top = [int(np.argmax(a[i * n:(i + 1) * n]) == np.argmax(b[i * n:(i + 1) * n])) for i in range(len(prompts))]
    assert sum(top) >= 2, (top, a, b)

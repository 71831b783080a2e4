"""The slow real-architecture test: chapter 30 run as written (its `slow` cell sets MODE = 'arch') on SD-2.1-base's
real architecture with random weights built offline (UNet 865.9M parameters, the OpenCLIP-H text encoder as
`CLIPTextModel` with its 23-layer config, the VAE; chapter 19's `real_architecture`) at 256 px: the plan, 2 prompts x 2
candidates x 2 DDPM steps scored by MI, the candidate grid, the evaluation (DDIM, BLIP-VQA with a tiny random BLIP,
CLIPScore), one DoRA fine-tuning update, `load_lora_weights` into the same pipeline, the scores and pictures, the
model card. Skipped unless MI_NB_SLOW=1:

    MI_NB_SLOW=1 python -m pytest tests/test_real_arch.py -q -p no:cacheprovider
    # or the notebook alone: nbdev_test --flags slow --path nbs/30_sd21.ipynb

Measured (CPU, one thread, on a 2-core AMD EPYC machine whose other core ran another job; torch 2.13.0+cpu,
diffusers 0.42.1): the whole test passed in 3 min 31 s with a peak RSS of 8.6 GiB
(`MI_NB_SLOW=1 /usr/bin/time -v python -m pytest tests/test_real_arch.py -q -s -p no:cacheprovider`).
"""
import os, resource, time
import pytest
from conftest import run

@pytest.mark.skipif(os.environ.get('MI_NB_SLOW') != '1', reason='slow (about 4 minutes, 9 GiB): MI_NB_SLOW=1 to run it')
def test_chapter_30_on_sd21_real_architecture():
    t0 = time.time()
    p = run(['nbdev_test', '--flags', 'slow', '--path', 'nbs/30_sd21.ipynb'], env={'OMP_NUM_THREADS': '1'},
            timeout=7200)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    print(f'chapter 30, MODE arch: {time.time() - t0:.0f} s, peak RSS {rss:.1f} GiB')
    assert 'Success' in p.stdout + p.stderr
    assert rss > 4, f'{rss:.1f} GiB: the real architecture (1.3B parameters in fp32, 5.2 GB) was not loaded'

"""`tools/gpu_real.sh`, the GPU measurement of chapters 30/31's stages, at tiny size on the CPU (TINY=1): every family,
both settings (uncapped, capped at a T4's memory), every stage, with finite times and the plan's settings recorded."""
import json, os
from conftest import run, ROOT

def test_gpu_script_runs_every_stage_at_tiny_size(tmp_path):
    out = tmp_path / 'out'
    run(['bash', 'tools/gpu_real.sh'], env={'TINY': '1', 'OUT': str(out)}, timeout=900)
    res = json.loads((out / 'gpu_real.json').read_text())
    rows = res['rows']
    assert res['tiny'] and res['device'].startswith('CPU')
    stages = ['build-set', 'decode', 'eval-generate', 'eval-score', 'finetune', 'load_lora_weights']
    for family in ('sd', 'sdxl', 'sd3'):
        for setting in ('uncapped', 't4-cap'):
            got = {r['stage']: r for r in rows if r['family'] == family and r['setting'] == setting}
            assert set(stages) <= set(got) and 'OOM' not in got, (family, setting, sorted(got))
            assert all(got[s]['seconds'] > 0 for s in stages)
            assert 'offload' in got['plan']['work'] and 'dtype float16' in got['plan']['work']
    table = (out / 'gpu_real.md').read_text()
    assert table.count('\n| sd3 | t4-cap |') == 7 and 'device: CPU' in table

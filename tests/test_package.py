"""The package as users get it: `python -m build` (sdist, then the wheel built from it), the wheel installed into a
fresh virtual environment, without nbdev."""
import shutil, sys, tarfile, zipfile
from pathlib import Path
from conftest import run, ROOT

IGNORE = shutil.ignore_patterns('.git', '.venv', 'runs', '_docs_preview', '_proc', 'build', 'dist', '*.egg-info',
                                '__pycache__', '.pytest_cache', '.src', '.whl')

def test_sdist_and_wheel_in_fresh_venv(tmp_path):
    # build a copy: nothing is written into the checkout
    src = tmp_path / 'src'; shutil.copytree(ROOT, src, ignore=IGNORE)
    # python -m build makes the sdist, then builds the wheel *from the sdist*: the wheel can only carry the lab
    # weights if the sdist does
    run([sys.executable, '-m', 'build', '--no-isolation', '--outdir', str(tmp_path / 'dist'), str(src)], timeout=900)
    import configparser
    cfg = configparser.ConfigParser(); cfg.read(ROOT / 'settings.ini'); version = cfg['DEFAULT']['version']
    sdist = tmp_path / 'dist' / f'mi_nb-{version}.tar.gz'
    members = tarfile.open(sdist).getnames()
    for f in ('settings.ini', 'setup.py', 'LICENSE', 'README.md', 'CHANGELOG.md',
              'mi_nb/lab/weights/tokenizer/vocab.json',
              'mi_nb/lab/weights/tokenizer/merges.txt', 'mi_nb/lab/weights/unet/diffusion_pytorch_model.safetensors'):
        assert f'mi_nb-{version}/{f}' in members, f
    whl = next((tmp_path / 'dist').glob(f'mi_nb-{version}-*.whl'))
    names = zipfile.ZipFile(whl).namelist()
    assert any(n.startswith('mi_nb/lab/weights/') and n.endswith('.safetensors') for n in names), 'lab weights missing'
    assert 'mi_nb/lab/weights/tokenizer/vocab.json' in names and 'mi_nb/lab/weights/tokenizer/merges.txt' in names
    venv = tmp_path / 'venv'
    run([sys.executable, '-m', 'venv', str(venv)])
    py, pip = venv / 'bin' / 'python', [str(venv / 'bin' / 'python'), '-m', 'pip', 'install', '-q']
    run(pip + ['torch==2.13.0'], timeout=900)
    run(pip + [str(whl)], timeout=900)
    p = run([str(py), '-c', 'import importlib.util, sys; sys.exit(importlib.util.find_spec("nbdev") is not None)'],
            check=False)
    assert p.returncode == 0, 'nbdev must not be a runtime dependency'
    code = ('import pkgutil, importlib, mi_nb\n'
            'mods = [m.name for m in pkgutil.walk_packages(mi_nb.__path__, "mi_nb.")]\n'
            'for m in mods: importlib.import_module(m)\n'
            'from mi_nb.lab import load_pipeline\n'
            'pipe = load_pipeline()\n'
            'im = pipe("a red circle", num_inference_steps=2, output_type="np").images\n'
            'print(len(mods), im.shape)\n'
            'from mi_nb import *\n'  # the top-level API: every name importable, the version nbdev wrote
            'print(mi_nb.__version__, all(callable(globals()[n]) for n in mi_nb.__all__))')
    out = run([str(py), '-c', code], cwd=tmp_path, env={'HF_HUB_OFFLINE': '1'}).stdout
    assert '(1, 32, 32, 3)' in out and f'{version} True' in out, out
    assert 'usage: mi-nb' in run([str(venv / 'bin' / 'mi-nb'), '--help']).stdout

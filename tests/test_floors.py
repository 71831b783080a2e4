"""The dependency floors of settings.ini are true: each requirement has one, the environment the tests run in meets
them, the floors of the HF stack are not below the releases known to fail, and the CI job `floors` installs exactly
these floors (from settings.ini itself) and runs every test there. Also: no model id that the Hub deleted, and no
`huggingface-cli` (gone from huggingface_hub 2), in the library, the chapters or the README."""
import configparser, re
from importlib.metadata import version
from packaging.version import Version
from conftest import ROOT

def floors() -> dict:
    c = configparser.ConfigParser(); c.read(ROOT / 'settings.ini')
    reqs = c['DEFAULT']['requirements'].split()
    bad = [r for r in reqs if not re.fullmatch(r'[A-Za-z0-9_.-]+>=[0-9.]+', r)]
    assert not bad, f'requirements without a plain floor: {bad}'
    return dict(r.split('>=') for r in reqs)

def test_every_requirement_has_a_floor_that_this_environment_meets():
    low = {k: (v, version(k)) for k, v in floors().items() if Version(version(k).split('+')[0]) < Version(v)}
    assert not low, f'installed below the floor: {low}'

def test_hf_stack_floors_are_not_below_what_fails():
    # diffusers < 0.34: no save_lora_weights(..._adapter_metadata); 0.33 does not import next to transformers 5
    known = {'diffusers': '0.34', 'transformers': '5.0', 'peft': '0.17', 'accelerate': '1.0', 'huggingface_hub': '1.0'}
    f = floors()
    assert all(Version(f[k]) >= Version(v) for k, v in known.items()), {k: f.get(k) for k in known}

def test_the_floors_job_installs_settings_ini_floors_exactly():
    wf = (ROOT / '.github' / 'workflows' / 'test.yaml').read_text()
    job = wf[wf.index('\n  floors:'):]
    assert "c['DEFAULT']['requirements']" in job and "replace('>=', '==')" in job and '-c floors.txt' in job
    assert f"torch=={floors()['torch']}.0" in job and 'bash tools/test.sh' in job
    c = configparser.ConfigParser(); c.read(ROOT / 'settings.ini')
    assert f"python-version: '{c['DEFAULT']['min_python']}'" in job

def test_release_workflow_publishes_tags_with_trusted_publishing():
    wf = (ROOT / '.github' / 'workflows' / 'release.yaml').read_text()
    assert 'tags:' in wf and 'id-token: write' in wf and 'pypa/gh-action-pypi-publish' in wf and 'python -m build' in wf

CHECKED = [*sorted((ROOT / 'nbs').glob('*.ipynb')), *sorted((ROOT / 'mi_nb').rglob('*.py')), ROOT / 'README.md',
           ROOT / 'settings.ini', *sorted((ROOT / 'tools').glob('*')), *sorted((ROOT / 'experiments').glob('*'))]

def test_no_deleted_model_id_and_no_huggingface_cli():
    "No SD-2.x id of Stability AI's (deleted from the Hub) as a string in code; `huggingface-cli` nowhere (prose too)."
    deleted = re.compile(r"""['"]stabilityai/stable-diffusion-2[-\w.]*['"]""")
    hits = [f'{f.relative_to(ROOT)}: {m}' for f in CHECKED if f.is_file()
            for m in deleted.findall(f.read_text(errors='ignore'))
            + re.findall('huggingface-cli', f.read_text(errors='ignore'))]
    assert not hits, hits

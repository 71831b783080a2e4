"experiments/lanes.sh: every line runs once in its lane, and the log says how each ended."
import re, subprocess
from conftest import ROOT


def test_lanes_log_each_exit_status(tmp_path):
    cmds, log = tmp_path / 'cmds.txt', tmp_path / 'lanes.log'
    cmds.write_text(f'# a comment\ntouch {tmp_path}/a\n\nexit 3\ntouch {tmp_path}/b\n')
    subprocess.run(['bash', str(ROOT / 'experiments' / 'lanes.sh'), str(cmds), str(log), '2'], check=True,
                   capture_output=True, text=True)
    ends = re.findall(r'\[lane (\d)\] \S+ done \((\d+)\): (.+)', log.read_text())
    assert sorted((c, rc) for _, rc, c in ends) == sorted([(f'touch {tmp_path}/a', '0'), ('exit 3', '3'),
                                                          (f'touch {tmp_path}/b', '0')])
    assert {lane for lane, _, _ in ends} == {'0', '1'} and (tmp_path / 'a').exists() and (tmp_path / 'b').exists()
    assert log.read_text().rstrip().splitlines()[-1].startswith('all done')

"""``import torch.X`` resolves to ``numtorch.X`` under the alias (demo runner and ``python -m numtorch.as_torch``)."""
import subprocess
import sys

import numtorch


def test_submodule_imports_resolve_to_numtorch_modules(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import torch, torch.nn as nn, torch.nn.functional as F, sys\n"
                      "from torch.autograd import Variable\n"
                      "import numtorch\n"
                      "assert torch is numtorch and nn is numtorch.nn and F is numtorch.nn.functional\n"
                      "assert numtorch.nn.__spec__.name == 'numtorch.nn'\n"
                      "print(sys.argv[1:], torch.ones(2) + 1)\n")
    out = subprocess.run([sys.executable, "-W", "error::ImportWarning", "-m", "numtorch.as_torch", str(script), "x"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['x'] tensor([2., 2.])"


def test_demo_runs_004_first_cell_without_torchvision_lines():
    from numtorch.demo import cells_of, run
    first = cells_of("004")[0]
    assert first["skip_lines"] == ("import torchvision", "import matplotlib.pyplot as plt", "%matplotlib inline")
    outs = run("004", numtorch)
    assert outs[first["id"]] == ""          # the cell ran (imports torch.nn, torch.optim, F) and printed nothing

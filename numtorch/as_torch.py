"""``python -m numtorch.as_torch script.py [args]``: run an unchanged PyTorch script with numtorch as ``torch``
(``import torch``, ``import torch.nn as nn``, ``from torch.utils.data import DataLoader`` ... all resolve to
numtorch). In code: ``import numtorch.as_torch; numtorch.as_torch.install()``."""
import runpy
import sys

from ._torch_alias import install, uninstall  # noqa: F401


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    install()
    sys.argv = list(argv)
    if argv[0] == "-m":
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""numtorch's kernel microbenchmark suite: ``python -m bench --help``.

Each benchmark row runs the same input data through numtorch, NumPy and (when importable) PyTorch, times
warm calls with ``time.perf_counter`` (median and min-max spread over ``--repeat`` runs), cross-checks
numtorch's result against NumPy's, and relates streaming rows to this machine's memory bandwidth measured
in the same run by a STREAM-style copy/triad kernel (``bench.bandwidth``).

Modules: ``cli`` (arguments, orchestration), ``rows`` (row registry, sizes, selection), ``rowdefs`` /
``rowgrad`` (the rows), ``harness`` (timing, missing-op handling, checks), ``runner`` (rows x libraries),
``bandwidth`` (STREAM), ``devicebw`` (the GPU's copy bandwidth, ``--device cuda``), ``report`` (table, JSON,
machine info, cache summary), ``targets`` (numtorch's performance targets judged from a run), ``startup`` /
``_probe`` / ``_torchdemo`` (import, compile, warm-start and demo figures in fresh processes), ``plot``
(matplotlib PNG or built-in SVG), ``profiling`` (``--profile N``: cProfile breakdown of numtorch's side of a
row).
Importing ``bench`` imports neither numtorch nor torch.
"""
__all__ = ["main"]


def main(argv=None):
    from .cli import main as _main
    return _main(argv)

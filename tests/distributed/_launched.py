"""Started by python -m numtorch.distributed.run: torchrun's variables are set per rank."""
import os
import sys

import numtorch.distributed as dist

dist.init_process_group(backend="mpi")
assert os.environ["RANK"] == str(dist.get_rank()) and os.environ["WORLD_SIZE"] == "2"
assert os.environ["LOCAL_RANK"] == str(dist.get_rank()) and os.environ["MASTER_ADDR"]
print(f"launched rank {os.environ['RANK']} args {sys.argv[1:]}")

"""Minimal PyTorch DDP training loop (synthetic data) launched by torchrun on every pod of the indexed Job.

torchrun sets RANK, LOCAL_RANK and WORLD_SIZE; NCCL carries the gradients between pods over the team
namespace's pod network (the NetworkPolicy allows pod-to-pod traffic inside the namespace only).
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


def main() -> None:
    dist.init_process_group(backend="nccl")
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local_rank)
    model = DistributedDataParallel(torch.nn.Linear(1024, 10).cuda(local_rank), device_ids=[local_rank])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    steps = int(os.environ.get("STEPS", "200"))
    for step in range(steps):
        inputs = torch.randn(64, 1024, device=local_rank)
        targets = torch.randint(0, 10, (64,), device=local_rank)
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if dist.get_rank() == 0 and step % 50 == 0:
            print(f"step {step} loss {loss.item():.4f} world {dist.get_world_size()}", flush=True)
    if dist.get_rank() == 0:
        torch.save(model.module.state_dict(), os.environ.get("CHECKPOINT_PATH", "/tmp/model.pt"))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

"""Reference learning rates of Diffusers' `get_scheduler` ('constant', 'linear', 'cosine') for
core's AdamW schedule test (packages/core/src/optim/adamw.test.ts holds the printed numbers).

Run: /usr/bin/python3 scripts/reference/lr_schedules.py (Diffusers' source at $DIFFUSERS_SRC or
/work/ref/diffusers/src, through diffusers_env.py). Prints, for peak 0.1, 3 warm-up steps and 10
steps in all, the rate each schedule gives at 0-based optimizer steps k = 0..9.
"""
import json

import torch

from diffusers_env import diffusers_module, provenance

optimization = diffusers_module("optimization")
result = {"provenance": provenance(), "peak": 0.1, "warmup": 3, "total": 10}
for name, schedule in (("constant", "constant_with_warmup"), ("linear", "linear"), ("cosine", "cosine")):
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=0.1)
    scheduler = optimization.get_scheduler(schedule, optimizer, num_warmup_steps=3, num_training_steps=10)
    rates = []
    for _ in range(10):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    result[name] = rates
print(json.dumps(result, indent=1))

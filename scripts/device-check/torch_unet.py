"""Diffusers' own UNet2DModel (DDPM CIFAR-10 layout, random weights) timed with PyTorch: forward at
batch 1 and 8, a training step (forward + backward + AdamW) at batch 8. Prints one JSON line.

usage: python3 torch_unet.py DIFFUSERS_SRC [--quick|--full]
"""
import json
import sys
import time
import types

import torch

src, mode = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else '--full')
sys.path.insert(0, src)
# Diffusers imports a few hub/IO packages at module level that this machine may lack; none is used
# to build or run a UNet from a config, so inert modules stand in for the absent ones.
for name in ['huggingface_hub', 'huggingface_hub.utils', 'safetensors', 'safetensors.torch', 'tqdm', 'tqdm.auto', 'filelock', 'regex', 'requests']:
    try:
        __import__(name)
    except Exception:
        module = types.ModuleType(name)
        module.__getattr__ = lambda attr, _name=name: type(attr, (), {})
        sys.modules[name] = module
from diffusers.models.unets.unet_2d import UNet2DModel  # noqa: E402

device = 'cuda' if torch.cuda.is_available() else 'cpu'
quick = mode == '--quick'
config = dict(sample_size=32, in_channels=3, out_channels=3, block_out_channels=(128, 256, 256, 256), layers_per_block=2,
              attention_head_dim=None, norm_eps=1e-6, dropout=0.1,
              down_block_types=('DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D', 'DownBlock2D'),
              up_block_types=('UpBlock2D', 'UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'))
if quick:
    config.update(block_out_channels=(32, 64), down_block_types=('DownBlock2D', 'AttnDownBlock2D'), up_block_types=('AttnUpBlock2D', 'UpBlock2D'), norm_num_groups=8)
torch.manual_seed(0)
model = UNet2DModel(**config).to(device)


def sync():
    if device == 'cuda':
        torch.cuda.synchronize()


def best(run, repeats):
    run()
    sync()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        sync()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


rows = []
for batch in ([1] if quick else [1, 8]):
    x = torch.randn(batch, 3, 32, 32, device=device)
    t = torch.arange(batch, device=device) * 97 % 1000
    model.eval()
    with torch.no_grad():
        ms = best(lambda: model(x, t).sample, 1 if quick else 10)
    rows.append({'backend': f'torch {device}', 'model': 'DDPM CIFAR-10 (35.7M)', 'batch': batch, 'pass': 'forward', 'ms': ms})
model.train()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0)
batch = 1 if quick else 8
x = torch.randn(batch, 3, 32, 32, device=device)
t = torch.arange(batch, device=device) * 97 % 1000
target = torch.randn_like(x)


def step():
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x, t).sample, target)
    loss.backward()
    optimizer.step()


rows.append({'backend': f'torch {device}', 'model': 'DDPM CIFAR-10 (35.7M)', 'batch': batch, 'pass': 'train step', 'ms': best(step, 1 if quick else 5)})
name = torch.cuda.get_device_name(0) if device == 'cuda' else 'cpu'
print(json.dumps({'device': name, 'torch': torch.__version__, 'rows': rows}))

"""One denoising step of Diffusers' own UNet2DConditionModel with Stable Diffusion 1.5's exact config
and random weights, for the pipelines benchmark's side-by-side row (CPU, float32).

    /usr/bin/python3 scripts/reference/sd15_unet_step_torch.py /path/to/diffusers SIZE [THREADS]

Prints one JSON line: the latent size, batch 2 (classifier-free guidance), the best and first
wall times of `unet(latents, t, encoder_hidden_states)` over two calls, torch's thread count and
its peak RSS. Torch 1.13 has no scaled_dot_product_attention: Diffusers uses its classic
`AttnProcessor` (the full score matrix per layer).
"""

import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffusers_env import load_diffusers  # noqa: E402

SD15_UNET = dict(
    act_fn='silu',
    attention_head_dim=8,
    block_out_channels=(320, 640, 1280, 1280),
    center_input_sample=False,
    cross_attention_dim=768,
    down_block_types=('CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'),
    downsample_padding=1,
    flip_sin_to_cos=True,
    freq_shift=0,
    in_channels=4,
    layers_per_block=2,
    mid_block_scale_factor=1,
    norm_eps=1e-05,
    norm_num_groups=32,
    out_channels=4,
    sample_size=64,
    up_block_types=('UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'),
)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    load_diffusers(sys.argv[1])
    size = int(sys.argv[2])
    if len(sys.argv) > 3:
        torch.set_num_threads(int(sys.argv[3]))
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(**SD15_UNET).eval()
    torch.set_grad_enabled(False)
    latent = size // 8
    sample = torch.randn(2, 4, latent, latent)
    states = torch.randn(2, 77, 768)
    times = []
    for _ in range(2):
        started = time.perf_counter()
        unet(sample, 981, encoder_hidden_states=states)
        times.append(time.perf_counter() - started)
    print(
        json.dumps(
            {
                'size': size,
                'batch': 2,
                'first_s': times[0],
                'best_s': min(times),
                'threads': torch.get_num_threads(),
                'parameters': sum(p.numel() for p in unet.parameters()),
                'max_rss_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                'torch': torch.__version__,
            }
        )
    )


if __name__ == '__main__':
    main()

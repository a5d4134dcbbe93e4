"""A second tiny AutoencoderKL made and run by Diffusers' own code, covering what autoencoder_kl_small does not.

Run with Debian's python3-torch (torch 1.13):

    /usr/bin/python3 scripts/reference/autoencoder_kl_variant.py /path/to/diffusers fixtures/diffusers/autoencoder_kl_variant

The model: three levels (block_out_channels 8, 16, 16), two layers per block, `AttnDownEncoderBlock2D`
and `AttnUpDecoderBlock2D` next to the plain blocks, no mid-block attention, no quant_conv and no
post_quant_conv, `act_fn` gelu (the encoder's and decoder's output activation stays SiLU), 2 latent
channels, 4 groups, 3 input and 2 output channels, a shift factor. Built with torch.manual_seed(30);
every parameter += 0.05 * randn (generator seed 31). Saved with `save_config` and an F32
safetensors file written by hand (sorted names, `__metadata__: {"format": "pt"}`).

io.json: image[k] = float32(sin(0.17 k + 0.1)) (NCHW [2, 3, 16, 24]), the posterior's mean and
logvar, `decode_of_mean` (decode of the posterior mean) and kl().
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffusers_env import load_diffusers  # noqa: E402
from reference_arrays import float32_array, provenance, sine_input, write_safetensors  # noqa: E402


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    diffusers_root, folder = sys.argv[1:]
    load_diffusers(diffusers_root)
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL

    kwargs = dict(
        in_channels=3,
        out_channels=2,
        down_block_types=('DownEncoderBlock2D', 'AttnDownEncoderBlock2D', 'DownEncoderBlock2D'),
        up_block_types=('UpDecoderBlock2D', 'AttnUpDecoderBlock2D', 'UpDecoderBlock2D'),
        block_out_channels=(8, 16, 16),
        layers_per_block=2,
        act_fn='gelu',
        latent_channels=2,
        norm_num_groups=4,
        sample_size=16,
        scaling_factor=0.5,
        shift_factor=0.125,
        use_quant_conv=False,
        use_post_quant_conv=False,
        mid_block_add_attention=False,
    )
    torch.manual_seed(30)
    model = AutoencoderKL(**kwargs)
    generator = torch.Generator().manual_seed(31)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
    model.eval()
    torch.set_grad_enabled(False)

    os.makedirs(folder, exist_ok=True)
    model.save_config(folder)
    write_safetensors(os.path.join(folder, 'diffusion_pytorch_model.safetensors'), model.state_dict())

    image = sine_input((2, 3, 16, 24), 0.17, 0.1, 1.0)
    posterior = model.encode(image).latent_dist
    decoded = model.decode(posterior.mean).sample
    result = {
        'provenance': provenance('scripts/reference/autoencoder_kl_variant.py'),
        'what': 'Tiny AutoencoderKL variant: 3 levels, 2 layers per block, Attn encoder/decoder blocks, no mid attention, no quant convs, gelu.',
        'constructor_kwargs': {key: list(value) if isinstance(value, tuple) else value for key, value in kwargs.items()},
        'construction': 'torch.manual_seed(30); AutoencoderKL(**kw); every parameter += 0.05 * randn (generator seed 31).',
        'num_parameters': sum(parameter.numel() for parameter in model.parameters()),
        'parameter_names': list(model.state_dict().keys()),
        'float_format': 'float32 arrays: shortest decimal that rounds back to the same float32; flat, C (row-major) order.',
        'input_rules': {'image': 'float32(sin(0.17*k + 0.1)) (NCHW)'},
        'inputs': {'image': float32_array(image)},
        'outputs': {
            'latent_dist_mean': float32_array(posterior.mean),
            'latent_dist_logvar': float32_array(posterior.logvar),
            'decode_of_mean': float32_array(decoded),
            'kl': float32_array(posterior.kl()),
        },
    }
    with open(os.path.join(folder, 'io.json'), 'w', encoding='utf8') as file:
        json.dump(result, file)
        file.write('\n')
    print(f'wrote {folder}: {result["num_parameters"]} parameters')


if __name__ == '__main__':
    main()

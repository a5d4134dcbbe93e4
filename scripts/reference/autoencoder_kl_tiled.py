"""Reference numbers for AutoencoderKL's tiled encode/decode and the posterior's KL, made by Diffusers' own code.

Run with Debian's python3-torch (torch 1.13):

    /usr/bin/python3 scripts/reference/autoencoder_kl_tiled.py /path/to/diffusers \
        fixtures/diffusers/autoencoder_kl_small fixtures/diffusers/autoencoder_kl_small/tiled.json

It loads the tiny `autoencoder_kl_small` model (config.json + F32 safetensors) into Diffusers'
`AutoencoderKL`, checks that it reproduces the fixture's `io.json`, then records, with
`enable_tiling()` at the default tile settings (`tile_sample_min_size` = sample_size = 16,
`tile_latent_min_size` = 8, `tile_overlap_factor` = 0.25):

- `tiled_decode`: a latent [2, 4, 14, 20] (NCHW), larger than one latent tile, decoded tiled;
- `tiled_latent_dist_mean` / `_logvar`: an image [2, 3, 28, 44] encoded tiled;
- `kl_of_io_image`: `latent_dist.kl()` of the fixture image's posterior (untiled).

Inputs: latent[k] = 2 * float32(sin(0.05 k + 0.3)), image[k] = float32(sin(0.11 k + 0.4)) * 0.9,
flat C-order index k (NCHW).
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffusers_env import load_diffusers  # noqa: E402
from reference_arrays import fixture_array, float32_array, provenance, read_safetensors, sine_input  # noqa: E402

def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    diffusers_root, model_folder, output_path = sys.argv[1:]
    load_diffusers(diffusers_root)
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL

    with open(os.path.join(model_folder, 'config.json'), encoding='utf8') as file:
        config = json.load(file)
    model = AutoencoderKL(**{key: value for key, value in config.items() if not key.startswith('_')})
    model.load_state_dict(read_safetensors(os.path.join(model_folder, 'diffusion_pytorch_model.safetensors')), strict=True)
    model.eval()

    with open(os.path.join(model_folder, 'io.json'), encoding='utf8') as file:
        io = json.load(file)

    torch.set_grad_enabled(False)
    # The environment reproduces the fixture before anything new is recorded.
    image = fixture_array(io['inputs']['image'])
    posterior = model.encode(image).latent_dist
    check_mean = (posterior.mean - fixture_array(io['outputs']['latent_dist_mean'])).abs().max().item()
    check_decode = (model.decode(fixture_array(io['inputs']['latent'])).sample - fixture_array(io['outputs']['decode_of_latent'])).abs().max().item()
    print(f'reproduces io.json to {check_mean:.3g} (posterior mean), {check_decode:.3g} (decode)')
    if check_mean > 1e-5 or check_decode > 1e-5:
        raise SystemExit(f'the environment does not reproduce io.json: {check_mean}, {check_decode}')
    kl = posterior.kl()

    latent = sine_input((2, 4, 14, 20), 0.05, 0.3, 2.0)
    tiled_image = sine_input((2, 3, 28, 44), 0.11, 0.4, 0.9)

    untiled_decode = model.decode(latent).sample
    untiled_moments = model._encode(tiled_image)
    model.enable_tiling()
    tiled_decode = model.decode(latent).sample
    tiled_posterior = model.encode(tiled_image).latent_dist
    model.disable_tiling()

    result = {
        'provenance': provenance('scripts/reference/autoencoder_kl_tiled.py'),
        'what': 'AutoencoderKL (autoencoder_kl_small) tiled decode and encode with enable_tiling(), default tile settings; the posterior KL of io.json\'s image.',
        'float_format': io['float_format'],
        'tiling': {
            'tile_sample_min_size': model.tile_sample_min_size,
            'tile_latent_min_size': model.tile_latent_min_size,
            'tile_overlap_factor': model.tile_overlap_factor,
        },
        'input_rules': {
            'latent': '2 * float32(sin(0.05*k + 0.3)) (NCHW)',
            'image': 'float32(sin(0.11*k + 0.4)) * float32(0.9) (NCHW)',
        },
        'inputs': {'latent': float32_array(latent), 'image': float32_array(tiled_image)},
        'outputs': {
            'tiled_decode': float32_array(tiled_decode),
            'tiled_latent_dist_mean': float32_array(tiled_posterior.mean),
            'tiled_latent_dist_logvar': float32_array(tiled_posterior.logvar),
            'kl_of_io_image': float32_array(kl),
        },
        'notes': 'kl_of_io_image is latent_dist.kl() (sum over C, H, W) of the posterior of io.json\'s image. '
        'Tiled results differ from untiled ones (each tile has its own GroupNorm statistics and attention); '
        f'max |tiled - untiled| (Diffusers): decode {(tiled_decode - untiled_decode).abs().max().item():.6g}, '
        f'encode mean {(tiled_posterior.mean - untiled_moments[:, : config["latent_channels"]]).abs().max().item():.6g}.',
    }
    with open(output_path, 'w', encoding='utf8') as file:
        json.dump(result, file)
        file.write('\n')
    print(f'wrote {output_path}; {result["notes"]}')


if __name__ == '__main__':
    main()

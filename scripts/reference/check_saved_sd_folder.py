"""Checks a Stable Diffusion folder written by diffusion-ts' `save` with Diffusers' own code.

    /usr/bin/python3 scripts/reference/check_saved_sd_folder.py /path/to/diffusers SAVED_FOLDER REFERENCE_FOLDER

- `model_index.json` is read by Diffusers' `ConfigMixin` (as `DiffusionPipeline.load_config` does) and
  names the pipeline and component classes Diffusers has;
- `unet/` and `vae/`: Diffusers' `UNet2DConditionModel` / `AutoencoderKL` `from_config(config.json)`
  with `load_state_dict(strict=True)` of the safetensors file, and the same forward as the reference
  folder's model (max abs difference printed);
- `scheduler/`: the named scheduler class's `from_config`, equal to the reference config;
- `text_encoder/`: the tensor names, shapes and values equal the reference folder's (transformers'
  names), and `config.json` has the keys transformers' `CLIPTextConfig` reads;
- `tokenizer/`: files byte-identical to the reference.
(transformers itself is not installed here, so the text encoder is compared with the reference folder's.)
"""

import filecmp
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffusers_env import load_diffusers  # noqa: E402
from reference_arrays import read_safetensors  # noqa: E402


def load_json(folder, name):
    with open(os.path.join(folder, name), encoding='utf8') as file:
        return json.load(file)


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    diffusers_root, saved, reference = sys.argv[1:]
    load_diffusers(diffusers_root)
    from diffusers.configuration_utils import ConfigMixin
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
    import diffusers.schedulers as schedulers  # noqa: F401
    import importlib

    torch.set_grad_enabled(False)
    index = ConfigMixin._dict_from_json_file(os.path.join(saved, 'model_index.json'))
    assert index['_class_name'] == 'StableDiffusionPipeline', index
    expected = {'unet': ['diffusers', 'UNet2DConditionModel'], 'vae': ['diffusers', 'AutoencoderKL'], 'text_encoder': ['transformers', 'CLIPTextModel'], 'tokenizer': ['transformers', 'CLIPTokenizer']}
    for name, entry in expected.items():
        assert index[name] == entry, (name, index[name])
    report = {}
    torch.manual_seed(0)
    sample = torch.randn(2, 4, 8, 8)
    states = torch.randn(2, 77, 32)
    for name, cls in (('unet', UNet2DConditionModel), ('vae', AutoencoderKL)):
        models = []
        for folder in (saved, reference):
            model = cls.from_config(load_json(os.path.join(folder, name), 'config.json'))
            model.load_state_dict(read_safetensors(os.path.join(folder, name, 'diffusion_pytorch_model.safetensors')), strict=True)
            models.append(model.eval())
        if name == 'unet':
            outputs = [m(sample, 500, encoder_hidden_states=states).sample for m in models]
        else:
            outputs = [m.decode(sample).sample for m in models]
        report[name] = float((outputs[0] - outputs[1]).abs().max())
    scheduler_class = index['scheduler'][1]
    module = importlib.import_module('diffusers.schedulers.scheduling_' + {'PNDMScheduler': 'pndm', 'DDIMScheduler': 'ddim', 'EulerDiscreteScheduler': 'euler_discrete', 'DPMSolverMultistepScheduler': 'dpmsolver_multistep'}[scheduler_class])
    loaded = getattr(module, scheduler_class).from_config(load_json(os.path.join(saved, 'scheduler'), 'scheduler_config.json'))
    original = getattr(module, scheduler_class).from_config(load_json(os.path.join(reference, 'scheduler'), 'scheduler_config.json'))
    strip = lambda config: {k: v for k, v in dict(config).items() if k != '_diffusers_version'}  # noqa: E731
    assert strip(loaded.config) == strip(original.config), (dict(loaded.config), dict(original.config))
    a = read_safetensors(os.path.join(saved, 'text_encoder', 'model.safetensors'))
    b = read_safetensors(os.path.join(reference, 'text_encoder', 'model.safetensors'))
    assert sorted(a) == sorted(b), set(a) ^ set(b)
    report['text_encoder'] = max(float((a[k] - b[k]).abs().max()) for k in a)
    text_config = load_json(os.path.join(saved, 'text_encoder'), 'config.json')
    for key in ('hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'max_position_embeddings', 'vocab_size', 'hidden_act', 'layer_norm_eps', 'eos_token_id'):
        assert text_config[key] == load_json(os.path.join(reference, 'text_encoder'), 'config.json')[key], key
    for file in os.listdir(os.path.join(reference, 'tokenizer')):
        assert filecmp.cmp(os.path.join(saved, 'tokenizer', file), os.path.join(reference, 'tokenizer', file), shallow=False), file
    print('Diffusers reads the saved folder; max abs differences from the reference folder:', json.dumps(report))


if __name__ == '__main__':
    main()

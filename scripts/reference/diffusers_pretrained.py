"""Diffusers' own `from_pretrained` / `save_pretrained` (models, schedulers and pipelines) from its
source tree, under the stubs of diffusers_env.py.

    from diffusers_pretrained import load_pretrained_library
    library = load_pretrained_library('/work/ref/diffusers')
    pipeline = library.DDPMPipeline.from_pretrained('models/mnist-ddpm')

diffusers_env.py replaces `safetensors`, `huggingface_hub` and `tqdm` by inert modules and bypasses
the package `__init__` files. That is enough for model math, not for loading and saving folders.
`load_pretrained_library` adds what those code paths need; the Diffusers code itself runs unmodified:
- `safetensors.torch.load_file` / `load` / `save_file`: a small pure-Python safetensors codec (the
  format: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
  byte range, then the raw little-endian data); F64, F32, F16 and BF16;
- `huggingface_hub.split_torch_state_dict_into_shards`: one shard holding every tensor (the models
  checked here are far below Diffusers' 10 GB shard size);
- `httpx` is stubbed too (pipeline_utils imports it for hub downloads, never used on local folders);
- the public names that `diffusers/__init__.py` (bypassed) would export and that the loading code
  looks up on the package (`diffusers.UNet2DModel`, `ModelMixin`, `SchedulerMixin`,
  `DiffusionPipeline`, `OnnxRuntimeModel` as its dummy, ...; `diffusers.models.AutoencoderKL`, ...);
- progress bars off (`diffusers.utils.logging.disable_progress_bar()`: the stubbed tqdm would
  iterate nothing), and Diffusers' log at level error (its warnings here are advice to install
  accelerate; callers check loading with `output_loading_info=True`).
Run with /usr/bin/python3 (Debian's python3-torch).
"""
import json
import struct
import sys
import types

import numpy as np
import torch

# safetensors dtype name -> (numpy storage dtype, torch dtype); BF16 is read as raw 16-bit words.
_DTYPES = {
    'F64': ('<f8', torch.float64),
    'F32': ('<f4', torch.float32),
    'F16': ('<f2', torch.float16),
    'BF16': ('<u2', torch.bfloat16),
}
_NAMES = {torch_dtype: name for name, (_, torch_dtype) in _DTYPES.items()}


def load_safetensors_bytes(raw):
    """The tensors of a safetensors file's bytes, as CPU torch tensors of the stored dtype."""
    raw = bytes(raw)
    if len(raw) < 8:
        raise ValueError('not a safetensors file: shorter than its 8-byte header length')
    (length,) = struct.unpack('<Q', raw[:8])
    if 8 + length > len(raw):
        raise ValueError(f'not a safetensors file: header length {length} exceeds the file size {len(raw)}')
    header = json.loads(raw[8 : 8 + length])
    base = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        if entry['dtype'] not in _DTYPES:
            raise ValueError(f'{name}: dtype {entry["dtype"]} is not supported here (expected one of {", ".join(_DTYPES)})')
        storage, torch_dtype = _DTYPES[entry['dtype']]
        start, end = entry['data_offsets']
        array = np.frombuffer(raw[base + start : base + end], dtype=storage).reshape(entry['shape']).copy()
        tensor = torch.from_numpy(array)
        if torch_dtype is torch.bfloat16:
            tensor = tensor.view(torch.int16).view(torch.bfloat16)
        tensors[name] = tensor
    return tensors


def load_safetensors_file(path, device='cpu'):
    """`safetensors.torch.load_file`."""
    with open(path, 'rb') as file:
        tensors = load_safetensors_bytes(file.read())
    return {name: tensor.to(device) for name, tensor in tensors.items()}


def save_safetensors_file(tensors, path, metadata=None):
    """`safetensors.torch.save_file`: tensors in name order, the header padded to 8 bytes."""
    header = {} if metadata is None else {'__metadata__': dict(metadata)}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        if tensor.dtype not in _NAMES:
            raise ValueError(f'{name}: dtype {tensor.dtype} is not supported here')
        if tensor.dtype is torch.bfloat16:
            data = tensor.view(torch.int16).numpy().astype('<i2').tobytes()
        else:
            data = tensor.numpy().astype(_DTYPES[_NAMES[tensor.dtype]][0]).tobytes()
        header[name] = {'dtype': _NAMES[tensor.dtype], 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode('utf8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as file:
        file.write(struct.pack('<Q', len(text)))
        file.write(text)
        for chunk in chunks:
            file.write(chunk)


class _SingleShard:
    """What `huggingface_hub.split_torch_state_dict_into_shards` returns, for one shard."""

    def __init__(self, state_dict, filename_pattern):
        filename = filename_pattern.format(suffix='')
        self.is_sharded = False
        self.metadata = {}
        self.filename_to_tensors = {filename: list(state_dict)}
        self.tensor_to_filename = {name: filename for name in state_dict}


def split_into_one_shard(state_dict, *, filename_pattern='model{suffix}.safetensors', max_shard_size=None):
    """`huggingface_hub.split_torch_state_dict_into_shards` for models below the shard size."""
    return _SingleShard(state_dict, filename_pattern)


def _install_weight_io():
    """Puts the functions above on the stubbed `safetensors.torch` and `huggingface_hub` modules."""
    import huggingface_hub
    import safetensors

    torch_module = sys.modules.get('safetensors.torch') or types.ModuleType('safetensors.torch')
    torch_module.load_file = load_safetensors_file
    torch_module.load = load_safetensors_bytes
    torch_module.save_file = save_safetensors_file
    sys.modules['safetensors.torch'] = torch_module
    safetensors.torch = torch_module
    huggingface_hub.split_torch_state_dict_into_shards = split_into_one_shard
    # Modules that imported the stub's placeholder before this ran.
    modeling_utils = sys.modules.get('diffusers.models.modeling_utils')
    if modeling_utils is not None:
        modeling_utils.split_torch_state_dict_into_shards = split_into_one_shard


def load_pretrained_library(diffusers_root):
    """Loads Diffusers from `diffusers_root` (a checkout, its src or its src/diffusers) through
    diffusers_env and returns a namespace with `UNet2DModel`, `DDPMScheduler`, `DDIMScheduler`,
    `DDPMPipeline` and `DiffusionPipeline`, whose `from_pretrained` / `save_pretrained` work on
    local folders."""
    import importlib

    import diffusers_env

    if 'httpx' not in diffusers_env.STUBBED:
        diffusers_env.STUBBED = diffusers_env.STUBBED + ('httpx',)
    diffusers_env.load_diffusers(diffusers_root)
    _install_weight_io()

    def exported(module, name):
        return getattr(importlib.import_module('diffusers.' + module), name)

    package = sys.modules['diffusers']
    models = sys.modules['diffusers.models']
    # What pipeline_utils imports from the bypassed `diffusers.models` / `diffusers.quantizers`.
    models.ModelMixin = exported('models.modeling_utils', 'ModelMixin')
    models.UNet2DModel = exported('models.unets.unet_2d', 'UNet2DModel')
    models.AutoencoderKL = exported('models.autoencoders.autoencoder_kl', 'AutoencoderKL')
    sys.modules['diffusers.quantizers'].PipelineQuantizationConfig = exported('quantizers.pipe_quant_config', 'PipelineQuantizationConfig')
    _install_weight_io()  # modeling_utils is imported now
    names = {
        'ModelMixin': models.ModelMixin,
        'UNet2DModel': models.UNet2DModel,
        'SchedulerMixin': exported('schedulers.scheduling_utils', 'SchedulerMixin'),
        'DDPMScheduler': exported('schedulers.scheduling_ddpm', 'DDPMScheduler'),
        'DDIMScheduler': exported('schedulers.scheduling_ddim', 'DDIMScheduler'),
        'DiffusionPipeline': exported('pipelines.pipeline_utils', 'DiffusionPipeline'),
        'DDPMPipeline': exported('pipelines.ddpm.pipeline_ddpm', 'DDPMPipeline'),
        'DDIMPipeline': exported('pipelines.ddim.pipeline_ddim', 'DDIMPipeline'),
        # Without onnxruntime the real package exports its dummy; pipeline loading checks against it.
        'OnnxRuntimeModel': exported('utils.dummy_onnx_objects', 'OnnxRuntimeModel'),
    }
    for name, value in names.items():
        setattr(package, name, value)
    logging = importlib.import_module('diffusers.utils.logging')
    logging.disable_progress_bar()
    # Loading problems are checked by the callers (output_loading_info); the rest is advice about
    # packages the stubs stand in for (accelerate, torch_dtype).
    logging.set_verbosity_error()
    return types.SimpleNamespace(**names)

"""Array and file helpers shared by the reference generator scripts (numpy/torch only, no Diffusers code)."""

import json
import struct

import numpy as np
import torch


def read_safetensors(path):
    with open(path, 'rb') as file:
        raw = file.read()
    (length,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8 : 8 + length])
    base = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        if entry['dtype'] != 'F32':
            raise SystemExit(f'{name}: expected F32, got {entry["dtype"]}')
        start, end = entry['data_offsets']
        array = np.frombuffer(raw[base + start : base + end], dtype='<f4').reshape(entry['shape'])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


def float32_array(tensor):
    values = tensor.detach().cpu().numpy().astype(np.float32)
    return {
        'dtype': 'float32',
        'shape': list(values.shape),
        'data': [float(str(value)) for value in values.reshape(-1)],
    }


def fixture_array(array):
    return torch.tensor(np.array(array['data'], dtype=np.float32).reshape(array['shape']))


def sine_input(shape, frequency, phase, scale):
    count = int(np.prod(shape))
    k = np.arange(count, dtype=np.float64)
    return torch.from_numpy((np.sin(frequency * k + phase).astype(np.float32) * np.float32(scale)).reshape(shape))


def write_safetensors(path, state_dict):
    names = sorted(state_dict)
    header = {'__metadata__': {'format': 'pt'}}
    chunks = []
    offset = 0
    for name in names:
        data = state_dict[name].detach().cpu().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(state_dict[name].shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode('utf8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as file:
        file.write(struct.pack('<Q', len(text)))
        file.write(text)
        for chunk in chunks:
            file.write(chunk)


def provenance(script):
    """The provenance block of a fixture made with Diffusers (loaded by diffusers_env) by `script`."""
    from diffusers_env import provenance as environment

    facts = environment()
    del facts['how']
    return {**facts, 'device': 'cpu', 'generator': script}

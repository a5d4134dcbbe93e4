"""Import Hugging Face Diffusers' own modules from a source checkout under Debian's python3-torch 1.13.

Usage (from a generator script):

    from diffusers_env import load_diffusers
    load_diffusers('/path/to/diffusers')            # the repository root, or its src/diffusers
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL

What this does, and nothing more (the math code runs unmodified):
- `packaging` comes from pip's vendored copy.
- `huggingface_hub`, `safetensors`, `tqdm`, `filelock` and `regex` are not installed: inert stub
  modules stand in for them (hub downloads, file locks and progress bars are never used here).
  Decorators from them return the function unchanged; other names are inert placeholders.
- Torch 1.13 lacks attributes that newer Diffusers only names in lookup tables, defaults or
  annotations (`torch.xpu`, `torch.mps`, `torch.compiler`, float8 dtypes,
  `torch.distributed.device_mesh`, `torch.distributed._functional_collectives`): placeholders that
  report "not available" are added.
- The package `__init__` files of `diffusers`, `diffusers.models.autoencoders`,
  `diffusers.models.unets`, `diffusers.models.transformers` and `diffusers.quantizers` are bypassed
  (their import tables pull in every model and every quantizer back-end), and so is the dependency
  version check.
"""

import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import types

STUBBED_PACKAGES = ('huggingface_hub', 'safetensors', 'tqdm', 'filelock', 'regex')
BYPASSED_PACKAGES = ('models/autoencoders', 'models/unets', 'models/transformers', 'quantizers')


def _identity_decorator(*args, **kwargs):
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda function: function


class _Placeholder:
    """An inert value: callable, subclassable, falsy, with placeholder attributes."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Placeholder()

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _Placeholder()

    def __bool__(self):
        return False


# Names whose placeholder must be a real value.
_VALUES = {
    'HF_HOME': '/tmp/diffusers-reference-hf-home',
    'HF_HUB_OFFLINE': True,
    'HF_HUB_DISABLE_TELEMETRY': True,
    'REGEX_COMMIT_HASH': r'^[0-9a-f]{40}$',
    'validate_hf_hub_args': _identity_decorator,
    'disable': _identity_decorator,
    'is_available': lambda *args, **kwargs: False,
    'device_count': lambda *args, **kwargs: 0,
    'is_jinja_available': lambda *args, **kwargs: False,
}


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        if name in _VALUES:
            return _VALUES[name]
        return type(name, (_Placeholder,), {})


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.split('.')[0] in STUBBED_PACKAGES:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return _StubModule(spec.name)

    def exec_module(self, module):
        module.__path__ = []


def _bypassed_package(name, path):
    module = types.ModuleType(name)
    module.__path__ = [path]
    module.__package__ = name
    sys.modules[name] = module
    return module


def _patch_torch():
    import torch
    import torch.distributed

    for name in ('xpu', 'mps', 'compiler'):
        if not hasattr(torch, name):
            setattr(torch, name, _StubModule('torch.' + name))
    for name in ('float8_e4m3fn', 'float8_e5m2', 'float8_e4m3fnuz', 'float8_e5m2fnuz', 'float8_e8m0fnu'):
        if not hasattr(torch, name):
            setattr(torch, name, object())
    for name in ('device_mesh', '_functional_collectives'):
        full = 'torch.distributed.' + name
        if full not in sys.modules:
            sys.modules[full] = _StubModule(full)
            setattr(torch.distributed, name, sys.modules[full])


def load_diffusers(source):
    """Makes `import diffusers.…` work from the checkout at `source`; returns its package folder."""
    root = os.path.join(source, 'src', 'diffusers') if os.path.isdir(os.path.join(source, 'src', 'diffusers')) else source
    if not os.path.isfile(os.path.join(root, 'configuration_utils.py')):
        raise SystemExit(f'{source} is not a diffusers checkout (no configuration_utils.py)')
    if 'diffusers' in sys.modules:
        return root

    import pip._vendor.packaging as packaging

    sys.modules['packaging'] = packaging
    for sub in ('version', 'requirements', 'specifiers', 'markers', 'utils', 'tags'):
        sys.modules['packaging.' + sub] = importlib.import_module('pip._vendor.packaging.' + sub)

    sys.meta_path.insert(0, _StubFinder())
    _patch_torch()

    version = None
    with open(os.path.join(root, '__init__.py'), encoding='utf8') as init:
        for line in init:
            if line.startswith('__version__'):
                version = line.split('=')[1].strip().strip('"\'')
                break
    package = _bypassed_package('diffusers', root)
    package.__version__ = version
    check = types.ModuleType('diffusers.dependency_versions_check')
    check.dep_version_check = lambda *args, **kwargs: None
    sys.modules['diffusers.dependency_versions_check'] = check
    for sub in BYPASSED_PACKAGES:
        _bypassed_package('diffusers.' + sub.replace('/', '.'), os.path.join(root, sub))

    quantizers = sys.modules['diffusers.quantizers']

    class DiffusersAutoQuantizer:  # no quantizer back-ends here
        pass

    quantizers.DiffusersAutoQuantizer = DiffusersAutoQuantizer
    quantizers.DiffusersQuantizer = importlib.import_module('diffusers.quantizers.base').DiffusersQuantizer
    return root


# The interface of issue-14's scheduler generators (multistep_loops.py, sigma_solvers_loops.py), on the
# same loader: `diffusers_module(name)` imports `diffusers.<name>` from DIFFUSERS_SRC (default
# /work/ref/diffusers/src); `provenance()` gives the environment facts their fixture files record.
DIFFUSERS_SRC = os.environ.get('DIFFUSERS_SRC', '/work/ref/diffusers/src')


def diffusers_module(name):
    """Imports `diffusers.<name>` from the source tree, e.g. 'schedulers.scheduling_unipc_multistep'."""
    load_diffusers(os.path.join(DIFFUSERS_SRC, 'diffusers'))
    return importlib.import_module('diffusers.' + name)


def provenance():
    """The environment facts every fixture file records."""
    load_diffusers(os.path.join(DIFFUSERS_SRC, 'diffusers'))
    import subprocess

    import numpy
    import torch

    try:
        commit = subprocess.run(
            ['git', '-C', DIFFUSERS_SRC, 'rev-parse', 'HEAD'], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = '58eb52c0803ea9af3abec60841c2a093bdf1f951'
    return {
        'diffusers_commit': commit,
        'diffusers_version': sys.modules['diffusers'].__version__,
        'torch_version': torch.__version__,
        'numpy_version': numpy.__version__,
        'python_version': sys.version.split()[0],
        'how': "Diffusers' own code from its source tree via scripts/reference/diffusers_env.py "
        '(stubbed huggingface_hub/safetensors/tqdm/filelock/regex, bypassed package __init__ files; math untouched)',
    }

"""Import shim: run Diffusers' own scheduler (and model) code from its source tree without its
optional third-party packages.

Usage (from a generator script in this folder):
    from diffusers_env import diffusers_module, provenance
    dpm = diffusers_module("schedulers.scheduling_dpmsolver_multistep")
or, with a checkout given on the command line (its root or its src/diffusers):
    from diffusers_env import load_diffusers
    load_diffusers("/path/to/diffusers")
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL

Environment: DIFFUSERS_SRC (default /work/ref/diffusers/src) points at the source tree at the
fixtures' commit. What this does, and nothing more (the math code runs unmodified):
- `huggingface_hub`, `safetensors`, `tqdm`, `filelock` and `regex` are replaced by inert stub
  modules (any attribute is a do-nothing class or value; their decorators return the function
  unchanged); none of them is used by scheduler or model math (hub downloads, file locks and
  progress bars are never used here);
- `packaging` comes from pip's vendored copy;
- torch 1.13 lacks attributes newer Diffusers only names in tables and defaults (`torch.xpu`,
  `torch.mps`, float8 dtypes, `torch.distributed.device_mesh`,
  `torch.distributed._functional_collectives`): inert placeholders are added; `torch.compiler`
  becomes a stub module whose `disable` is the identity decorator (so `@torch.compiler.disable`
  functions such as `DiffusionPipeline.progress_bar` stay the functions they are);
- the package `__init__` files of `diffusers`, `diffusers.models`,
  `diffusers.models.{unets,transformers,autoencoders}` and `diffusers.quantizers` are bypassed (empty packages whose `__path__` points at the source), so
  their lazy import tables do not run, nor does `dependency_versions_check` (it reads the
  stubbed packages' metadata); `diffusers.quantizers` gets the two names model loading imports
  (no quantizer back-end is available).
Run with /usr/bin/python3 (Debian's python3-torch).
"""
import importlib
import importlib.abc
import importlib.machinery
import os
import re
import sys
import types

DIFFUSERS_SRC = os.environ.get("DIFFUSERS_SRC", "/work/ref/diffusers/src")
STUBBED = ("huggingface_hub", "safetensors", "tqdm", "filelock", "regex")


class _Inert:
    """A do-nothing stand-in: callable, subclassable, any attribute is itself."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Inert()

    def __getattr__(self, name):
        return _Inert()

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False

    def __mro_entries__(self, bases):
        return (object,)


def _identity_decorator(*args, **kwargs):
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda function: function


# Stubbed names whose stand-in must be a real value or a working decorator.
_VALUES = {
    "HF_HOME": "/tmp/diffusers-reference-hf-home",
    "HF_HUB_OFFLINE": True,
    "HF_HUB_DISABLE_TELEMETRY": True,
    "REGEX_COMMIT_HASH": r"^[0-9a-f]{40}$",
    "validate_hf_hub_args": _identity_decorator,
    "disable": _identity_decorator,
    "is_available": lambda *args, **kwargs: False,
    "device_count": lambda *args, **kwargs: 0,
    "is_jinja_available": lambda *args, **kwargs: False,
}


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        if name in _VALUES:
            stub = _VALUES[name]
        elif name.isupper():
            stub = "/nonexistent/stubbed"  # constants such as HF_HOME: a path that is never used
        elif name[:1].isupper():
            stub = type(name, (object,), {"__init__": lambda self, *a, **k: None})
        else:
            stub = _Inert()
        setattr(self, name, stub)
        return stub


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in STUBBED:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        module.__version__ = "0.0.0"
        return module

    def exec_module(self, module):
        pass


def _install():
    if getattr(sys.modules.get("diffusers"), "__shimmed__", False):
        return
    if not os.path.isfile(os.path.join(DIFFUSERS_SRC, "diffusers", "configuration_utils.py")):
        raise SystemExit(f"{DIFFUSERS_SRC} is not the src folder of a diffusers checkout (no diffusers/configuration_utils.py)")
    sys.meta_path.insert(0, _StubFinder())
    import pip._vendor.packaging as packaging
    import pip._vendor.packaging.version  # noqa: F401
    import pip._vendor.packaging.requirements  # noqa: F401

    sys.modules.setdefault("packaging", packaging)
    for name in ("version", "requirements", "specifiers", "markers", "utils", "tags"):
        try:
            sys.modules.setdefault(f"packaging.{name}", importlib.import_module(f"pip._vendor.packaging.{name}"))
        except ImportError:
            pass

    import torch

    for name in ("xpu", "mps"):
        if not hasattr(torch, name):
            setattr(torch, name, _Inert())
    # `torch.compiler` is used as a decorator module (`@torch.compiler.disable`): a stub module keeps
    # decorated functions as they are (an inert object would replace them with inert objects).
    if not hasattr(torch, "compiler"):
        torch.compiler = _StubModule("torch.compiler")
    for name in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "uint16", "uint32", "uint64"):
        if not hasattr(torch, name):
            setattr(torch, name, torch.float32 if name.startswith("float") else torch.int64)
    import torch.distributed

    for name in ("device_mesh", "_functional_collectives"):
        full = "torch.distributed." + name
        if full not in sys.modules:
            sys.modules[full] = _StubModule(full)
        if not hasattr(torch.distributed, name):
            setattr(torch.distributed, name, sys.modules[full])

    root = os.path.join(DIFFUSERS_SRC, "diffusers")
    with open(os.path.join(root, "__init__.py"), encoding="utf8") as handle:
        version = re.search(r'__version__\s*=\s*"([^"]+)"', handle.read()).group(1)
    for package in ("", "models", "models.unets", "models.transformers", "models.autoencoders", "quantizers"):
        name = "diffusers" + ("." + package if package else "")
        module = types.ModuleType(name)
        module.__path__ = [os.path.join(root, *package.split("."))] if package else [root]
        module.__package__ = name
        if not package:
            module.__version__ = version
            module.__shimmed__ = True
        sys.modules[name] = module
    # The install-time dependency check (it reads package metadata of the stubbed packages).
    check = types.ModuleType("diffusers.dependency_versions_check")
    check.dep_version_check = lambda *args, **kwargs: None
    sys.modules[check.__name__] = check
    # As `diffusers/__init__.py` does: `utils` first (configuration_utils imports it half-built).
    importlib.import_module("diffusers.utils")
    # What modeling_utils imports from the bypassed quantizers package (no back-end is available).
    quantizers = sys.modules["diffusers.quantizers"]
    quantizers.DiffusersAutoQuantizer = type("DiffusersAutoQuantizer", (), {})
    quantizers.DiffusersQuantizer = importlib.import_module("diffusers.quantizers.base").DiffusersQuantizer


def load_diffusers(source):
    """Makes `import diffusers.…` work from the checkout at `source` (its root, its `src` or its
    `src/diffusers` folder); returns the package folder."""
    global DIFFUSERS_SRC
    source = os.path.abspath(source)
    if os.path.isdir(os.path.join(source, "src", "diffusers")):
        src = os.path.join(source, "src")
    elif os.path.isfile(os.path.join(source, "configuration_utils.py")):
        src = os.path.dirname(source)
    else:
        src = source
    if not getattr(sys.modules.get("diffusers"), "__shimmed__", False):
        DIFFUSERS_SRC = src
    _install()
    return os.path.join(DIFFUSERS_SRC, "diffusers")


def diffusers_module(name):
    """Imports `diffusers.<name>` from the source tree, e.g. 'schedulers.scheduling_unipc_multistep'."""
    _install()
    return importlib.import_module("diffusers." + name)


def provenance():
    """The environment facts every fixture file records."""
    _install()
    import subprocess

    import numpy
    import torch

    try:
        commit = subprocess.run(
            ["git", "-C", DIFFUSERS_SRC, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "58eb52c0803ea9af3abec60841c2a093bdf1f951"
    return {
        "diffusers_commit": commit,
        "diffusers_version": sys.modules["diffusers"].__version__,
        "torch_version": torch.__version__,
        "numpy_version": numpy.__version__,
        "python_version": sys.version.split()[0],
        "how": "Diffusers' own code from its source tree via scripts/reference/diffusers_env.py "
        "(stubbed huggingface_hub/safetensors/tqdm/filelock/regex, bypassed package __init__ files; math untouched)",
    }

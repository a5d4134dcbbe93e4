"""Import Diffusers' Stable Diffusion pipeline modules (text-to-image, img2img, inpaint) under torch 1.13.

Builds on `diffusers_env.load_diffusers` (read its docstring first), adding stubs to its `STUBBED` list. The pipeline modules also import
`transformers`, `accelerate`, `peft`, `tokenizers`, `httpx` and `requests`, none of which is installed:
inert stub modules stand in for them (the pipelines only name their classes in type checks and
annotations; the text encoder and tokenizer objects given to the pipelines here are our own wrappers
of OpenAI's CLIP code). `diffusers.pipelines` and `diffusers.pipelines.stable_diffusion` are bypassed
like the other package `__init__` files, and the few names the pipeline modules import from bypassed
or lazily filtered packages (the models, the loader mixins, `PipelineQuantizationConfig`,
`StableDiffusionPipelineOutput`) are taken from the modules that define them. tqdm is replaced by a
silent progress bar. No math code is touched.
"""

import importlib
import os
import sys
import types

import diffusers_env

PIPELINE_STUBS = ('transformers', 'accelerate', 'peft', 'tokenizers', 'httpx', 'requests')


class _SilentProgress:
    def __init__(self, *args, **kwargs):
        self.iterable = args[0] if args else kwargs.get('iterable')

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __iter__(self):
        return iter(self.iterable)

    def update(self, *args, **kwargs):
        pass


def _bypassed_package(name, path):
    module = types.ModuleType(name)
    module.__path__ = [path]
    module.__package__ = name
    sys.modules[name] = module
    return module


def load_stable_diffusion_pipelines(source):
    """Returns (StableDiffusionPipeline, StableDiffusionImg2ImgPipeline, StableDiffusionInpaintPipeline)."""
    diffusers_env.STUBBED = tuple(sorted(set(diffusers_env.STUBBED) | set(PIPELINE_STUBS)))
    root = diffusers_env.load_diffusers(source)
    for sub in ('pipelines', 'pipelines/stable_diffusion'):
        name = 'diffusers.' + sub.replace('/', '.')
        if name not in sys.modules:
            _bypassed_package(name, os.path.join(root, sub))
    sys.modules['diffusers'].pipelines = sys.modules['diffusers.pipelines']
    # The loaders and pipelines import many model classes from `diffusers.models`, which diffusers_env
    # bypasses: its real lazy `__init__` takes the bypassed package's place (its subpackages stay bypassed).
    del sys.modules['diffusers.models']
    importlib.import_module('diffusers.models')
    quantizers = sys.modules['diffusers.quantizers']
    quantizers.PipelineQuantizationConfig = importlib.import_module('diffusers.quantizers.pipe_quant_config').PipelineQuantizationConfig
    loaders = importlib.import_module('diffusers.loaders')
    for module, name in (
        ('single_file', 'FromSingleFileMixin'),
        ('ip_adapter', 'IPAdapterMixin'),
        ('lora_pipeline', 'StableDiffusionLoraLoaderMixin'),
        ('textual_inversion', 'TextualInversionLoaderMixin'),
    ):
        setattr(loaders, name, getattr(importlib.import_module('diffusers.loaders.' + module), name))
    stable_diffusion = sys.modules['diffusers.pipelines.stable_diffusion']
    stable_diffusion.StableDiffusionPipelineOutput = importlib.import_module(
        'diffusers.pipelines.stable_diffusion.pipeline_output'
    ).StableDiffusionPipelineOutput
    pipeline_utils = importlib.import_module('diffusers.pipelines.pipeline_utils')
    pipeline_utils.tqdm = _SilentProgress
    text = importlib.import_module('diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion')
    img2img = importlib.import_module('diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion_img2img')
    inpaint = importlib.import_module('diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion_inpaint')
    return text.StableDiffusionPipeline, img2img.StableDiffusionImg2ImgPipeline, inpaint.StableDiffusionInpaintPipeline

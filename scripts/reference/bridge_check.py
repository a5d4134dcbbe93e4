"""The Diffusers bridge check: our pipeline folders load in Diffusers' own code, and folders that
Diffusers writes load in ours, with the same outputs.

    /usr/bin/python3 scripts/reference/bridge_check.py [FOLDER ...] [--diffusers PATH]
        [--backends cpu,wasm] [--tolerance 1e-4] [--json FILE]

FOLDER is a Diffusers pipeline folder (model_index.json, unet/ holding a UNet2DModel, scheduler/);
default: models/mnist-ddpm and models/mnist-class-ddpm. A class-conditional UNet (`num_class_embeds`, the last class being the
null class) is checked with class labels and guidance. PATH is a diffusers checkout (default
$DIFFUSERS_SRC or /work/ref/diffusers); Diffusers runs from it through diffusers_env.py and
diffusers_pretrained.py (stubs for the hub, file and progress-bar packages; math untouched). Our
side runs in Node from the built packages (scripts/reference/bridge_check_ours.mjs; build first).
Exit status 1 when any output differs by more than the tolerance (absolute), or our side leaks tensors.

Forward (ours -> Diffusers), per FOLDER:
- Diffusers loads it with `DDPMPipeline.from_pretrained(FOLDER)` (every weight must equal those of
  `UNet2DModel.from_pretrained(FOLDER, subfolder="unet")`, which with
  `DDIMScheduler.from_pretrained(FOLDER, subfolder="scheduler")` computes the reference outputs);
- we load it with `UnconditionalPipeline.fromPretrained(FOLDER, { scheduler: 'ddim' })`
  (`ClassConditionalPipeline` for a class-conditional UNet).
Reverse (Diffusers -> ours), per FOLDER: Diffusers' UNet with every weight moved by 0.01 * randn
(generator seed 1), saved the way train_unconditional.py saves its result,
`DDPMPipeline(unet, DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear",
prediction_type="epsilon")).save_pretrained(DIR)`, once in float32 and once in float16
(`unet.half()`). Diffusers reloads DIR with `DDPMPipeline.from_pretrained` for its outputs; we load
DIR with `fromPretrained`. Once more, for train_unconditional.py's own default architecture (3
channels, 2 layers per block, AttnDownBlock2D / AttnUpBlock2D at the fifth of six levels) with the
widths scaled down from 128..512 to 32..128, random weights (torch.manual_seed(0)), 32x32.

Compared, NCHW (Diffusers) against NHWC (ours), per model:
- the UNet on fixed samples [2, C, H, W] (torch.Generator seed 0, randn) at timestep 0, 500 and
  [999, 37] (class-conditional: labels [3, 7], and the null class at 500);
- a 5-step DDIM loop (eta 0; the scheduler config read into DDIMScheduler, as DDIMPipeline does),
  batch 2, from the start noise our `generate({ seed: 2024 })` draws: the timesteps (exactly) and
  the sample after every step (class-conditional: labels [3, 7] at guidance 1 and 3).
"""

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.dont_write_bytecode = True  # no __pycache__ beside the helper modules in the repository
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from diffusers_pretrained import load_pretrained_library  # noqa: E402

DDIM_STEPS = 5
BATCH = 2
GENERATE_SEED = 2024
PERTURBATION = 0.01
# train_unconditional.py's UNet when no --model_config_name_or_path is given, widths / 4.
TRAIN_UNCONDITIONAL_DEFAULT = dict(
    sample_size=32,
    in_channels=3,
    out_channels=3,
    layers_per_block=2,
    block_out_channels=(32, 32, 64, 64, 128, 128),
    down_block_types=('DownBlock2D', 'DownBlock2D', 'DownBlock2D', 'DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D'),
    up_block_types=('UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D', 'UpBlock2D', 'UpBlock2D', 'UpBlock2D'),
)


def encode(tensor):
    """NCHW torch -> NHWC {shape, f32} (little-endian float32, base64)."""
    array = tensor.detach().cpu().to(torch.float32).numpy()
    if array.ndim == 4:
        array = array.transpose(0, 2, 3, 1)
    array = np.ascontiguousarray(array, dtype='<f4')
    return {'shape': list(array.shape), 'f32': base64.b64encode(array.tobytes()).decode('ascii')}


def decode(entry):
    """NHWC {shape, f32} -> NCHW float32 torch."""
    array = np.frombuffer(base64.b64decode(entry['f32']), dtype='<f4').reshape(entry['shape']).copy()
    if array.ndim == 4:
        array = array.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(array))


def class_setup(unet):
    """(conditional, null class) of a UNet2DModel: the null class is the last embedding."""
    classes = unet.config.num_class_embeds
    return classes is not None, (classes - 1 if classes is not None else None)


def requested_classes(null_class):
    """Digits 3 and 7 (wrapped below the null class for models with fewer classes)."""
    return [label % max(null_class, 1) for label in (3, 7)]


def unet_cases(unet):
    """The fixed UNet inputs: batch 2, torch.Generator seed 0 randn; timesteps 0, 500, [999, 37]."""
    config = unet.config
    size = config.sample_size if isinstance(config.sample_size, (list, tuple)) else (config.sample_size, config.sample_size)
    generator = torch.Generator().manual_seed(0)
    sample = torch.randn((BATCH, config.in_channels, size[0], size[1]), generator=generator)
    conditional, null_class = class_setup(unet)
    labels = requested_classes(null_class) if conditional else None
    cases = [('t0', 0, labels), ('t500', 500, labels), ('t999_37', [999, 37], labels)]
    if conditional:
        cases.append(('t500_null', 500, [null_class, null_class]))
    return [{'name': name, 'sample': sample, 'timestep': timestep, 'classLabels': classes} for name, timestep, classes in cases]


def generate_runs(unet):
    conditional, null_class = class_setup(unet)
    if not conditional:
        return [{'name': f'ddim{DDIM_STEPS}', 'seed': GENERATE_SEED, 'steps': DDIM_STEPS, 'batch': BATCH}]
    labels = requested_classes(null_class)
    return [
        {'name': f'ddim{DDIM_STEPS}_g{scale}', 'seed': GENERATE_SEED, 'steps': DDIM_STEPS, 'batch': BATCH, 'classLabels': labels, 'guidanceScale': scale}
        for scale in (1, 3)
    ]


@torch.no_grad()
def reference_unet(unet, case):
    timestep = torch.tensor(case['timestep']) if isinstance(case['timestep'], list) else case['timestep']
    labels = None if case['classLabels'] is None else torch.tensor(case['classLabels'])
    return unet(case['sample'], timestep, class_labels=labels).sample


@torch.no_grad()
def reference_ddim(unet, scheduler, run, start, null_class):
    """DDIMPipeline's loop (set_timesteps, predict, step with eta 0), with classifier-free guidance
    uncond + s (cond - uncond) over a doubled batch [requested classes; null class] when s != 1."""
    scheduler.set_timesteps(run['steps'])
    labels = None if 'classLabels' not in run else torch.tensor(run['classLabels'])
    scale = run.get('guidanceScale', 1)
    sample = start
    steps = []
    for t in scheduler.timesteps:
        if labels is not None and scale != 1:
            doubled = unet(torch.cat([sample, sample]), t, class_labels=torch.cat([labels, torch.full_like(labels, null_class)])).sample
            conditional, unconditional = doubled.chunk(2)
            output = unconditional + scale * (conditional - unconditional)
        else:
            output = unet(sample, t, class_labels=labels).sample
        sample = scheduler.step(output, t, sample, eta=0.0).prev_sample
        steps.append(sample)
    return [int(t) for t in scheduler.timesteps], steps


def weights_digest(folder):
    path = os.path.join(folder, 'unet', 'diffusion_pytorch_model.safetensors')
    with open(path, 'rb') as file:
        return hashlib.sha256(file.read()).hexdigest()[:16]


def run_ours(models, backend, workdir):
    request = {'backend': backend, 'models': []}
    for model in models:
        request['models'].append({
            'name': model['name'],
            'folder': model['folder'],
            'conditional': model['conditional'],
            'nullClass': model['null_class'],
            'unetCases': [{**case, 'sample': encode(case['sample'])} for case in model['unet_cases']],
            'generate': model['generate'],
        })
    request_path = os.path.join(workdir, f'request-{backend}.json')
    response_path = os.path.join(workdir, f'response-{backend}.json')
    with open(request_path, 'w', encoding='utf8') as file:
        json.dump(request, file)
    command = ['node', os.path.join(HERE, 'bridge_check_ours.mjs'), request_path, response_path]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f'our side failed on {backend} (exit {result.returncode}); did you build the packages (npx turbo run build --filter=@diffusion-ts/pipelines)?')
    with open(response_path, encoding='utf8') as file:
        return json.load(file)


def max_error(ours, reference):
    if tuple(ours.shape) != tuple(reference.shape):
        raise SystemExit(f'shape mismatch: ours {tuple(ours.shape)}, Diffusers {tuple(reference.shape)}')
    return float((ours.double() - reference.double()).abs().max()), float(reference.abs().max())


def compare(model, library, ours):
    """Rows (case, max |ours - Diffusers|, max |Diffusers|) for one model and backend."""
    unet = model['unet']
    rows = []
    for case in model['unet_cases']:
        error, scale = max_error(decode(ours['unet'][case['name']]), reference_unet(unet, case))
        rows.append((f'unet {case["name"]}', error, scale))
    for run in model['generate']:
        result = ours['generate'][run['name']]
        scheduler = library.DDIMScheduler.from_config(model['scheduler_config'])
        timesteps, steps = reference_ddim(unet, scheduler, run, decode(result['start']), model['null_class'])
        if timesteps != result['timesteps']:
            raise SystemExit(f'{model["name"]}: DDIM timesteps differ: ours {result["timesteps"]}, Diffusers {timesteps}')
        errors = [max_error(decode(step), reference) for step, reference in zip(result['steps'], steps)]
        if len(errors) != len(steps):
            raise SystemExit(f'{model["name"]}: ours ran {len(result["steps"])} steps, Diffusers {len(steps)}')
        final_error, final_scale = max_error(decode(result['final']), steps[-1])
        rows.append((f'{run["name"]} every step', max(error for error, _ in errors), max(scale for _, scale in errors)))
        rows.append((f'{run["name"]} final', final_error, final_scale))
    return rows


def load_unet_strictly(library, folder):
    """`UNet2DModel.from_pretrained(folder, subfolder="unet")`, failing on any key Diffusers did not
    use or found missing or mis-shaped, and on any config key it does not know."""
    unet, info = library.UNet2DModel.from_pretrained(folder, subfolder='unet', output_loading_info=True)
    problems = {kind: keys for kind, keys in info.items() if keys}
    if problems:
        raise SystemExit(f'{folder}: Diffusers loaded the UNet with {problems}')
    for cls, subfolder in ((library.UNet2DModel, 'unet'), (library.DDPMScheduler, 'scheduler')):
        config = cls.load_config(folder, subfolder=subfolder)
        if subfolder == 'scheduler' and config.get('_class_name') not in ('DDPMScheduler', 'DDIMScheduler'):
            continue  # other scheduler classes are not loaded in this check
        _, unknown, _ = cls.extract_init_dict(dict(config))
        if unknown:
            raise SystemExit(f'{folder}/{subfolder}: config keys {cls.__name__} does not know: {sorted(unknown)}')
    return unet.eval()


def forward_model(library, folder):
    """Our folder loaded by Diffusers: the pipeline, then the UNet and scheduler on their own."""
    pipeline = library.DDPMPipeline.from_pretrained(folder)
    unet = load_unet_strictly(library, folder)
    scheduler = library.DDIMScheduler.from_pretrained(folder, subfolder='scheduler')
    for (name, loaded), (_, separate) in zip(pipeline.unet.state_dict().items(), unet.state_dict().items()):
        if not torch.equal(loaded, separate):
            raise SystemExit(f'{folder}: DDPMPipeline.from_pretrained and UNet2DModel.from_pretrained disagree on {name}')
    shown = os.path.relpath(folder, ROOT) if folder.startswith(ROOT + os.sep) else folder
    return describe(f'ours -> Diffusers: {shown}', folder, unet, scheduler.config)


def reverse_model(library, name, unet, workdir, dtype):
    """A UNet saved by Diffusers the way train_unconditional.py saves, reloaded by Diffusers."""
    folder = os.path.join(workdir, name)
    scheduler = library.DDPMScheduler(num_train_timesteps=1000, beta_schedule='linear', prediction_type='epsilon')
    library.DDPMPipeline(unet=unet.to(dtype), scheduler=scheduler).save_pretrained(folder)
    unet.to(torch.float32)
    reloaded = library.DDPMPipeline.from_pretrained(folder)
    if reloaded.unet.dtype != torch.float32:
        raise SystemExit(f'{folder}: Diffusers reloaded the UNet as {reloaded.unet.dtype}')
    load_unet_strictly(library, folder)
    return describe(f'Diffusers -> ours: {name}', folder, reloaded.unet.eval(), reloaded.scheduler.config)


def describe(name, folder, unet, scheduler_config):
    conditional, null_class = class_setup(unet)
    return {
        'name': name,
        'folder': os.path.abspath(folder),
        'weights': weights_digest(folder),
        'parameters': sum(parameter.numel() for parameter in unet.parameters()),
        'unet': unet,
        'scheduler_config': scheduler_config,
        'conditional': conditional,
        'null_class': null_class,
        'unet_cases': unet_cases(unet),
        'generate': generate_runs(unet),
    }


@torch.no_grad()
def perturbed(unet, seed):
    generator = torch.Generator().manual_seed(seed)
    for parameter in unet.parameters():
        parameter.add_(PERTURBATION * torch.randn(parameter.shape, generator=generator))
    return unet


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('folders', nargs='*', default=[os.path.join(ROOT, 'models', name) for name in ('mnist-ddpm', 'mnist-class-ddpm')])
    parser.add_argument('--diffusers', default=os.environ.get('DIFFUSERS_SRC', '/work/ref/diffusers'))
    parser.add_argument('--backends', default='cpu,wasm')
    parser.add_argument('--tolerance', type=float, default=1e-4)
    parser.add_argument('--json', help='also write every row here')
    args = parser.parse_args()
    torch.set_num_threads(1)
    library = load_pretrained_library(args.diffusers)
    workdir = tempfile.mkdtemp(prefix='bridge-check-')
    try:
        models = []
        for index, folder in enumerate(args.folders):
            forward = forward_model(library, os.path.abspath(folder))
            models.append(forward)
            base = os.path.basename(os.path.normpath(folder))
            for dtype, label in ((torch.float32, 'f32'), (torch.float16, 'f16')):
                unet = perturbed(library.UNet2DModel.from_pretrained(folder, subfolder='unet'), seed=1)
                models.append(reverse_model(library, f'{base}-perturbed-{label}-{index}', unet, workdir, dtype))
        torch.manual_seed(0)
        default = library.UNet2DModel(**TRAIN_UNCONDITIONAL_DEFAULT)
        models.append(reverse_model(library, 'train_unconditional-default-architecture', default, workdir, torch.float32))

        rows = []
        leaks = []
        for backend in [name for name in args.backends.split(',') if name]:
            response = run_ours(models, backend, workdir)
            if response['leakedTensors'] != 0:
                leaks.append(f'{backend}: {response["leakedTensors"]} tensors leaked')
            for model, ours in zip(models, response['models']):
                if ours['parameters'] != model['parameters']:
                    raise SystemExit(f'{model["name"]}: ours has {ours["parameters"]} parameters, Diffusers {model["parameters"]}')
                model['our_warnings'] = ours['warnings']
                for case, error, scale in compare(model, library, ours):
                    rows.append({'model': model['name'], 'weights_sha256': model['weights'], 'parameters': model['parameters'], 'backend': response['backend'], 'case': case, 'max_abs_error': error, 'max_abs_value': scale})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(f'tolerance {args.tolerance:g} (max |ours - Diffusers|, absolute); Diffusers from {args.diffusers}, torch {torch.__version__}')
    current = None
    for row in rows:
        heading = (row['model'], row['backend'])
        if heading != current:
            current = heading
            print(f'\n{row["model"]}  [{row["parameters"]} parameters, weights sha256 {row["weights_sha256"]}]  ours on {row["backend"]}')
            warnings = next(model['our_warnings'] for model in models if model['name'] == row['model'])
            print(f'  our loader\'s warnings: {"; ".join(warnings) if warnings else "none"}')
        flag = '' if row['max_abs_error'] <= args.tolerance else '   <-- over tolerance'
        print(f'  {row["case"]:<28} {row["max_abs_error"]:.3e}   (outputs up to {row["max_abs_value"]:.3f}){flag}')
    worst = max(row['max_abs_error'] for row in rows)
    failed = [row for row in rows if not row['max_abs_error'] <= args.tolerance]
    print(f'\nworst {worst:.3e}: {"PASS" if not failed and not leaks else "FAIL"}' + ''.join(f'; {leak}' for leak in leaks))
    if args.json:
        with open(args.json, 'w', encoding='utf8') as file:
            json.dump({'tolerance': args.tolerance, 'torch': torch.__version__, 'rows': rows}, file, indent=1)
            file.write('\n')
    sys.exit(1 if failed or leaks else 0)


if __name__ == '__main__':
    main()

"""Reference loops for the options of EulerDiscreteScheduler, EulerAncestralDiscreteScheduler,
HeunDiscreteScheduler, LCMScheduler and FlowMatchEulerDiscreteScheduler that solvers_loops.json
does not cover, computed by Diffusers' own scheduler classes (fixtures/diffusers/sigma_solvers_loops.json).

Run: /usr/bin/python3 scripts/reference/sigma_solvers_loops.py [output.json]
(needs Debian's python3-torch, and python3-scipy for the beta-sigma cases, as Diffusers does).

Same layout and loop as solvers_loops.json: s = Scheduler(**scheduler_config);
s.set_timesteps(num_inference_steps, **set_timesteps_kwargs); x = start * s.init_noise_sigma;
for each t: x_in = s.scale_model_input(x, t) (where the class has it); out = dummy_model(x_in, t);
x = s.step(out, t, x, **step_kwargs).prev_sample. To keep the file small the start sample is the
[:2, :, :4, :4] corner of dummy_sample_deter ([2,3,4,4]; "wide": * 4 - 2), and
pred_original_sample is stored at every third step and the last. Stochastic steps draw through
`randn_tensor`, replaced by the noise rule of solvers_loops.json (draw d, 0-based over the loop:
float32((((37k + 61(d+1)) mod 199) - 99) / 50)); every draw is stored in `noise_draws`.
Some cases also store `add_noise` (Diffusers' add_noise / scale_noise at scheduled timesteps).

`geometric_*` cases: the geometric beta schedule is our extension, which Diffusers' classes reject
(the error is recorded in `geometric_rejected`). Its betas are computed here in float64 numpy,
beta_t = beta_start * (beta_end / beta_start) ** ((t - 1) / (T - 1)), and handed to Diffusers as
`trained_betas`; our test builds the scheduler with `beta_schedule: "geometric"` instead.
Before writing, the script re-runs the matching cases of solvers_loops.json (when the shared copy
is found) and checks that it reproduces them bit for bit.
"""
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffusers_env import diffusers_module, provenance  # noqa: E402

MODULES = {
    "EulerDiscreteScheduler": diffusers_module("schedulers.scheduling_euler_discrete"),
    "EulerAncestralDiscreteScheduler": diffusers_module("schedulers.scheduling_euler_ancestral_discrete"),
    "HeunDiscreteScheduler": diffusers_module("schedulers.scheduling_heun_discrete"),
    "LCMScheduler": diffusers_module("schedulers.scheduling_lcm"),
    "FlowMatchEulerDiscreteScheduler": diffusers_module("schedulers.scheduling_flow_match_euler_discrete"),
}
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_LOOPS = "/work/shared/fixtures/diffusers/solvers_loops.json"

LINEAR = {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear"}
SD = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "steps_offset": 1}
COSINE = {"num_train_timesteps": 1000, "beta_schedule": "squaredcos_cap_v2"}
EULER, ANCESTRAL, HEUN = "EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler", "HeunDiscreteScheduler"
LCM, FLOW = "LCMScheduler", "FlowMatchEulerDiscreteScheduler"


def geometric_betas(beta_start, beta_end, count):
    exponents = np.arange(count, dtype=np.float64) / (count - 1)
    return (beta_start * (beta_end / beta_start) ** exponents).astype(np.float32).astype(np.float64).tolist()


def case(name, scheduler, config, steps=10, kwargs=None, step_kwargs=None, sample="deter", add_noise=False, ours=None):
    return {"name": name, "scheduler": scheduler, "config": config, "steps": steps, "kwargs": kwargs or {},
            "step_kwargs": step_kwargs or {}, "sample": sample, "add_noise": add_noise, "ours": ours}


CASES = [
    # Euler
    case("euler_karras_sd", EULER, {**SD, "use_karras_sigmas": True}, add_noise=True),
    case("euler_exponential_linear", EULER, {**LINEAR, "use_exponential_sigmas": True}),
    case("euler_beta_sigmas_sd", EULER, {**SD, "use_beta_sigmas": True}),
    case("euler_karras_sigma_min_max_cosine", EULER, {**COSINE, "use_karras_sigmas": True, "sigma_min": 0.1, "sigma_max": 50.0}),
    case("euler_v_prediction_trailing_sd", EULER, {**SD, "prediction_type": "v_prediction", "timestep_spacing": "trailing"}),
    case("euler_zero_snr_v_trailing_sd", EULER, {**SD, "rescale_betas_zero_snr": True, "prediction_type": "v_prediction", "timestep_spacing": "trailing"}),
    case("euler_sample_prediction_linear", EULER, {**LINEAR, "prediction_type": "sample"}),
    case("euler_log_linear_sigma_min", EULER, {**LINEAR, "interpolation_type": "log_linear", "final_sigmas_type": "sigma_min"}),
    case("euler_linspace_7_fractional", EULER, {**LINEAR}, steps=7),
    case("euler_continuous_v_karras", EULER, {**SD, "timestep_type": "continuous", "prediction_type": "v_prediction", "use_karras_sigmas": True}),
    case("euler_churn", EULER, {**SD, "timestep_spacing": "trailing"}, step_kwargs={"s_churn": 4.0, "s_tmin": 0.5, "s_tmax": 6.0, "s_noise": 1.003}),
    case("euler_custom_timesteps", EULER, {**LINEAR}, steps=None, kwargs={"timesteps": [999.0, 850.0, 700.5, 500.0, 320.25, 166.5, 60.0, 10.0]}),
    case("euler_custom_sigmas", EULER, {**SD}, steps=None, kwargs={"sigmas": [14.6, 8.0, 4.0, 2.0, 1.0, 0.5, 0.2, 0.05, 0.0]}),
    case("euler_geometric_trained_betas", EULER, {"num_train_timesteps": 1000, "trained_betas": geometric_betas(1e-4, 0.02, 1000)},
         ours={"num_train_timesteps": 1000, "beta_start": 1e-4, "beta_end": 0.02, "beta_schedule": "geometric"}),
    # Euler ancestral
    case("euler_ancestral_v_trailing_linear", ANCESTRAL, {**LINEAR, "prediction_type": "v_prediction", "timestep_spacing": "trailing"}),
    case("euler_ancestral_zero_snr_v_sd", ANCESTRAL, {**SD, "rescale_betas_zero_snr": True, "prediction_type": "v_prediction", "timestep_spacing": "trailing"}, add_noise=True),
    case("euler_ancestral_linspace_cosine", ANCESTRAL, {**COSINE}, steps=8),
    # Heun
    case("heun_karras_sd", HEUN, {**SD, "use_karras_sigmas": True}, add_noise=True),
    case("heun_exponential_exp_schedule", HEUN, {"num_train_timesteps": 1000, "beta_schedule": "exp", "use_exponential_sigmas": True}, steps=6),
    case("heun_beta_sigmas_linear", HEUN, {**LINEAR, "use_beta_sigmas": True}, steps=6),
    case("heun_v_prediction_clip_wide_leading", HEUN, {**LINEAR, "prediction_type": "v_prediction", "clip_sample": True, "clip_sample_range": 0.8, "timestep_spacing": "leading", "steps_offset": 1}, sample="wide"),
    case("heun_sample_prediction_trailing", HEUN, {**SD, "prediction_type": "sample", "timestep_spacing": "trailing"}, steps=5),
    case("heun_custom_timesteps", HEUN, {**SD}, steps=None, kwargs={"timesteps": [999, 800, 500, 200, 20]}),
    case("heun_geometric_trained_betas", HEUN, {"num_train_timesteps": 1000, "trained_betas": geometric_betas(8.5e-4, 0.012, 1000)}, steps=6,
         ours={"num_train_timesteps": 1000, "beta_start": 8.5e-4, "beta_end": 0.012, "beta_schedule": "geometric"}),
    # LCM
    case("lcm_original_25_scaling_5", LCM, {**SD, "original_inference_steps": 25, "timestep_scaling": 5.0}, steps=6),
    case("lcm_v_prediction_thresholding_wide", LCM, {**LINEAR, "prediction_type": "v_prediction", "thresholding": True, "dynamic_thresholding_ratio": 0.9, "sample_max_value": 1.5}, steps=4, sample="wide"),
    case("lcm_sample_clip_wide", LCM, {**SD, "prediction_type": "sample", "clip_sample": True, "clip_sample_range": 0.7}, steps=3, sample="wide"),
    case("lcm_custom_timesteps", LCM, {**SD}, steps=None, kwargs={"timesteps": [999, 759, 499, 259, 19]}),
    case("lcm_set_timesteps_original_40", LCM, {**SD}, steps=8, kwargs={"original_inference_steps": 40}),
    case("lcm_strength_06", LCM, {**SD}, steps=4, kwargs={"strength": 0.6}),
    # Flow matching
    case("flow_dynamic_exponential_mu", FLOW, {"use_dynamic_shifting": True, "base_shift": 0.5, "max_shift": 1.15}, kwargs={"mu": 0.8}),
    case("flow_dynamic_linear_mu", FLOW, {"use_dynamic_shifting": True, "time_shift_type": "linear"}, steps=8, kwargs={"mu": 2.0}),
    case("flow_invert_sigmas", FLOW, {"shift": 3.0, "invert_sigmas": True}, steps=6),
    case("flow_shift_terminal", FLOW, {"shift": 3.0, "shift_terminal": 0.1}, add_noise=True),
    case("flow_karras_shift3", FLOW, {"shift": 3.0, "use_karras_sigmas": True}),
    case("flow_exponential_shift2", FLOW, {"shift": 2.0, "use_exponential_sigmas": True}, steps=6),
    case("flow_beta_sigmas", FLOW, {"shift": 3.0, "use_beta_sigmas": True}, steps=6),
    case("flow_custom_sigmas", FLOW, {"shift": 3.0}, steps=None, kwargs={"sigmas": [1.0, 0.8, 0.55, 0.3, 0.12, 0.04]}),
    case("flow_custom_sigmas_dynamic", FLOW, {"use_dynamic_shifting": True}, steps=5, kwargs={"sigmas": [1.0, 0.75, 0.5, 0.25, 0.05], "mu": 1.1}),
    case("flow_custom_timesteps", FLOW, {"shift": 3.0}, steps=None, kwargs={"timesteps": [1000.0, 800.0, 600.0, 400.0, 200.0]}),
    case("flow_stochastic_shift3", FLOW, {"shift": 3.0, "stochastic_sampling": True}, steps=6),
]


def sample0():
    return (torch.arange(768, dtype=torch.float32).reshape(3, 8, 8, 4) / 768).permute(3, 0, 1, 2).contiguous()


def start_sample(kind, full=False):
    x = sample0() if full else sample0()[:2, :, :4, :4].contiguous()
    return x * 4 - 2 if kind == "wide" else x


def dummy_model(x, t):
    t = torch.tensor(float(t), dtype=torch.float32)
    return (x * t) / (t + 1)


def noise_rule(draw, shape):
    k = np.arange(int(np.prod(shape)), dtype=np.int64)
    return torch.from_numpy(((((37 * k + 61 * (draw + 1)) % 199) - 99) / 50.0).astype(np.float32).reshape(shape))


class NoiseSource:
    """Stands in for randn_tensor inside step(): the noise rule's draws, in call order."""

    def __init__(self):
        self.draws = []

    def __call__(self, shape, generator=None, device=None, dtype=None, layout=None):
        noise = noise_rule(len(self.draws), tuple(shape))
        self.draws.append(noise)
        return noise.to(dtype or torch.float32)


def array(values, dtype="float32"):
    tensor = values if isinstance(values, torch.Tensor) else torch.tensor(values)
    if dtype == "float32":
        data = [float(repr(np.float32(v))) for v in tensor.detach().to(torch.float32).numpy().reshape(-1)]
    else:
        data = [int(v) for v in tensor.reshape(-1).tolist()]
    return {"dtype": dtype, "shape": list(tensor.shape), "data": data}


def json_config(config):
    out = {}
    for key, value in dict(config).items():
        if key.startswith("_"):
            continue
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, np.ndarray):
            value = value.tolist()
        out[key] = value
    return out


def run_case(spec, full=False, store_every=3):
    name = spec["scheduler"]
    module = MODULES[name]
    cls = getattr(module, name)
    noise = NoiseSource()
    original = getattr(module, "randn_tensor", None)
    if original is not None:
        module.randn_tensor = noise
    try:
        s = cls(**spec["config"])
        steps = spec["steps"]
        s.set_timesteps(steps, **spec["kwargs"]) if steps is not None else s.set_timesteps(**spec["kwargs"])
        added = None
        if spec["add_noise"]:
            ts = s.timesteps[[0, len(s.timesteps) // 2]]
            noise_in = noise_rule(7, (2, 3, 4, 4))
            x0 = start_sample("deter")
            result = s.add_noise(x0, noise_in, ts) if hasattr(s, "add_noise") else s.scale_noise(x0, ts, noise_in)
            s._step_index = None
            s._begin_index = None
            added = {"timesteps": [float(v) for v in ts], "original": array(x0), "noise": array(noise_in), "result": array(result)}
        uses_scale = hasattr(s, "scale_model_input")
        init_noise_sigma = float(getattr(s, "init_noise_sigma", 1.0))
        start = start_sample(spec["sample"], full) * init_noise_sigma
        x = start
        records = []
        count = len(s.timesteps)
        for i, t in enumerate(s.timesteps):
            x_in = s.scale_model_input(x, t) if uses_scale else x
            out = dummy_model(x_in, t)
            result = s.step(out, t, x, **spec["step_kwargs"])
            x = result.prev_sample
            record = {"i": i, "t": float(t), "prev_sample": array(x)}
            pred = getattr(result, "pred_original_sample", None)
            if pred is None:
                pred = getattr(result, "denoised", None)
            if pred is not None and (full or i % store_every == 0 or i == count - 1):
                record["pred_original_sample"] = array(pred)
            records.append(record)
        timesteps_dtype = "int64" if s.timesteps.dtype == torch.int64 else "float32"
        entry = {
            "name": spec["name"],
            "scheduler": name,
            "scheduler_config": spec["ours"] or json_config(spec["config"]),
            "num_inference_steps": steps,
            "set_timesteps_kwargs": spec["kwargs"],
            "step_kwargs": spec["step_kwargs"],
            "resolved_config": json_config(s.config),
            "timesteps": array(s.timesteps, timesteps_dtype),
            "timesteps_dtype": timesteps_dtype,
            "init_noise_sigma": init_noise_sigma,
            "sample0": ("wide" if spec["sample"] == "wide" else "deter") + "[:2,:,:4,:4]",
            "uses_scale_model_input": uses_scale,
            "start_sample": array(start),
            "steps": records,
        }
        if hasattr(s, "sigmas"):
            entry["sigmas"] = array(s.sigmas)
        if spec["ours"]:
            entry["diffusers_config"] = json_config(spec["config"])
            entry["resolved_config"].pop("trained_betas", None)
        if noise.draws:
            entry["noise_draws"] = [array(d) for d in noise.draws]
        if added:
            entry["add_noise"] = added
        return entry
    finally:
        if original is not None:
            module.randn_tensor = original


def check_against_shared():
    """Re-runs the matching cases of solvers_loops.json with this script's loop: bit for bit."""
    if not os.path.exists(SHARED_LOOPS):
        print("solvers_loops.json not found; skipping the self-check")
        return
    with open(SHARED_LOOPS, encoding="utf8") as handle:
        shared = json.load(handle)
    for entry in shared["cases"]:
        if entry["scheduler"] not in MODULES:
            continue
        spec = case(entry["name"], entry["scheduler"], entry["scheduler_config"], entry["num_inference_steps"], entry["set_timesteps_kwargs"])
        mine = run_case(spec, full=True)
        for a, b in zip(mine["steps"], entry["steps"]):
            assert a["prev_sample"]["data"] == b["prev_sample"]["data"], (entry["name"], a["i"])
        assert mine["timesteps"]["data"] == entry["timesteps"]["data"], entry["name"]
        print(f"self-check {entry['name']}: identical")


def geometric_rejected():
    out = {}
    for name, module in MODULES.items():
        if name == FLOW:
            continue
        try:
            getattr(module, name)(beta_schedule="geometric")
            out[name] = "accepted"
        except Exception as error:  # noqa: BLE001 - the message is what we record
            out[name] = f"{type(error).__name__}: {error}"
    return out


def main():
    output = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "fixtures", "diffusers", "sigma_solvers_loops.json")
    check_against_shared()
    cases = [run_case(spec) for spec in CASES]
    document = {
        "provenance": provenance(),
        "what": "Options of the Euler / Euler ancestral / Heun / LCM / flow-matching Euler schedulers beyond solvers_loops.json: full loops by Diffusers' own classes.",
        "generator": "scripts/reference/sigma_solvers_loops.py",
        "float_format": "float32 arrays: shortest decimal that rounds back to the float32 (parse, then Math.fround)",
        "sample0": "[:2, :, :4, :4] corner of dummy_sample_deter (see solvers_loops.json); 'wide': * 4 - 2",
        "model": "dummy model: (x_in * t) / (t + 1) in float32, t the scheduled timestep as float32",
        "noise": "draw d (0-based over the loop): float32((((37k + 61(d+1)) mod 199) - 99) / 50), stored in noise_draws",
        "geometric_rejected": geometric_rejected(),
        "cases": cases,
    }
    with open(output, "w", encoding="utf8") as handle:
        json.dump(document, handle, separators=(",", ":"))
        handle.write("\n")
    print(f"wrote {len(cases)} cases to {output} ({os.path.getsize(output)} bytes)")


if __name__ == "__main__":
    main()

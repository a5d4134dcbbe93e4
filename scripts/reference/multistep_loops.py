"""Reference loops for DPMSolverMultistepScheduler and UniPCMultistepScheduler, computed by
Diffusers' own scheduler classes (fixtures/diffusers/multistep_loops.json).

Run: /usr/bin/python3 scripts/reference/multistep_loops.py [output.json]
(default output: fixtures/diffusers/multistep_loops.json next to this repository's scripts/).

The loop and dummy model are those of solvers_loops.json, from the [:2, :, :4, :4] corner of its
start sample (as sigma_solvers_loops.json; the file stays small): s = Scheduler(**config);
s.set_timesteps(N, **kwargs); x = sample0 * init_noise_sigma; for each t: out = dummy_model(x, t);
x = s.step(out, t, x).prev_sample. Stochastic steps (sde-dpmsolver*) draw through `randn_tensor`
inside step(); it is replaced by the noise rule of solvers_loops.json (draw d, 0-based over the
whole loop: float32((((37k + 61(d+1)) mod 199) - 99) / 50)) and every draw is stored.
Before writing, the script re-runs the DPM and UniPC cases of solvers_loops.json (when the shared
copy is found) and checks that it reproduces them bit for bit.
"""
import json
import math
import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffusers_env import diffusers_module, provenance  # noqa: E402

DPM_MODULE = diffusers_module("schedulers.scheduling_dpmsolver_multistep")
UNIPC_MODULE = diffusers_module("schedulers.scheduling_unipc_multistep")
CLASSES = {
    "DPMSolverMultistepScheduler": DPM_MODULE.DPMSolverMultistepScheduler,
    "UniPCMultistepScheduler": UNIPC_MODULE.UniPCMultistepScheduler,
}
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_LOOPS = "/work/shared/fixtures/diffusers/solvers_loops.json"

LINEAR = {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear"}
SD = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "steps_offset": 1}
COSINE = {"num_train_timesteps": 1000, "beta_schedule": "squaredcos_cap_v2"}
WIDE_THRESHOLD = {"thresholding": True, "dynamic_thresholding_ratio": 0.9, "sample_max_value": 1.5}


def case(name, scheduler, config, steps=10, sample="dummy_sample_deter", model="dummy", note=None, add_noise=False):
    return {"name": name, "scheduler": scheduler, "config": config, "steps": steps, "sample": sample, "model": model, "note": note, "add_noise": add_noise}


DPM = "DPMSolverMultistepScheduler"
UNIPC = "UniPCMultistepScheduler"
CASES = [
    # DPM-Solver++ (and the deprecated DPM-Solver) variants.
    case("dpmpp_2m_sde_linear", DPM, {**LINEAR, "algorithm_type": "sde-dpmsolver++"}),
    case("dpmpp_2m_sde_heun_karras_sd", DPM, {**SD, "algorithm_type": "sde-dpmsolver++", "solver_type": "heun", "use_karras_sigmas": True}, add_noise=True),
    case("dpmpp_sde_order1_sigma_min", DPM, {**LINEAR, "algorithm_type": "sde-dpmsolver++", "solver_order": 1, "final_sigmas_type": "sigma_min"}),
    case("dpmpp_3m_sde_sigma_min_16", DPM, {**LINEAR, "algorithm_type": "sde-dpmsolver++", "solver_order": 3, "final_sigmas_type": "sigma_min"}, steps=16),
    case("dpmpp_3m_linear", DPM, {**LINEAR, "solver_order": 3}),
    case("dpmpp_3m_lower_order_final_off", DPM, {**LINEAR, "solver_order": 3, "lower_order_final": False}),
    case("dpmpp_2m_heun_leading_offset", DPM, {**SD, "solver_type": "heun", "timestep_spacing": "leading"}),
    case("dpmpp_2m_euler_at_final_sigma_min", DPM, {**LINEAR, "euler_at_final": True, "final_sigmas_type": "sigma_min"}),
    case("dpmpp_2m_exponential_sd", DPM, {**SD, "use_exponential_sigmas": True}),
    case("dpmpp_2m_beta_sd", DPM, {**SD, "use_beta_sigmas": True}),
    case("dpmpp_2m_karras_geometric", DPM, {**LINEAR, "beta_schedule": "geometric", "use_karras_sigmas": True}),
    case("dpmpp_2m_lu_lambdas_sd", DPM, {**SD, "use_lu_lambdas": True}),
    case("dpmpp_2m_thresholding_wide", DPM, {**LINEAR, **WIDE_THRESHOLD}, sample="wide"),
    case("dpmpp_2m_v_prediction_trailing_sd", DPM, {**SD, "prediction_type": "v_prediction", "timestep_spacing": "trailing"}),
    case("dpmpp_2m_sample_prediction", DPM, {**LINEAR, "prediction_type": "sample"}),
    case("dpmpp_2m_cosine_karras_clipped", DPM, {**COSINE, "use_karras_sigmas": True, "lambda_min_clipped": -5.1}),
    case("dpmpp_2m_cosine_clipped", DPM, {**COSINE, "lambda_min_clipped": -5.1}),
    case("dpmpp_2m_zero_snr_v_trailing", DPM, {**SD, "rescale_betas_zero_snr": True, "prediction_type": "v_prediction", "timestep_spacing": "trailing"}),
    case("dpmpp_2m_learned_range", DPM, {**LINEAR, "variance_type": "learned_range"}, model="dummy_learned_variance"),
    case("dpmsolver_3_sigma_min", DPM, {**LINEAR, "algorithm_type": "dpmsolver", "solver_order": 3, "final_sigmas_type": "sigma_min"}),
    case("dpmsolver_2_heun_sample_thresholding", DPM, {**LINEAR, "algorithm_type": "dpmsolver", "solver_type": "heun", "prediction_type": "sample", "final_sigmas_type": "sigma_min", **WIDE_THRESHOLD}, sample="wide"),
    case("sde_dpmsolver_2_sigma_min", DPM, {**LINEAR, "algorithm_type": "sde-dpmsolver", "final_sigmas_type": "sigma_min"}),
    case("dpmpp_2m_custom_timesteps", DPM, {**LINEAR}, steps={"timesteps": [999, 800, 650, 500, 420, 300, 200, 120, 60, 10]}),
    # UniPC variants.
    case("unipc_bh1_order1_sigma_min", UNIPC, {**LINEAR, "solver_type": "bh1", "solver_order": 1, "final_sigmas_type": "sigma_min"}),
    case("unipc_bh1_order2_sigma_min", UNIPC, {**LINEAR, "solver_type": "bh1", "solver_order": 2, "final_sigmas_type": "sigma_min"}),
    case("unipc_bh2_order3", UNIPC, {**LINEAR, "solver_order": 3}),
    case("unipc_bh2_order3_lof_off_sigma_min", UNIPC, {**LINEAR, "solver_order": 3, "lower_order_final": False, "final_sigmas_type": "sigma_min"}),
    case("unipc_bh2_predict_eps_sigma_min", UNIPC, {**LINEAR, "predict_x0": False, "final_sigmas_type": "sigma_min"}),
    case("unipc_bh1_predict_eps_order3_sigma_min", UNIPC, {**LINEAR, "solver_type": "bh1", "predict_x0": False, "solver_order": 3, "final_sigmas_type": "sigma_min"}),
    case("unipc_bh2_disable_corrector", UNIPC, {**LINEAR, "disable_corrector": [0, 3, 4]}),
    case("unipc_bh2_karras_sd", UNIPC, {**SD, "use_karras_sigmas": True}, add_noise=True),
    case("unipc_bh2_exponential_sd_sigma_min", UNIPC, {**SD, "use_exponential_sigmas": True, "final_sigmas_type": "sigma_min"}),
    case("unipc_bh2_beta_sd_sigma_min", UNIPC, {**SD, "use_beta_sigmas": True, "final_sigmas_type": "sigma_min"}),
    case("unipc_bh2_karras_sigma_bounds", UNIPC, {**SD, "use_karras_sigmas": True, "sigma_min": 0.1, "sigma_max": 10.0, "final_sigmas_type": "sigma_min"}),
    case("unipc_bh2_geometric", UNIPC, {**LINEAR, "beta_schedule": "geometric"}),
    case("unipc_bh2_thresholding_wide", UNIPC, {**LINEAR, **WIDE_THRESHOLD}, sample="wide"),
    case("unipc_bh2_v_prediction_trailing_sd", UNIPC, {**SD, "prediction_type": "v_prediction", "timestep_spacing": "trailing"}),
    case("unipc_bh2_leading_offset_sd", UNIPC, {**SD, "timestep_spacing": "leading"}),
    # Diffusers returns NaN at the last step here; the finite limit is stored instead (see `limit`).
    case("unipc_bh1_order3_zero_12", UNIPC, {**LINEAR, "solver_type": "bh1", "solver_order": 3}, steps=12,
         note="Diffusers' last step is NaN (bh1: B(h) = h = -inf times a zero residual)."),
    case("unipc_bh1_order3_zero_15", UNIPC, {**LINEAR, "solver_type": "bh1", "solver_order": 3}, steps=15,
         note="Diffusers' last step is NaN (bh1: B(h) = h = -inf times a zero residual)."),
    case("unipc_bh2_predict_eps_zero", UNIPC, {**LINEAR, "predict_x0": False}, steps=10,
         note="Diffusers' last step is NaN (noise prediction: sigma_t * expm1(h) = 0 * inf)."),
]


def full_sample0():
    """Diffusers' dummy_sample_deter: arange(768) as [C,H,W,B] / 768, permuted to [B,C,H,W]."""
    return (torch.arange(768, dtype=torch.float32).reshape(3, 8, 8, 4) / 768).permute(3, 0, 1, 2).contiguous()


def sample0():
    """The [:2, :, :4, :4] corner of dummy_sample_deter (as sigma_solvers_loops.json), to keep the file small."""
    return full_sample0()[:2, :, :4, :4].contiguous()


def wide_sample():
    return sample0() * 4 - 2


def dummy_model(x, t):
    t = torch.tensor(float(t), dtype=torch.float32)
    return (x * t) / (t + 1)


def learned_variance_model(x, t):
    """The dummy model's epsilon followed by 3 'variance' channels (which DPM-Solver discards)."""
    eps = dummy_model(x, t)
    return torch.cat([eps, 0.5 - eps], dim=1)


def noise_rule(draw, shape):
    k = np.arange(int(np.prod(shape)), dtype=np.int64)
    values = (((37 * k + 61 * (draw + 1)) % 199) - 99) / 50.0
    return torch.from_numpy(values.astype(np.float32).reshape(shape))


class NoiseSource:
    """Stands in for randn_tensor inside step(): returns the noise rule's draws, in call order."""

    def __init__(self):
        self.draws = []

    def __call__(self, shape, generator=None, device=None, dtype=None, layout=None):
        noise = noise_rule(len(self.draws), tuple(shape))
        self.draws.append(noise)
        return noise.to(dtype or torch.float32)


def f32_list(tensor):
    return [float(repr(np.float32(v))) for v in tensor.detach().numpy().astype(np.float32).reshape(-1)]


def array(tensor, dtype="float32"):
    if dtype == "float32":
        return {"dtype": "float32", "shape": list(tensor.shape), "data": f32_list(tensor)}
    return {"dtype": dtype, "shape": list(tensor.shape), "data": [int(v) if dtype == "int64" else float(v) for v in tensor.reshape(-1).tolist()]}


def stats(tensor):
    x = tensor.detach()
    return {
        "sum": float(x.sum()),
        "sum_abs": float(x.abs().sum()),
        "mean_abs": float(x.abs().mean()),
        "max_abs": float(x.abs().max()),
        "sum_float64": float(x.double().sum()),
        "sum_abs_float64": float(x.double().abs().sum()),
    }


def json_config(config):
    out = {}
    for key, value in dict(config).items():
        if isinstance(value, float) and math.isinf(value):
            value = "-inf" if value < 0 else "inf"
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def geometric_betas(beta_start, beta_end, count):
    """Our geometric schedule (Diffusers rejects the name): float64 numpy, rounded to float32."""
    exponents = np.arange(count, dtype=np.float64) / (count - 1)
    return (beta_start * (beta_end / beta_start) ** exponents).astype(np.float32).astype(np.float64).tolist()


def diffusers_config(config):
    """The config Diffusers runs: a geometric schedule goes in as its trained_betas."""
    if config.get("beta_schedule") != "geometric":
        return config
    out = {key: value for key, value in config.items() if key != "beta_schedule"}
    out["trained_betas"] = geometric_betas(config["beta_start"], config["beta_end"], config["num_train_timesteps"])
    return out


def ours_resolved(resolved, config):
    """Diffusers' resolved config, with a geometric schedule named as our config names it."""
    out = dict(resolved)
    if config.get("beta_schedule") == "geometric":
        out["beta_schedule"], out["trained_betas"] = "geometric", None
    return out


def run_case(spec):
    cls = CLASSES[spec["scheduler"]]
    module = DPM_MODULE if spec["scheduler"] == DPM else UNIPC_MODULE
    noise = NoiseSource()
    original = getattr(module, "randn_tensor", None)
    if original is not None:
        module.randn_tensor = noise
    try:
        scheduler = cls(**diffusers_config(spec["config"]))
        kwargs = {}
        if isinstance(spec["steps"], dict):
            kwargs = dict(spec["steps"])
            scheduler.set_timesteps(**kwargs)
            steps = None
        else:
            steps = spec["steps"]
            scheduler.set_timesteps(steps)
        added = None
        if spec["add_noise"]:
            # add_noise at scheduled timesteps, one per batch item (σ of the schedule, not of ᾱ_t).
            ts = scheduler.timesteps[[3, len(scheduler.timesteps) - 1]]
            noise_in = noise_rule(7, tuple(sample0().shape))
            added = {"timesteps": [int(v) for v in ts], "noise": array(noise_in), "result": array(scheduler.add_noise(sample0(), noise_in, ts))}
        base = {"wide": wide_sample, "full": full_sample0}.get(spec["sample"], sample0)()
        start = base * scheduler.init_noise_sigma
        model = learned_variance_model if spec["model"] == "dummy_learned_variance" else dummy_model
        x = start
        records = []
        nan_steps = []
        limit = None
        count = len(scheduler.timesteps)
        for i, t in enumerate(scheduler.timesteps):
            out = model(x, t)
            x = scheduler.step(out, t, x).prev_sample
            finite = bool(torch.isfinite(x).all())
            if not finite:
                nan_steps.append(i)
                # Diffusers' own values at the last step: its converted model output m0 (x0 or
                # epsilon, from the uncorrected sample) and the corrected sample the predictor starts
                # from; the order-1 predictor's limit as sigma_next -> 0 (h -> inf) is
                #   x0 mode:      x_prev = alpha_next * m0  (= m0, alpha_next = 1)
                #   epsilon mode: x_prev = alpha_next / alpha_s * (x_s - sigma_s * m0)
                m0 = scheduler.model_outputs[-1]
                sigma_s = scheduler.sigmas[i].double()
                alpha_s = 1 / torch.sqrt(sigma_s**2 + 1)
                if scheduler.predict_x0:
                    limit = m0.double()
                else:
                    limit = (scheduler.last_sample.double() - sigma_s * alpha_s * m0.double()) / alpha_s
                records.append({"i": i, "t": float(t), "diffusers_prev_sample_is_finite": False, "limit_prev_sample": array(limit.float())})
                x = limit.float()
                continue
            records.append({"i": i, "t": float(t), "prev_sample": array(x)})
    finally:
        if original is not None:
            module.randn_tensor = original
    result = {
        "name": spec["name"],
        "scheduler": spec["scheduler"],
        "scheduler_config": json_config(spec["config"]),
        "num_inference_steps": steps if steps is not None else len(scheduler.timesteps),
        "set_timesteps_kwargs": kwargs,
        "resolved_config": json_config(ours_resolved(scheduler.config, spec["config"])),
        "timesteps": array(scheduler.timesteps, "int64"),
        "timesteps_dtype": str(scheduler.timesteps.dtype).replace("torch.", ""),
        "init_noise_sigma": float(scheduler.init_noise_sigma),
        "sample0": {"wide": "dummy_sample_deter_wide", "full": "dummy_sample_deter_full"}.get(spec["sample"], "dummy_sample_deter"),
        "model": spec["model"],
        "sigmas": array(scheduler.sigmas),
        "uses_scale_model_input": False,
        "steps": records,
        "final": stats(x),
    }
    if added is not None:
        result["add_noise"] = added
    if noise.draws:
        result["noise_draws"] = [array(draw) for draw in noise.draws]
    if spec["note"] is not None:
        result["note"] = spec["note"]
        result["diffusers_non_finite_steps"] = nan_steps
    return result


def check_against_solvers_loops():
    """The shim must reproduce solvers_loops.json's DPM and UniPC cases bit for bit."""
    if not os.path.exists(SHARED_LOOPS):
        print("solvers_loops.json not found; skipping the self-check")
        return
    with open(SHARED_LOOPS, encoding="utf8") as handle:
        reference = json.load(handle)
    for entry in reference["cases"]:
        if entry["scheduler"] not in CLASSES:
            continue
        spec = case(entry["name"], entry["scheduler"], entry["scheduler_config"], entry["num_inference_steps"], sample="full")
        ours = run_case(spec)
        assert ours["timesteps"]["data"] == entry["timesteps"]["data"], entry["name"]
        assert ours["sigmas"]["data"] == entry["sigmas"]["data"], entry["name"]
        for mine, theirs in zip(ours["steps"], entry["steps"]):
            assert mine["prev_sample"]["data"] == theirs["prev_sample"]["data"], (entry["name"], mine["i"])
        print(f"self-check: {entry['name']} reproduced bit for bit")


def main():
    output = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "fixtures", "diffusers", "multistep_loops.json")
    torch.set_num_threads(1)
    check_against_solvers_loops()
    cases = []
    for spec in CASES:
        result = run_case(spec)
        bad = result.get("diffusers_non_finite_steps")
        print(f"{spec['name']}: {len(result['steps'])} steps, final sum {result['final']['sum_float64']:.6g}"
              + (f", Diffusers non-finite at steps {bad}" if bad else ""))
        cases.append(result)
    document = {
        "provenance": {**provenance(), "device": "cpu"},
        "what": "DPMSolverMultistepScheduler and UniPCMultistepScheduler: full sampling loops, every intermediate sample stored.",
        "float_format": "float32 arrays: the shortest decimal that rounds back to the same float32 (parse as a double, then Math.fround). Arrays are flat, C (row-major) order, NCHW.",
        "sample0": "the [:2, :, :4, :4] corner of solvers_loops.json's dummy_sample_deter ([2,3,4,4]), as in sigma_solvers_loops.json; "
        "'dummy_sample_deter_wide' is float32(float32(corner * 4) - 2).",
        "sample0_array": array(sample0()),
        "sample0_wide_array": array(wide_sample()),
        "model": "dummy: model_output = (x * t) / (t + 1) in float32 (t = the scheduled timestep as float32). "
        "dummy_learned_variance: cat([dummy, 0.5 - dummy], dim=1) ([2,6,4,4]); DPM-Solver keeps channels :3.",
        "noise": "sde-dpmsolver(++) steps draw through randn_tensor inside step(); draw d (0-based over the loop) is "
        "float32((((37*k + 61*(d+1)) mod 199) - 99) / 50) for flat C-order index k. Stored in noise_draws (authoritative).",
        "procedure": "s = Scheduler(**scheduler_config); s.set_timesteps(num_inference_steps) or s.set_timesteps(**set_timesteps_kwargs); "
        "x = sample0 * s.init_noise_sigma (init_noise_sigma is 1 for both classes); for t in s.timesteps: x = s.step(dummy(x, t), t, x).prev_sample. steps[i].prev_sample is x after step i.",
        "non_finite": "Where Diffusers' step returns NaN (UniPC with final_sigmas_type 'zero' and solver_type bh1, or predict_x0 False), "
        "the step has diffusers_prev_sample_is_finite false and limit_prev_sample: the limit of the same order-1 predictor as the next "
        "sigma goes to 0, evaluated in float64 from Diffusers' own state at that step (x0 mode: its converted model output m0; "
        "epsilon mode: (x_s - sigma_s alpha_s m0) / alpha_s from its corrected sample). The loop continues from that value.",
        "add_noise": "Where a case has add_noise: s.add_noise(sample0, noise, timesteps) right after set_timesteps, timesteps = "
        "s.timesteps[[3, n - 1]] (one per batch item), noise = the noise rule's draw 7; Diffusers takes sigma from the schedule.",
        "geometric": "beta_schedule 'geometric' is our extension (Diffusers rejects the name): Diffusers ran with trained_betas = "
        "float32(beta_start * (beta_end / beta_start) ** (i / (T - 1))) computed in float64 numpy; scheduler_config is the config "
        "our test builds, and resolved_config names the schedule 'geometric' (trained_betas null) as our config does.",
        "cases": cases,
    }
    text = json.dumps(document, indent=1)
    # Number arrays on one line each (as in solvers_loops.json), not one number per line.
    text = re.sub(r"\[\n\s*(-?[0-9][^\[\]{}\"]*?)\n\s*\]", lambda m: "[" + re.sub(r",\n\s*", ", ", m.group(1)) + "]", text)
    with open(output, "w", encoding="utf8") as handle:
        handle.write(text + "\n")
    print(f"wrote {output} ({os.path.getsize(output)} bytes)")


if __name__ == "__main__":
    main()

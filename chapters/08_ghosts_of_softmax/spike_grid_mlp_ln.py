"""The MLP + LayerNorm row of the paper's Table 1 / Figure 10, under the protocol of its code.

Protocol (the ``experiments/archgrid`` script released with the paper): scikit-learn's
digits scaled by 1/16, the first 20 % of the rows held out for testing and the rest
trained on in full batch; an MLP 64-64-64-64-10 with LayerNorm before each GELU;
PyTorch's default initialisation; Adam at a base learning rate of 0.015 for 200 steps,
the rate multiplied by a factor of 10 to 10,000 at step 50 only; 5 seeds (the
initialisation); plain Adam, Adam on gradients clipped to norm 1, and the controller
that caps ``lr ||g||`` at ``rho_a`` along ``-g``. The book's deviations: float64 instead
of float32, GELU in its tanh form, numpy's random stream for the initialisation.

Run from the repository root (it takes a few minutes); the chapter reads the JSON file
it writes next to itself:

    PYTHONPATH=$PWD python chapters/08_ghosts_of_softmax/spike_grid_mlp_ln.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from celesson.ghosts import SpikeRun
from celesson.mlp import MLP

FACTORS = (10, 100, 1_000, 10_000)
RULES = ("adam", "clip", "controller")
SEEDS = (0, 1, 2, 3, 4)
STEPS, SPIKE_AT, BASE_LR, EVAL_EVERY = 200, 50, 0.015, 5
OUT = Path(__file__).with_suffix(".json")


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training and test rows as the paper's code splits them (first 20 % held out)."""
    bunch = load_digits()
    X, y = bunch.data / 16.0, bunch.target
    n_test = int(0.2 * len(X))
    return X[n_test:], y[n_test:], X[:n_test], y[:n_test]


def new_run(rule: str, seed: int) -> SpikeRun:
    X, y, X_test, y_test = digits_split()
    net = MLP([64, 64, 64, 64, 10], activation="gelu", layer_norm=True, init="uniform",
              seed=seed)
    return SpikeRun(net, X, y, X_test, y_test, rule=rule, controller="gradient",
                    eval_every=EVAL_EVERY)


def summary(run: SpikeRun) -> dict:
    log = {k: np.asarray(v) for k, v in run.log.items()}
    keep = slice(EVAL_EVERY - 1, None, EVAL_EVERY)
    return {
        "final_accuracy": float(log["accuracy"][-1]),
        "accuracy": log["accuracy"][keep].tolist(),
        "loss": log["loss"][keep].tolist(),
        "spike_tau": float(log["tau"][SPIKE_AT]),
        "tau_before": float(log["tau"][SPIKE_AT - 1]),
        "shrunk_before": int(np.sum(log["scale"][:SPIKE_AT] < 1.0)),
        "shrunk_after": int(np.sum(log["scale"][SPIKE_AT + 1 :] < 1.0)),
        "spike_scale": float(log["scale"][SPIKE_AT]),
    }


def main() -> None:
    results: dict[str, dict] = {}
    for rule in RULES:
        for seed in SEEDS:
            shared = new_run(rule, seed).run(SPIKE_AT, BASE_LR, 1.0, SPIKE_AT, hold=False)
            for factor in FACTORS:
                run = shared.fork().run(STEPS, BASE_LR, float(factor), SPIKE_AT, hold=False)
                results[f"{rule}/{factor}/{seed}"] = summary(run)
                print(rule, seed, factor, results[f"{rule}/{factor}/{seed}"]["final_accuracy"],
                      flush=True)
    meta = {"factors": FACTORS, "rules": RULES, "seeds": SEEDS, "steps": STEPS,
            "spike_at": SPIKE_AT, "base_lr": BASE_LR, "eval_every": EVAL_EVERY}
    OUT.write_text(json.dumps({"protocol": meta, "runs": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Train the Neural Turing Machine and an LSTM baseline on the copy task, and ship both.

    .venv/bin/python scripts/train_ntm.py            # trains both, writes, prints the sha256s

NumPy and the package only (the NTM on :mod:`deepglossary.autograd`, the LSTM on
``deepglossary.nn.LSTM``), every draw seeded: ``np.random.default_rng(SEED)`` for the weights and
the batches. Each model trains on copy sequences of lengths 1..MAX_LENGTH (8-bit vectors,
batches of BATCH_SIZE of one length) with Adam and gradient clipping, for a fixed number of
steps, and stops early only if it runs past its time limit (then the metadata says how many
steps it made, and a rerun on a busier machine may stop elsewhere). The weights are written
in float32 to ``data/ntm_copy.npz`` and ``data/ntm_copy_lstm.npz`` with the recipe, the
losses and the wall time; the printed sha256s go into ``deepglossary/pretrained.py``. A rerun on
the same machine gave the same weights bit for bit; the files' sha256 still change, since the
recorded wall time does. ``--out DIR`` writes elsewhere (to compare with the shipped files).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from deepglossary.data.fashion import write_npz
from deepglossary.models import NTM
from deepglossary.ntm_tasks import LSTMCopier, errors_by_length, train_copy
from deepglossary.pretrained import NTM_COPY_CONFIG, NTM_LSTM_CONFIG, NTM_WEIGHTS, state_dict

SEED = 0
MAX_LENGTH = 10
BITS = 8
BATCH_SIZE = 32
STEPS = {"ntm": 3000, "lstm": 3000}
LR = {"ntm": 3e-3, "lstm": 3e-3}
CLIP = 10.0
TIME_LIMIT = {"ntm": 480.0, "lstm": 150.0}     # seconds, a safety stop on a loaded machine


def build(kind: str, seed: int):
    if kind == "ntm":
        return NTM(BITS + 1, BITS, **NTM_COPY_CONFIG, dtype=np.float32, rng=seed)
    return LSTMCopier(BITS + 1, BITS, **NTM_LSTM_CONFIG, rng=seed)


def train(kind: str, *, seed: int = SEED, steps: int | None = None, progress: bool = True):
    """Train one model; returns it and the metadata its weights file records."""
    model = build(kind, seed)
    run = train_copy(model, steps=steps or STEPS[kind], max_length=MAX_LENGTH, bits=BITS,
                     batch_size=BATCH_SIZE, lr=LR[kind], clip=CLIP, seed=seed,
                     progress=progress, time_limit=TIME_LIMIT[kind])
    errors = errors_by_length(model, range(1, MAX_LENGTH + 1), bits=BITS, seed=1234)
    meta = {
        "architecture": "NTM" if kind == "ntm" else "LSTMCopier",
        "config": NTM_COPY_CONFIG if kind == "ntm" else NTM_LSTM_CONFIG,
        "seed": seed, "max_length": MAX_LENGTH, "bits": BITS, "batch_size": BATCH_SIZE,
        "lr": LR[kind], "clip": CLIP, "steps": len(run.losses),
        "steps_planned": steps or STEPS[kind], "train_seconds": round(run.seconds, 1),
        "losses": [round(float(v), 5) for v in run.losses],
        "lengths": [int(v) for v in run.lengths],
        "train_errors": errors,
        "training": (f"copy task, lengths 1..{MAX_LENGTH} uniformly, {BITS}-bit vectors, batches "
                     f"of {BATCH_SIZE}, Adam lr {LR[kind]}, clip_grad_norm {CLIP}, seed {seed}"),
    }
    return model, meta


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--which", choices=["ntm", "lstm", "both"], default="both")
    parser.add_argument("--out", type=pathlib.Path, default=NTM_WEIGHTS.parent)
    args = parser.parse_args(argv)
    kinds = ["ntm", "lstm"] if args.which == "both" else [args.which]
    start = time.perf_counter()
    with threadpool_limits(1):
        for kind in kinds:
            model, meta = train(kind)
            path = args.out / ("ntm_copy.npz" if kind == "ntm" else "ntm_copy_lstm.npz")
            arrays = {k: v.astype(np.float32) for k, v in state_dict(model).items()}
            digest = write_npz(path, metadata=np.array(json.dumps(meta)), **arrays)
            print(f"{kind}: {meta['steps']} steps in {meta['train_seconds']} s, bit errors "
                  f"per sequence by length {meta['train_errors']}")
            print(f"wrote {path}, sha256 {digest}")
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

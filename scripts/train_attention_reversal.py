"""Train the attention models that ship with the package for the Attention Mechanism chapter,
``src/deepglossary/data/attention_reversal.npz``.

    .venv/bin/python scripts/train_attention_reversal.py   # trains, writes, prints the sha256

Same task and recipe as ``scripts/train_seq2seq_reversal.py`` (which ships the models without
attention and ``h64-dot``): reverse 1 to 12 random symbols (10 values); GRU, hidden size 64,
embedding 32, float32; ``seq2seq_tasks.train`` with Adam 3e-3, clipping at global norm 1,
batches of 64 fresh pairs, 3000 steps. Here with the two other score functions, Luong's
"general" and Bahdanau's additive. Every draw seeded (model ``seed``, data ``seed + 1``), one
BLAS thread. The printed sha256 goes into ``ATTENTION_SHA256`` in
``src/deepglossary/attention_models.py``; the chapter measures every number it reports from
the loaded weights.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from deepglossary import attention_models as am
from deepglossary import seq2seq_tasks as st
from deepglossary.data.mnist import sha256
from deepglossary.pretrained import state_dict

STEPS = 3000
SEED = 4                      # the seed of the shipped "h64-dot" (scripts/train_seq2seq_reversal)
CONFIGS = {"h64-general": dict(hidden_size=64, attention="general"),
           "h64-additive": dict(hidden_size=64, attention="additive")}


def main() -> None:
    threadpool_limits(1)
    arrays, meta = {}, {"task": "reverse", "symbols": st.SYMBOLS, "train_lengths":
                        list(st.TRAIN_LENGTHS), "steps": STEPS, "embed_size": st.EMBED_SIZE,
                        "cell": "gru", "dtype": "float32", "models": {}}
    total = time.perf_counter()
    for name, config in CONFIGS.items():
        model = st.task_model(config["hidden_size"], symbols=st.SYMBOLS,
                              attention=config["attention"], rng=SEED)
        history = st.train(model, steps=STEPS, lengths=st.TRAIN_LENGTHS, symbols=st.SYMBOLS,
                           rng=SEED + 1, progress=sys.stderr.isatty())
        table = st.accuracy_by_length(model, range(1, 13), n=200, rng=1000)
        for key, value in state_dict(model).items():
            arrays[f"{name}/{key}"] = value
        meta["models"][name] = {**config, "seed": SEED, "seconds": round(history.seconds, 1),
                                "final_loss": float(np.mean(history.loss[-100:])),
                                "loss_every_100": [float(np.mean(history.loss[i:i + 100]))
                                                   for i in range(0, STEPS, 100)],
                                "exact_1_to_12": [float(a) for a in table.exact]}
        print(f"{name}: {history.seconds:.1f} s, final loss "
              f"{meta['models'][name]['final_loss']:.3f}, exact accuracy by length 1..12 "
              f"{np.round(table.exact, 2).tolist()}", flush=True)
    np.savez_compressed(am.ATTENTION_WEIGHTS, metadata=np.array(json.dumps(meta)), **arrays)
    print(f"wrote {am.ATTENTION_WEIGHTS} in {time.perf_counter() - total:.0f} s; sha256 "
          f"{sha256(am.ATTENTION_WEIGHTS)}")


if __name__ == "__main__":
    main()

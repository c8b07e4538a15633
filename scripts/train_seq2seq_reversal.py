"""Train the encoder-decoders that ship with the package for the Seq2Seq chapter,
``src/deepglossary/data/seq2seq_reversal.npz``.

    .venv/bin/python scripts/train_seq2seq_reversal.py     # trains, writes, prints the sha256

The task is ``seq2seq_tasks.reversal``: reverse a sequence of 1 to 12 random symbols (10
symbol values). Five GRU models, float32, each trained by ``seq2seq_tasks.train`` with the
same recipe (Adam 3e-3, clipping at global norm 1, batches of 64 fresh pairs, ``STEPS``
steps): without attention at hidden sizes 16, 32, 64 and 128, and one of hidden size 64 with
dot-product attention, for comparison. NumPy and the package only, every draw seeded (model
``seed``, data ``seed + 1``), one BLAS thread. The printed sha256 goes into
``REVERSAL_SHA256`` in ``src/deepglossary/seq2seq_tasks.py``; the chapter measures every
number it reports from the loaded weights.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from deepglossary import seq2seq_tasks as st
from deepglossary.data.mnist import sha256
from deepglossary.pretrained import state_dict

STEPS = 3000
CONFIGS = {f"h{h}": dict(hidden_size=h, attention=None) for h in (16, 32, 64, 128)}
CONFIGS["h64-dot"] = dict(hidden_size=64, attention="dot")


def main() -> None:
    threadpool_limits(1)
    arrays, meta = {}, {"task": "reverse", "symbols": st.SYMBOLS, "train_lengths":
                        list(st.TRAIN_LENGTHS), "steps": STEPS, "embed_size": st.EMBED_SIZE,
                        "cell": "gru", "dtype": "float32", "models": {}}
    total = time.perf_counter()
    for seed, (name, config) in enumerate(CONFIGS.items()):
        model = st.task_model(config["hidden_size"], symbols=st.SYMBOLS,
                              attention=config["attention"], rng=seed)
        history = st.train(model, steps=STEPS, lengths=st.TRAIN_LENGTHS, symbols=st.SYMBOLS,
                           rng=seed + 1, progress=sys.stderr.isatty())
        table = st.accuracy_by_length(model, range(1, 13), n=200, rng=1000)
        for key, value in state_dict(model).items():
            arrays[f"{name}/{key}"] = value
        meta["models"][name] = {**config, "seed": seed, "seconds": round(history.seconds, 1),
                                "final_loss": float(np.mean(history.loss[-100:])),
                                "loss_every_100": [float(np.mean(history.loss[i:i + 100]))
                                                   for i in range(0, STEPS, 100)],
                                "exact_1_to_12": [float(a) for a in table.exact]}
        print(f"{name}: {history.seconds:.1f} s, final loss "
              f"{meta['models'][name]['final_loss']:.3f}, exact accuracy by length 1..12 "
              f"{np.round(table.exact, 2).tolist()}", flush=True)
    np.savez_compressed(st.REVERSAL_WEIGHTS, metadata=np.array(json.dumps(meta)), **arrays)
    print(f"wrote {st.REVERSAL_WEIGHTS} in {time.perf_counter() - total:.0f} s; sha256 "
          f"{sha256(st.REVERSAL_WEIGHTS)}")


if __name__ == "__main__":
    main()

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

import sys
import time

from threadpoolctl import threadpool_limits

from deepglossary import attention_models as am
from deepglossary import seq2seq_tasks as st
from deepglossary.data.mnist import sha256

STEPS = 3000
SEED = 4                      # the seed of the shipped "h64-dot" (scripts/train_seq2seq_reversal)
CONFIGS = {"h64-general": dict(hidden_size=64, attention="general"),
           "h64-additive": dict(hidden_size=64, attention="additive")}


def main() -> None:
    threadpool_limits(1)
    total = time.perf_counter()
    configs = {name: (config, SEED) for name, config in CONFIGS.items()}
    st.train_and_save(configs, am.ATTENTION_WEIGHTS, steps=STEPS, progress=sys.stderr.isatty())
    print(f"wrote {am.ATTENTION_WEIGHTS} in {time.perf_counter() - total:.0f} s; sha256 "
          f"{sha256(am.ATTENTION_WEIGHTS)}")


if __name__ == "__main__":
    main()

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

import sys
import time

from threadpoolctl import threadpool_limits

from deepglossary import seq2seq_tasks as st
from deepglossary.data.mnist import sha256

STEPS = 3000
CONFIGS = {f"h{h}": dict(hidden_size=h, attention=None) for h in (16, 32, 64, 128)}
CONFIGS["h64-dot"] = dict(hidden_size=64, attention="dot")


def main() -> None:
    threadpool_limits(1)
    total = time.perf_counter()
    configs = {name: (config, seed) for seed, (name, config) in enumerate(CONFIGS.items())}
    st.train_and_save(configs, st.REVERSAL_WEIGHTS, steps=STEPS, progress=sys.stderr.isatty())
    print(f"wrote {st.REVERSAL_WEIGHTS} in {time.perf_counter() - total:.0f} s; sha256 "
          f"{sha256(st.REVERSAL_WEIGHTS)}")


if __name__ == "__main__":
    main()

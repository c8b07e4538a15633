import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# "book" (the default): the same examples on every run, so CI is deterministic.
# "thorough": many fresh random examples; run it by hand to hunt for edge cases:
#   HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest -n 2 tests
settings.register_profile("book", max_examples=40, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "book"))


@pytest.fixture(scope="session", params=[np.float64, np.float32], ids=["float64", "float32"])
def dtype(request):
    return request.param


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for a module's tests (``pytestmark = pytest.mark.usefixtures(
    "one_torch_thread")``): tiny kernels on 2 threads of a busy machine spin for 0.4 s a call,
    and both sides of a comparison then run like the notebooks, on one thread."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

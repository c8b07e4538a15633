import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("book", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("book")


@pytest.fixture(scope="session", params=[np.float64, np.float32], ids=["float64", "float32"])
def dtype(request):
    return request.param

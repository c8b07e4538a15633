"""models.summary: shapes, parameters and multiply-accumulates, counted independently; and
train.fit_epochs."""

import numpy as np
import pytest

from deepglossary import nn
from deepglossary.models import lenet, summary
from deepglossary.optim import Adam
from deepglossary.train import fit_epochs


def test_lenet_rows_by_hand():
    s = summary(lenet(), (2, 1, 28, 28))
    conv1, conv2 = s.row("0"), s.row("3")
    assert conv1.output_shape == (6, 28, 28) and conv1.macs == 6 * 28 * 28 * 1 * 5 * 5
    assert conv2.output_shape == (16, 10, 10) and conv2.macs == 16 * 10 * 10 * 6 * 5 * 5
    assert s.row("7").macs == 400 * 64 and s.row("9").macs == 64 * 10
    assert s.row("6").output_shape == (400,)
    assert s.total_params == sum(p.size for p in lenet().parameters())
    assert s.total_macs == sum(r.macs for r in s.leaves())
    assert s.rows[0].output_shape == (10,)


def test_containers_sum_their_subtree_and_grouped_depth():
    inner = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, groups=1), nn.ReLU())
    model = nn.Sequential(inner, nn.Conv2d(4, 8, 3, stride=2, groups=2), nn.Flatten())
    s = summary(model, (1, 3, 9, 9), dtype=np.float64)
    assert s.row("0").params == 4 * 3 * 9 + 4 and s.row("0").leaf is False
    assert s.row("1").macs == 8 * 4 * 4 * (4 // 2) * 9          # groups divide C_in
    assert [r.name for r in s.grouped(1)] == ["0", "1", "2"]
    assert [r.name for r in s.grouped(2)] == ["0.0", "0.1", "1", "2"]
    assert "total" in str(s) and "<table>" in s._repr_html_()


def test_tied_parameters_counted_once_and_modes_restored():
    a, b = nn.Affine(5, 5), nn.Affine(5, 5)
    b.weight = a.weight
    model = nn.Sequential(a, nn.Dropout(0.5), b)
    model.train()
    s = summary(model, (3, 5), dtype=np.float64)
    assert s.total_params == 25 + 5 + 5
    assert model.training and model[1].training


def test_bad_input_shape_is_refused():
    with pytest.raises(ValueError, match="batch dimension"):
        summary(lenet(), (28,))
    with pytest.raises(TypeError):
        summary(object(), (1, 1, 28, 28))


def test_fit_epochs_records_each_epoch_and_decays():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    model = lenet()
    opt = Adam(model.parameters(), lr=1e-3)
    h = fit_epochs(model, opt, x, y, x[:16], y[:16], epochs=2, batch_size=32, decay=0.5)
    assert len(h.test_accuracy) == 2 and len(h.loss) == 4
    assert opt.lr == pytest.approx(1e-3 * 0.25)
    fresh = lenet()
    h2 = fit_epochs(fresh, Adam(fresh.parameters(), lr=1e-3), x, y, x[:16], y[:16], epochs=1)
    assert len(h2.loss) == 2 and not np.allclose(fresh[0].weight.data, lenet()[0].weight.data)
    with pytest.raises(ValueError, match="decay"):
        fit_epochs(model, opt, x, y, x, y, decay=0)

"""Caffe, small: the prototxt parser, the Net (against its torch twin), the SGD solver
(against torch.optim and against Caffe's rule written in torch), and LeNet trained on digits."""

import numpy as np
import pytest

from deepglossary.frameworks import caffe
from deepglossary.frameworks.caffe import PrototxtError
from deepglossary.verify import against_torch

SHAPES = {"data": (1, 28, 28)}


def lenet(phase="TRAIN", dtype=np.float64, text=caffe.LENET_PROTOTXT, seed=0):
    return caffe.Net(text, phase, shapes=SHAPES, dtype=dtype, seed=seed)


# -- parser ------------------------------------------------------------------------------
def test_parse_nested_repeated_comments_strings_numbers():
    msg = caffe.parse('name: "Le\\"Net"  # a comment\nlayer { bottom: "a" bottom: "b"\n'
                      '  convolution_param: { num_output: 20 stride: 1 weight_filler '
                      '{ type: "xavier" std: 1e-2 } } pool: MAX flag: true }\nx: -3.5')
    assert msg.get("name") == 'Le"Net' and msg.get("x") == -3.5
    layer = msg.all("layer")[0]
    assert layer.all("bottom") == ["a", "b"] and layer.line == 2
    conv = layer.get("convolution_param")
    assert conv.get("num_output") == 20 and isinstance(conv.get("num_output"), int)
    assert conv.get("weight_filler").get("std") == 0.01
    assert layer.get("pool") == "MAX" and isinstance(layer.get("pool"), caffe.prototxt.Enum)
    assert layer.get("flag") is True and msg.get("missing", 7) == 7


@pytest.mark.parametrize("text, line, column", [
    ("name: \"x\"\nlayer {\n  top: \n}", 4, 1),            # a field without a value
    ("a: 1\n}", 2, 1),                                     # a brace without its opening
    ("layer {\n  top: \"x\"\n", 3, 1),                     # a block never closed
    ("a: 1\n  b: \"open\n", 2, 6),                          # a string not closed
    ("a: 1\n 5: 2", 2, 2),                                 # a number where a name belongs
    ("a 1", 1, 3),                                         # no colon
])
def test_syntax_errors_name_line_and_column(text, line, column):
    with pytest.raises(PrototxtError, match=f"line {line}, column {column}"):
        caffe.parse(text)


# -- the net -----------------------------------------------------------------------------
def test_lenet_blobs_params_and_phases():
    net, test = lenet(), lenet("TEST")
    assert [layer.name for layer in net.layers] == ["mnist", "conv1", "pool1", "conv2", "pool2",
                                                    "ip1", "relu1", "ip2", "loss"]
    assert "accuracy" in [layer.name for layer in test.layers]
    assert net.blobs["pool2"].shape == (64, 50, 4, 4) and test.blobs["data"].shape[0] == 100
    assert [p.shape for p in net.params["ip1"]] == [(500, 800), (500,)]
    assert net.parameter_count() == 20 * 26 + 50 * 501 + 500 * 801 + 10 * 501


def test_fillers_are_caffes():
    net = lenet(seed=3)
    w, b = net.params["ip1"]
    bound = np.sqrt(3 / 800)                                  # xavier: fan_in only
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    assert abs(w.data.var() - 1 / 800) < 0.02 / 800 and not b.data.any()


def test_inplace_relu_overwrites_its_blob():
    net = lenet()
    x = np.random.default_rng(0).integers(0, 256, (3, 1, 28, 28)).astype(np.uint8)
    net.forward(data=x, label=np.array([1, 2, 3]))
    assert net.blobs["ip1"].data.min() == 0.0                 # ip1 is relu1's output now
    assert net.layers[6].inplace


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lenet_against_torch_every_parameter(dtype):
    pytest.importorskip("torch")
    from deepglossary.twins.caffe import torch_twin

    net = lenet(dtype=dtype)
    x = np.random.default_rng(1).uniform(0, 255, (3, 1, 28, 28)).astype(dtype)
    report = against_torch(net.section("data", "ip2"), torch_twin(net, "ip2"), x)
    assert report.ok and len(report.rows_on("cpu")) == 2 + 8


def test_loss_backward_against_torch():
    torch = pytest.importorskip("torch")
    from deepglossary.twins.caffe import torch_twin
    from deepglossary.verify import copy_parameters

    net = lenet()
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 255, (5, 1, 28, 28)), rng.integers(0, 10, 5)
    loss = net.forward(data=x, label=y)["loss"]
    net.backward()
    twin = torch_twin(net, "ip2").double()
    copy_parameters(net.section("data", "ip2"), twin)
    t_loss = torch.nn.functional.cross_entropy(twin(torch.tensor(x)), torch.tensor(y))
    t_loss.backward()
    assert abs(float(loss) - t_loss.item()) < 1e-12
    for name, p in twin.named_parameters():
        layer, kind = name.split(".")
        ours = net.params[layer][0 if kind == "weight" else 1].grad
        np.testing.assert_allclose(ours, p.grad.numpy(), rtol=1e-9, atol=1e-13)


def test_pooling_rounds_up_like_caffe():
    text = caffe.LENET_PROTOTXT.replace("kernel_size: 2\n    stride: 2", "kernel_size: 3\n"
                                        "    stride: 2", 1)
    net = lenet(text=text)
    assert net.blobs["pool1"].shape[2:] == (12, 12)          # ceil((24 - 3) / 2) + 1
    assert caffe.caffe_pooled_size(24, 3, 2, 0) == 12
    assert caffe.caffe_pooled_size(5, 2, 2, 1) == 3            # padding: last window dropped


@pytest.mark.parametrize("old, new, message", [
    ('type: "ReLU"', 'type: "Sigmoidd"', r"line 12\d: unknown layer type 'Sigmoidd'"),
    ('bottom: "pool1"', 'bottom: "pool9"', r"line 7\d: .*'pool9', which no earlier layer"),
    ("num_output: 50", "num_output: -5", r"line 8\d: num_output must be an integer >= 1"),
    ('type: "xavier"', 'type: "xaviar"', r"line \d+: unknown filler type 'xaviar'"),
    ("pool: MAX", "pool: MIN", r"line 6\d: pool must be MAX or AVE"),
])
def test_bad_layers_are_refused_with_their_line(old, new, message):
    with pytest.raises(PrototxtError, match=message):
        lenet(text=caffe.LENET_PROTOTXT.replace(old, new, 1))


def test_net_refuses_bad_calls():
    net = lenet()
    with pytest.raises(ValueError, match="missing \\['label'\\]"):
        net.forward(data=np.zeros((2, 1, 28, 28)))
    with pytest.raises(PrototxtError, match="give the shape"):
        caffe.Net(caffe.LENET_PROTOTXT)
    with pytest.raises(ValueError, match="phase"):
        caffe.Net(caffe.LENET_PROTOTXT, "VAL", shapes=SHAPES)


# -- solver ------------------------------------------------------------------------------
def test_learning_rate_policies():
    assert caffe.learning_rate(100, 0.01, "inv", 1e-4, 0.75) == pytest.approx(
        0.01 * 1.01 ** -0.75, rel=1e-15)
    assert caffe.learning_rate(7, 0.1, "step", 0.5, stepsize=3) == pytest.approx(0.025)
    with pytest.raises(ValueError, match="lr_policy"):
        caffe.learning_rate(0, 0.1, "cosine")


def test_solver_reads_lenet_solver():
    solver = caffe.SGDSolver.from_prototxt(lenet(), caffe.LENET_SOLVER)
    assert (solver.base_lr, solver.momentum, solver.weight_decay, solver.lr_policy,
            solver.gamma, solver.power) == (0.01, 0.9, 0.0005, "inv", 0.0001, 0.75)
    assert [m for _, m, _ in solver.slots] == [1, 2] * 4       # biases learn twice as fast


def _batches(k=4, n=8):
    from deepglossary.data import mnist

    d, rng = mnist(), np.random.default_rng(0)
    x = (d.x_train.reshape(-1, 1, 28, 28) * 255).round()
    return [{"data": x[i], "label": d.y_train[i]}
            for i in (rng.choice(len(x), n, replace=False) for _ in range(k))]


@pytest.mark.parametrize("policy, rule, agree", [
    (dict(lr_policy="fixed"), "torch.optim", True),
    (dict(lr_policy="inv", gamma=0.1, power=0.75), "torch.optim", False),
    (dict(lr_policy="inv", gamma=0.1, power=0.75), "caffe", True),
])
def test_solver_against_torch(policy, rule, agree):
    pytest.importorskip("torch")
    from deepglossary.twins.caffe import train_in_torch

    kw = dict(base_lr=0.01, momentum=0.9, weight_decay=5e-4, **policy)
    batches, net = _batches(), lenet()
    start = {n: [p.data.copy() for p in ps] for n, ps in net.params.items()}
    theirs = train_in_torch(net, batches, rule=rule, **kw)
    solver = caffe.SGDSolver(net, **kw)
    for batch in batches:
        solver.step(batch)
    rel = max(np.abs(p.data - theirs[f"{n}.{k}"]).max() / np.abs(p.data - start[n][i]).max()
              for n, ps in net.params.items() for i, (k, p) in enumerate(zip(("weight", "bias"),
                                                                              ps)))
    assert (rel < 1e-10) if agree else (rel > 1e-3)


def test_lenet_learns_digits():
    from deepglossary.data import mnist

    d = mnist()
    net, test = lenet(dtype=np.float32), lenet("TEST", dtype=np.float32)
    solver = caffe.SGDSolver.from_prototxt(net, caffe.LENET_SOLVER)
    x = (d.x_train.reshape(-1, 1, 28, 28) * 255).round().astype(np.uint8)
    rng = np.random.default_rng(0)
    losses = [solver.step({"data": x[i], "label": d.y_train[i]})
              for i in (rng.choice(len(x), 64, replace=False) for _ in range(60))]
    for name, params in net.params.items():
        for p, q in zip(params, test.params[name]):
            q.data[...] = p.data
    xt = (d.x_test.reshape(-1, 1, 28, 28) * 255).round().astype(np.uint8)
    out = test.forward(data=xt, label=d.y_test)
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])
    assert out["accuracy"] > 0.85


def test_importing_caffe_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys; import deepglossary.frameworks.caffe, deepglossary.twins.caffe, "
            "deepglossary.exercises.caffe; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_average_pooling_in_ceil_mode_against_torch():
    pytest.importorskip("torch")
    from deepglossary.twins.caffe import torch_twin

    text = (caffe.LENET_PROTOTXT.replace("pool: MAX", "pool: AVE")
            .replace("kernel_size: 2\n    stride: 2", "kernel_size: 3\n    stride: 2"))
    net = lenet(text=text)
    assert net.blobs["pool1"].shape[2:] == (12, 12) and net.blobs["pool2"].shape[2:] == (4, 4)
    x = np.random.default_rng(4).uniform(0, 255, (2, 1, 28, 28))
    assert against_torch(net.section("data", "ip2"), torch_twin(net, "ip2"), x).ok


def test_a_blob_read_twice_adds_its_diffs():
    extra = ('layer {\n  name: "loss2"\n  type: "SoftmaxWithLoss"\n  bottom: "ip2"\n'
             '  bottom: "label"\n  top: "loss2"\n  loss_weight: 0.5\n}\n')
    one, two = lenet(), lenet(text=caffe.LENET_PROTOTXT + extra)
    rng = np.random.default_rng(5)
    batch = {"data": rng.uniform(0, 255, (3, 1, 28, 28)), "label": rng.integers(0, 10, 3)}
    for net in (one, two):
        net.forward(**batch)
        net.backward()
    np.testing.assert_allclose(two.blobs["ip2"].diff, 1.5 * one.blobs["ip2"].diff, rtol=1e-12)
    np.testing.assert_allclose(two.params["conv1"][0].grad, 1.5 * one.params["conv1"][0].grad,
                               rtol=1e-10)


def test_a_convolution_larger_than_its_input_is_refused_at_its_line():
    text = caffe.LENET_PROTOTXT.replace("kernel_size: 5", "kernel_size: 9")   # conv2 on 10x10
    text = text.replace("kernel_size: 2\n    stride: 2", "kernel_size: 4\n    stride: 4", 1)
    with pytest.raises(PrototxtError, match=r"line \d+: a kernel of 9 .* size 5"):
        lenet(text=text)                    # conv1 24 -> pool1 4/4 gives 5, conv2's 9 > 5


def test_relu_slope_mask_and_in_place_output():
    spec = ('name: "r"\nlayer {\n  name: "x"\n  type: "Input"\n  top: "x"\n'
            '  input_param { shape { dim: 4 } }\n}\n'
            'layer {\n  name: "relu"\n  type: "ReLU"\n  bottom: "x"\n  top: "%s"\n'
            '  relu_param { negative_slope: -0.5 }\n}\n')
    net = caffe.Net(spec % "y", dtype=np.float64)
    out = net.forward(x=np.array([-2.0, -1.0, 1.0, 2.0]))
    np.testing.assert_array_equal(out["y"], [1.0, 0.5, 1.0, 2.0])
    grad = net.backward(y=np.ones(4))["x"]
    np.testing.assert_array_equal(grad, [-0.5, -0.5, 1.0, 1.0])
    with pytest.raises(PrototxtError, match="negative_slope >= 0"):
        caffe.Net(spec % "x", dtype=np.float64)
    inplace = caffe.Net((spec % "x").replace("-0.5", "0.1"), dtype=np.float64)
    out = inplace.forward(x=np.array([-2.0, 3.0]).reshape(2))  # a last layer in place
    np.testing.assert_allclose(out["x"], [-0.2, 3.0])

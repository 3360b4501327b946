"""The one record of a training run (celesson.history) and the trainers that fill it."""

from __future__ import annotations

import numpy as np
import pytest

from celesson.history import History
from celesson.minibatch import Trainer, fit
from celesson.mlp import MLP
from celesson.optim import Adam, GradientDescent
from celesson.training import gradient_descent


def test_a_history_reads_as_arrays_by_key_and_by_name() -> None:
    h = History()
    h.append(0, loss=2.0, params=np.array([1.0, 2.0]))
    h.append(5, loss=0.5, params=np.array([3.0, 4.0]))
    assert h.steps.tolist() == [0, 5]
    assert h["loss"].tolist() == [2.0, 0.5] and h.loss is h["loss"]
    assert h.params.shape == (2, 2) and h.at(5).tolist() == [3.0, 4.0]
    assert sorted(h) == ["loss", "params"] and len(h) == 2
    with pytest.raises(ValueError, match="not decrease"):
        h.append(4, loss=0.1, params=np.zeros(2))
    with pytest.raises(ValueError, match=r"\['loss', 'params'\]"):
        h.append(6, loss=0.1)
    with pytest.raises(AttributeError, match="records"):
        _ = h.accuracy
    with pytest.raises(KeyError, match="accuracy"):
        _ = h["accuracy"]
    with pytest.raises(ValueError, match="not recorded"):
        h.at(3)


def test_a_history_keeps_copies_and_a_copy_is_independent() -> None:
    theta = np.array([1.0])
    h = History()
    h.append(0, params=theta)
    theta += 1.0  # the trainer goes on updating in place
    assert h.params[0, 0] == 1.0
    twin = h.copy()
    twin.append(1, params=theta)
    assert len(h.steps) == 1 and len(twin.steps) == 2
    with pytest.raises(ValueError, match="read-only"):
        h.params[0, 0] = 5.0
    with pytest.raises(ValueError, match="2 entries for 3 steps"):
        History([0, 1, 2], loss=[1.0, 2.0])


def test_fit_is_the_epoch_loop_over_a_trainer_to_the_bit() -> None:
    """fit = a fresh permutation per epoch, consecutive slices, one optimiser step each."""
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((50, 3)), rng.integers(0, 3, 50)
    net, twin = MLP([3, 5, 3], seed=4), MLP([3, 5, 3], seed=4)
    history = fit(net, X, y, optimizer=Adam(0.03), epochs=4, batch_size=16, seed=9)
    opt, order_rng, losses = Adam(0.03), np.random.default_rng(9), [twin.loss(X, y)]
    for _ in range(4):
        order = order_rng.permutation(50)
        for start in range(0, 50, 16):
            rows = order[start:start + 16]
            opt.step(twin.params, twin.gradients(X[rows], y[rows]))
        losses.append(twin.loss(X, y))
    np.testing.assert_array_equal(net.flat_params(), twin.flat_params())
    np.testing.assert_array_equal(history.loss, losses)
    assert history.steps.tolist() == [0, 1, 2, 3, 4]


def test_a_trainer_forks_and_both_branches_go_on_alike() -> None:
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((30, 2)), rng.integers(0, 2, 30)
    trainer = Trainer(MLP([2, 4, 2], seed=0), X, y, optimizer=Adam(0.05), batch_size=8, seed=1)
    first = trainer.step(loss=True)
    assert first == pytest.approx(MLP([2, 4, 2], seed=0).loss(X[trainer.order[:8]],
                                                               y[trainer.order[:8]]), rel=1e-15)
    trainer.run(5)
    twin = trainer.fork()
    trainer.run(7)
    twin.run(7)
    assert trainer.t == twin.t == 13 and trainer.steps_per_epoch == 4
    np.testing.assert_array_equal(trainer.model.flat_params(), twin.model.flat_params())
    twin.run(1)
    assert not np.array_equal(trainer.model.flat_params(), twin.model.flat_params())


def test_a_trainer_refuses_a_step_whose_loss_is_not_finite() -> None:
    net = MLP([1, 2], output="identity", seed=0)
    X, y = np.array([[1.0]]), np.array([[1e300, 0.0]])
    trainer = Trainer(net, X, y, optimizer=GradientDescent(0.1), kind="mse")
    before = net.flat_params()
    with pytest.raises(FloatingPointError, match="step 0"):
        trainer.step(loss=True)
    np.testing.assert_array_equal(net.flat_params(), before)


def test_gradient_descent_records_extra_series_at_its_checkpoints() -> None:
    seen = []

    def record(theta: np.ndarray) -> dict[str, float]:
        seen.append(float(theta[0]))
        return {"half": float(theta[0]) / 2, "loss": float(theta[0]) ** 2}

    rec = gradient_descent(lambda t: 2 * t, [1.0], lr=0.25, num_steps=4, checkpoints=[0, 2, 4],
                           record=record)
    assert rec.steps.tolist() == [0, 2, 4] and seen == [1.0, 0.25, 0.0625]
    assert rec.half.tolist() == [0.5, 0.125, 0.03125]
    assert rec.loss.tolist() == [1.0, 0.0625, 0.00390625]  # record's loss wins
    assert rec.norm.tolist() == [1.0, 0.25, 0.0625] and rec.final.tolist() == [0.0625]
    with pytest.raises(TypeError, match="record"):
        gradient_descent(lambda t: t, [1.0], lr=0.1, num_steps=1, record=3)  # type: ignore[arg-type]

"""The README's first command: ``python -m retrograd`` runs the tour from start to end."""

import retrograd.__main__ as tour


def test_tour_runs_and_prints_the_tutorial_results(capsys):
    tour.main(train_seconds=0.3)
    out = capsys.readouterr().out
    assert "tensor(14., grad_fn=<SumBackward0>)" in out
    assert "tensor([[2., 4.],\n        [6., 8.]])" in out
    assert "tensor(27., grad_fn=<MeanBackward0>)" in out
    assert "MeanBackward0\n      MulBackward0" in out  # the graph drawing
    assert "test accuracy" in out


def test_digits_mlp_learns():
    assert tour.train_digits_mlp(seconds=0.5) > 0.8

"""Anomaly mode: NaN in backward raises PyTorch's error, and a failing node's forward line is
shown, with the same warnings as PyTorch; switched off, nothing is recorded."""

import warnings

import pytest

import retrograd as rg


def _run(lib, make, check_nan=True):
    """Run ``make(lib)`` and backward inside detect_anomaly; (error, warning texts)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with lib.autograd.detect_anomaly(check_nan=check_nan):
            out = make(lib)  # the forward line the warning must name
            error = None
            try:
                out.sum().backward()
            except Exception as e:  # noqa: BLE001  (compared below)
                error = (type(e), str(e))
    texts = [str(w.message).split(" (Triggered internally")[0] for w in caught]
    return error, texts


def _nan_graph(lib):
    x = lib.tensor([-1.0, 4.0], requires_grad=True)
    return (x * 0).sqrt()  # sqrt'(0) = inf, times mul's 0: NaN in MulBackward0


def _failing_function(lib):
    class Boom(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom in backward")

    return Boom.apply(lib.tensor([1.0], requires_grad=True))


def _frames(text: str) -> list:
    """The 'File ..., line ..., in ...' lines of a warning that point into this file."""
    return [line.strip() for line in text.splitlines() if __file__ in line]


@pytest.mark.parametrize("make", [_nan_graph, _failing_function])
def test_errors_and_warnings_match_pytorch(torch_ref, make):
    ours, theirs = _run(rg, make), _run(torch_ref, make)
    assert ours[0] == theirs[0]  # the same error type and text
    assert ours[1][0] == theirs[1][0]  # "Anomaly Detection has been enabled. ..."
    assert ours[1][1].splitlines()[0] == theirs[1][1].splitlines()[0]  # "Error detected in ..."
    # the user's frames of the forward call (PyTorch adds a frame of its own apply)
    assert _frames(ours[1][1]) == _frames(theirs[1][1])
    assert len(_frames(ours[1][1])) == 3 and "out = make(lib)" in ours[1][1]


def test_nan_error_text():
    error, _ = _run(rg, _nan_graph)
    assert error == (RuntimeError, "Function 'MulBackward0' returned nan values in its 0th output.")


def test_check_nan_false_lets_nan_through(torch_ref):
    def make(lib):
        return _nan_graph(lib)

    for lib in (rg, torch_ref):
        error, texts = _run(lib, make, check_nan=False)
        assert error is None and len(texts) == 1


def test_switches_and_decorator(torch_ref):
    for lib in (rg, torch_ref):
        assert not lib.is_anomaly_enabled()
        lib.autograd.set_detect_anomaly(True)
        assert lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()
        lib.autograd.set_detect_anomaly(False)
        assert not lib.is_anomaly_enabled()
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            assert lib.is_anomaly_enabled() and not lib.is_anomaly_check_nan_enabled()
        assert not lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()

    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        decorator = rg.autograd.detect_anomaly()

    @decorator
    def step():
        assert rg.is_anomaly_enabled()
        x = rg.tensor([0.0], requires_grad=True)
        x.sqrt().mul(0).sum().backward()

    with pytest.raises(RuntimeError, match="returned nan values in its 0th output"):
        with pytest.warns(UserWarning, match="Error detected in SqrtBackward0") as caught:
            step()
    assert caught[0].filename == __file__  # the warning points at the user's backward call
    assert not rg.is_anomaly_enabled()


def test_anomaly_mode_records_only_while_on():
    from retrograd.debug import provenance

    x = rg.tensor([1.0], requires_grad=True)
    assert "_provenance" not in (x * 2).grad_fn.__dict__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rg.autograd.detect_anomaly():
            assert provenance.recording()
            assert "_provenance" in (x * 2).grad_fn.__dict__
    assert not provenance.recording()
    assert "_provenance" not in (x * 2).grad_fn.__dict__


def test_failure_in_a_node_made_before_anomaly_mode_says_so():
    y = _failing_function(rg)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rg.autograd.set_detect_anomaly(True)
        try:
            with pytest.raises(ValueError, match="boom"):
                y.sum().backward()
        finally:
            rg.autograd.set_detect_anomaly(False)
    assert any("not recorded" in str(w.message) for w in caught)

"""L-BFGS: a quasi-Newton method that keeps the last ``history_size`` steps and gradient
changes and turns the gradient into a direction with the two-loop recursion.

Every ``step(closure)`` runs up to ``max_iter`` iterations, re-evaluating ``closure`` (which
zeroes the gradients, computes the loss, calls ``backward`` and returns the loss) after each
move. With ``line_search_fn=None`` each move is ``lr`` times the direction (the first one scaled
down to at most one unit of L1 length); with ``"strong_wolfe"`` a bracketing and zoom line search
picks a step that satisfies the strong Wolfe conditions. Like PyTorch's, it needs one parameter
group and works on all its parameters as one flat vector.

The stopping rules are PyTorch's: gradient max-norm <= ``tolerance_grad``, a direction that
does not descend by more than ``tolerance_change``, a step or a loss change below
``tolerance_change``, ``max_iter`` iterations or ``max_eval`` evaluations of ``closure``.
"""

from __future__ import annotations

import numpy as np

from .. import grad_mode
from .optimizer import Optimizer

__all__ = ["LBFGS"]


def _cubic_min(x1, f1, g1, x2, f2, g2, lo, hi) -> float:
    """The minimiser in [lo, hi] of the cubic through (x1, f1, slope g1) and (x2, f2, slope
    g2); the interval's midpoint when that cubic has no real minimiser."""
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2
    d2 = np.sqrt(disc) * np.sign(x2 - x1)
    x = x2 - (x2 - x1) * (g2 + d2 - d1) / (g2 - g1 + 2 * d2)
    return float(min(max(x, lo), hi))


class LBFGS(Optimizer):
    """Limited-memory BFGS, as ``torch.optim.LBFGS``; ``step`` needs a ``closure``."""

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise RuntimeError("only 'strong_wolfe' is supported")
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                    "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
                    "history_size": history_size, "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # ---- the parameters as one flat vector -----------------------------------------------------

    def _flat_grad(self) -> np.ndarray:
        parts = [np.zeros(p._data.size, p._data.dtype) if p._grad is None
                 else p._grad._data.reshape(-1) for p in self._params]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _add(self, step: float, direction: np.ndarray) -> None:
        start = 0
        for p in self._params:
            n = p._data.size
            p._data += (step * direction[start:start + n]).reshape(p._data.shape).astype(
                p._data.dtype, copy=False)
            p._bump_version()
            start += n

    def _values(self) -> list:
        return [p._data.copy() for p in self._params]

    def _restore(self, values: list) -> None:
        for p, v in zip(self._params, values):
            p._data[...] = v
            p._bump_version()

    def _evaluate(self, closure) -> tuple:
        with grad_mode.enable_grad():
            loss = float(closure())
        return loss, self._flat_grad()

    # ---- the line search -----------------------------------------------------------------------

    def _strong_wolfe(self, closure, t, d, f, g, gtd, tol_change, c1=1e-4, c2=0.9, max_ls=25):
        """A step t along d with f(t) <= f + c1 t gtd and |f'(t)| <= c2 |gtd|: grow t until
        an interval brackets such a step, then shrink the interval by cubic interpolation.
        Returns (loss, flat grad, t, evaluations); the parameters are left at x + t d."""
        x0 = self._values()
        d_max = float(np.abs(d).max())
        evals = 0

        def phi(step):
            nonlocal evals
            self._restore(x0)
            self._add(step, d)
            evals += 1
            loss, grad = self._evaluate(closure)
            return loss, grad, float(grad @ d)

        prev_t, prev_f, prev_g, prev_gtd = 0.0, f, g, gtd
        bracket = None
        f_new, g_new, gtd_new = phi(t)
        for i in range(max_ls):
            if f_new > f + c1 * t * gtd or (i > 0 and f_new >= prev_f):
                bracket = [(prev_t, prev_f, prev_g, prev_gtd), (t, f_new, g_new, gtd_new)]
                break
            if abs(gtd_new) <= -c2 * gtd:
                return f_new, g_new, t, evals
            if gtd_new >= 0:
                bracket = [(t, f_new, g_new, gtd_new), (prev_t, prev_f, prev_g, prev_gtd)]
                break
            # extrapolate: a cubic step in [t + 0.01 (t - prev_t), 10 t]
            lo, hi = t + 0.01 * (t - prev_t), t * 10
            nxt = _cubic_min(prev_t, prev_f, prev_gtd, t, f_new, gtd_new, lo, hi)
            prev_t, prev_f, prev_g, prev_gtd = t, f_new, g_new, gtd_new
            t = nxt
            f_new, g_new, gtd_new = phi(t)
        else:
            return f_new, g_new, t, evals
        if bracket is None:
            return f_new, g_new, t, evals

        # zoom: bracket[0] is the best point so far, the minimiser lies between the two
        for _ in range(max_ls - evals + 1):
            (t_lo, f_lo, g_lo, gtd_lo), (t_hi, f_hi, _, gtd_hi) = bracket
            if abs(t_hi - t_lo) * d_max < tol_change:
                break
            a, b = min(t_lo, t_hi), max(t_lo, t_hi)
            t = _cubic_min(t_lo, f_lo, gtd_lo, t_hi, f_hi, gtd_hi, a, b)
            margin = 0.1 * (b - a)
            if min(b - t, t - a) < margin:  # too near an end: move it inside
                t = b - margin if abs(t - b) < abs(t - a) else a + margin
            f_new, g_new, gtd_new = phi(t)
            if f_new > f + c1 * t * gtd or f_new >= f_lo:
                bracket[1] = (t, f_new, g_new, gtd_new)
            else:
                if abs(gtd_new) <= -c2 * gtd:
                    return f_new, g_new, t, evals
                if gtd_new * (t_hi - t_lo) >= 0:
                    bracket[1] = bracket[0]
                bracket[0] = (t, f_new, g_new, gtd_new)
        t, f_best, g_best, _ = bracket[0]
        self._restore(x0)
        self._add(t, d)
        return f_best, g_best, t, evals

    # ---- the step ------------------------------------------------------------------------------

    def step(self, closure):
        """Up to ``max_iter`` L-BFGS iterations; returns the loss of the first ``closure()``."""
        if closure is None:
            raise TypeError("LBFGS.step() needs a closure that re-evaluates the model and "
                               "returns the loss (it calls it several times per step).")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history, line_search = group["history_size"], group["line_search_fn"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with grad_mode.enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if np.abs(g).max(initial=0.0) <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        dirs, steps, ro = (state.get("old_dirs", []), state.get("old_stps", []),
                           state.get("ro", []))
        h_diag = state.get("H_diag", 1.0)
        prev_g, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -g
                dirs, steps, ro, h_diag = [], [], [], 1.0
            else:
                y = g - prev_g
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:  # keep the pair only where the curvature is positive
                    if len(dirs) == history:
                        dirs.pop(0), steps.pop(0), ro.pop(0)
                    dirs.append(y), steps.append(s), ro.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                # two-loop recursion: d = -H g, H the L-BFGS inverse Hessian estimate
                q = -g
                alphas = [0.0] * len(dirs)
                for i in range(len(dirs) - 1, -1, -1):
                    alphas[i] = float(steps[i] @ q) * ro[i]
                    q = q - alphas[i] * dirs[i]
                d = q * h_diag
                for i in range(len(dirs)):
                    beta = float(dirs[i] @ d) * ro[i]
                    d = d + steps[i] * (alphas[i] - beta)
            prev_g, prev_loss = g.copy(), loss
            t = min(1.0, 1.0 / float(np.abs(g).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(g @ d)
            if gtd > -tol_change:
                break

            ls_evals = 0
            if line_search == "strong_wolfe":
                loss, g, t, ls_evals = self._strong_wolfe(closure, t, d, loss, g, gtd,
                                                          tol_change)
            else:
                self._add(t, d)
                if n_iter != max_iter:
                    loss, g = self._evaluate(closure)
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals

            if n_iter == max_iter or evals >= max_eval:
                break
            if np.abs(g).max(initial=0.0) <= tol_grad:
                break
            if np.abs(d * t).max(initial=0.0) <= tol_change:
                break
            if abs(loss - prev_loss) < tol_change:
                break

        state.update({"d": d, "t": t, "old_dirs": dirs, "old_stps": steps, "ro": ro,
                      "H_diag": h_diag, "prev_flat_grad": prev_g, "prev_loss": prev_loss})
        return orig_loss

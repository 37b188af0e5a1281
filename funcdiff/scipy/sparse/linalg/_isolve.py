"""``cg``, ``gmres`` and ``bicgstab`` with SciPy's signatures, on values that trace.

``A`` (and the preconditioner ``M``, which approximates ``A``'s inverse) may be a dense
matrix (NumPy or traced), a SciPy sparse matrix or ``LinearOperator``, or a function
``x -> A @ x``.  Outside any transform (with SciPy installed) SciPy's own solver runs.
Under a transform the same algorithms -- SciPy's recurrences, stopping rules and
``info`` codes, step for step -- run as ``funcdiff.lax.while_loop``s, so they compile
under ``jit`` and batch under ``vmap``.

Derivatives come from the linear system, not from the iterations: each solve is a
``funcdiff.lax.custom_linear_solve`` (``symmetric=True`` for ``cg``; ``gmres`` and
``bicgstab`` solve the transposed system for reverse mode, with ``M`` transposed too),
so the derivative of ``x`` is another solve with the same operator, exact when the
solve converged.  The entries of a SciPy sparse matrix are constants; to differentiate
with respect to an operator's values pass a matrix or a function.
"""
from __future__ import annotations

import numpy as np

from .... import lax
from .... import numpy as fnp
from ....api.autodiff import vjp
from ....core.errors import FuncdiffTypeError, FuncdiffValueError
from ....core.trace import get_aval, state, trace_flat
from ..._implicit import concrete, differentiating, warn_unconverged

try:
    import scipy.sparse as _sps
    import scipy.sparse.linalg as _spla
except ImportError:        # SciPy is optional: the traced solvers run instead
    _sps = _spla = None

__all__ = ["bicgstab", "cg", "gmres"]

_FDFD = "fdFD"


# --- operators ------------------------------------------------------------------------

def _coerce(*dtypes):
    """SciPy's ``make_system`` dtype: non-float kinds count as float64."""
    return np.result_type(*[d if np.dtype(d).char in _FDFD else np.float64 for d in dtypes])


def _operator(A, name, n=None):
    """``(matvec, shape, dtype or None, scipy_form)`` for a matrix, a SciPy sparse matrix
    or LinearOperator, or a function."""
    if _spla is not None and isinstance(A, _spla.LinearOperator):
        if hasattr(A, "A") and not callable(A.A):     # aslinearoperator(matrix)
            mv, shape, dt, _ = _operator(A.A, name)
            return mv, shape, dt, A
        return A._matvec, A.shape, A.dtype, A
    if _sps is not None and _sps.issparse(A):
        coo = A.tocoo()
        rows, cols, data = coo.row, coo.col, coo.data
        shape = A.shape

        def sparse_matvec(x):
            out = fnp.zeros(shape[0], fnp.result_type(data.dtype, x.dtype))
            return out.at[rows].add(data * x[cols])
        return sparse_matvec, shape, A.dtype, A
    if callable(A) and not hasattr(A, "shape"):
        return A, None, None, None
    a = A if hasattr(A, "shape") and hasattr(A, "dtype") else np.asarray(A)
    if len(a.shape) != 2:
        raise FuncdiffValueError(f"{name}: expected a square matrix, a LinearOperator or a "
                                 f"function, got an array of shape {a.shape}")
    return (lambda x: fnp.matmul(a, x)), tuple(a.shape), np.dtype(a.dtype), a


def _transpose(matvec, n, dtype):
    """The transpose of a linear ``matvec`` (its vjp), for the transposed system."""
    def vecmat(y):
        _, pullback = vjp(matvec, fnp.zeros(n, dtype))
        return pullback(y)[0]
    return vecmat


def _setup(fname, A, b, x0, M, rtol, atol, maxiter):
    """SciPy's ``make_system`` checks and conversions; returns the pieces both paths use."""
    mv, shape, a_dt, a_sp = _operator(A, fname)
    b = b if hasattr(b, "shape") and hasattr(b, "dtype") else np.asarray(b)
    n = b.shape[0] if len(b.shape) else 0
    if shape is not None:
        if shape[0] != shape[1]:
            raise FuncdiffValueError(f"{fname}: expected a square matrix, but A has shape "
                                     f"{shape}")
        n = shape[0]
    if tuple(b.shape) not in ((n,), (n, 1)):
        raise FuncdiffValueError(f"{fname}: shapes of A {shape or '(a function)'} and b "
                                 f"{tuple(b.shape)} are incompatible: b must have shape "
                                 f"(N,) or (N, 1)")
    b_dt = b.dtype if np.dtype(b.dtype).char in _FDFD else np.dtype(np.float64)
    if a_dt is None:     # a function: the dtype it gives
        closed, _, _ = trace_flat(lambda x: [mv(x)], [get_aval(fnp.zeros(n, b_dt))])
        out = closed.jaxpr.outvars[0].aval
        if out.shape != (n,):
            raise FuncdiffValueError(f"{fname}: A(x) must return shape ({n},), got "
                                     f"{out.shape}")
        a_dt = out.dtype
    dtype = _coerce(a_dt, b_dt)
    if M is None:
        psolve, m_sp = (lambda x: x), None
    else:
        psolve, m_shape, _, m_sp = _operator(M, fname + " M")
        if m_shape is not None and tuple(m_shape) != (n, n):
            raise FuncdiffValueError(f"{fname}: matrix and preconditioner have different "
                                     f"shapes: {(n, n)} and {tuple(m_shape)}")
    if isinstance(atol, str) or atol is None or not atol >= 0:
        raise FuncdiffValueError(
            f"'scipy.sparse.linalg.{fname}' called with invalid `atol`={atol}; if set, "
            "`atol` must be a real, non-negative number.")
    if maxiter is None:
        maxiter = n * 10
    if int(maxiter) != maxiter:
        raise FuncdiffTypeError(f"{fname}: maxiter must be an integer, got {maxiter!r}")
    return dict(mv=mv, a_sp=a_sp, psolve=psolve, M=M, m_sp=m_sp, n=n, dtype=dtype, b=b,
                x0=x0, rtol=float(rtol), atol=float(atol), maxiter=int(maxiter))


def _scipy_eager(sp_fn, s, A, M, callback, **kw):
    """SciPy's own solver, outside transforms (functions wrapped as LinearOperators)."""
    n, dt = s["n"], s["dtype"]
    a = s["a_sp"] if s["a_sp"] is not None else _spla.LinearOperator((n, n), matvec=A,
                                                                     dtype=dt)
    m = None if M is None else (s["m_sp"] if s["m_sp"] is not None else
                                _spla.LinearOperator((n, n), matvec=M, dtype=dt))
    return sp_fn(a, s["b"], s["x0"], rtol=s["rtol"], atol=s["atol"], maxiter=s["maxiter"],
                 M=m, callback=callback, **kw)


def _solve(fname, s, loop, symmetric, callback):
    """Run ``loop(matvec, psolve, b, x0) -> (x, info)`` as a ``custom_linear_solve``."""
    if callback is not None:
        raise FuncdiffValueError(
            f"scipy.sparse.linalg.{fname}: callback is supported only outside transforms "
            "(where SciPy's own solver runs); under jit/grad/vmap the iterations are a "
            "traced loop.  Drop the callback, or check the returned info.")
    n, dt = s["n"], s["dtype"]
    b = fnp.ravel(s["b"]).astype(dt)
    x0 = s["x0"]
    if isinstance(x0, str):
        if x0 != "Mb":
            raise FuncdiffValueError(f"{fname}: x0 must be an array, None or 'Mb', got "
                                     f"{x0!r}")
        x0 = s["psolve"](b)
    elif x0 is None:
        x0 = fnp.zeros(n, dt)
    else:
        x0 = x0 if hasattr(x0, "shape") and hasattr(x0, "dtype") else np.asarray(x0)
        if tuple(x0.shape) not in ((n,), (n, 1)):
            raise FuncdiffValueError(f"{fname}: shapes of A {(n, n)} and x0 "
                                     f"{tuple(x0.shape)} are incompatible")
        x0 = fnp.ravel(x0).astype(dt)
    mv, psolve = s["mv"], s["psolve"]

    def matvec(x):
        return fnp.asarray(mv(x)).astype(dt)

    def solve(op, rhs):
        return loop(op, psolve, rhs, x0)

    if symmetric:
        x, info = lax.custom_linear_solve(matvec, b, solve, symmetric=True, has_aux=True)
    else:
        psolve_t = psolve if s["M"] is None else _transpose(psolve, n, dt)

        def transpose_solve(op, rhs):
            return loop(op, psolve_t, rhs, x0)
        x, info = lax.custom_linear_solve(matvec, b, solve, transpose_solve=transpose_solve,
                                          has_aux=True)
    i = concrete(info)
    if i is not None and int(i) != 0 and differentiating():
        warn_unconverged(f"scipy.sparse.linalg.{fname}", f"info={int(i)}", stacklevel=4)
    return x, info


# --- the algorithms (SciPy's, as traced loops) -----------------------------------------

def _dot(x, y):
    """SciPy's ``dotprod``: ``vdot`` (conjugating ``x``) for complex, ``dot`` for real."""
    return fnp.vdot(x, y) if np.dtype(get_aval(x).dtype).kind == "c" else fnp.dot(x, y)


def _norm(x):
    return fnp.linalg.norm(x)


def _safe(d, cond):
    """``d`` where it is used as a divisor, 1 where ``cond`` says it is not (no 0/0)."""
    return fnp.where(cond, d, fnp.ones_like(d))


def _tolerance(b, rtol, atol):
    bnrm2 = _norm(b)
    return bnrm2, fnp.maximum(atol, rtol * bnrm2)


def _finish(b, bnrm2, x, info):
    """SciPy returns ``(b, 0)`` for ``b == 0``."""
    zero = bnrm2 == 0
    return fnp.where(zero, b, x), fnp.where(zero, 0, info)


def _cg_loop(matvec, psolve, b, x0, rtol, atol, maxiter):
    bnrm2, tol = _tolerance(b, rtol, atol)
    r0 = b - matvec(x0)
    zero = fnp.zeros((), r0.dtype)

    def cond(c):
        it, _, r, _, _ = c
        return (it < maxiter) & (_norm(r) >= tol) & (bnrm2 != 0)

    def body(c):
        it, x, r, p, rho_prev = c
        z = psolve(r)
        rho = _dot(r, z)
        first = it == 0
        beta = fnp.where(first, zero, rho / _safe(rho_prev, ~first))
        p = fnp.where(first, z, p * beta + z)
        q = matvec(p)
        alpha = rho / _dot(p, q)
        return it + 1, x + alpha * p, r - alpha * q, p, rho

    it, x, _, _, _ = lax.while_loop(cond, body, (np.int64(0), x0, r0, fnp.zeros_like(b), zero))
    return _finish(b, bnrm2, x, fnp.where(it >= maxiter, maxiter, 0))


_RUNNING = 1


def _bicgstab_loop(matvec, psolve, b, x0, rtol, atol, maxiter):
    bnrm2, tol = _tolerance(b, rtol, atol)
    r0 = b - matvec(x0)
    rtilde = r0
    dt = r0.dtype
    rhotol = float(np.finfo(dt).eps) ** 2
    zero = fnp.zeros((), dt)

    def cond(c):
        return (c[0] < maxiter) & (c[-1] == _RUNNING) & (bnrm2 != 0)

    def body(c):
        it, x, r, p, v, rho_prev, omega, alpha, _ = c
        conv0 = _norm(r) < tol
        rho = _dot(rtilde, r)
        brk_rho = fnp.abs(rho) < rhotol
        first = it == 0
        brk_omega = ~first & (fnp.abs(omega) < rhotol)
        ok = ~first & ~brk_omega
        beta = fnp.where(ok, (rho / _safe(rho_prev, ok)) * (alpha / _safe(omega, ok)), zero)
        p_new = fnp.where(first, r, (p - omega * v) * beta + r)
        phat = psolve(p_new)
        v_new = matvec(phat)
        rv = _dot(rtilde, v_new)
        brk_rv = rv == 0
        alpha_new = rho / _safe(rv, ~brk_rv)
        s = r - alpha_new * v_new
        conv1 = _norm(s) < tol
        x1 = x + alpha_new * phat
        shat = psolve(s)
        t = matvec(shat)
        tt = _dot(t, t)
        omega_new = _dot(t, s) / _safe(tt, tt != 0)
        x2 = x1 + omega_new * shat
        r2 = s - omega_new * t
        # SciPy's exits, in its order: converged, rho breakdown, omega breakdown,
        # rv breakdown, converged half-way (x1), else one more iteration
        status = fnp.where(conv0, 0, fnp.where(brk_rho, -10, fnp.where(
            brk_omega | brk_rv, -11, fnp.where(conv1, 0, _RUNNING))))
        stop_before = conv0 | brk_rho | brk_omega | brk_rv
        x_out = fnp.where(stop_before, x, fnp.where(conv1, x1, x2))
        going = status == _RUNNING
        return (fnp.where(going, it + 1, it), x_out, fnp.where(going, r2, r),
                p_new, v_new, rho, omega_new, alpha_new, status)

    init = (np.int64(0), x0, r0, fnp.zeros_like(b), fnp.zeros_like(b), zero, zero, zero,
            np.int64(_RUNNING))
    it, x, *_, status = lax.while_loop(cond, body, init)
    info = fnp.where(status == _RUNNING, maxiter, status)
    return _finish(b, bnrm2, x, info)


def _lartg(f, g, complex_):
    """LAPACK's ``lartg``: ``c, s, r`` with ``[c s; -conj(s) c] @ [f; g] = [r; 0]``."""
    g0, f0 = g == 0, f == 0
    if complex_:
        f2 = fnp.real(f * fnp.conj(f))
        g2 = fnp.real(g * fnp.conj(g))
        h2 = f2 + g2
        c = fnp.sqrt(f2 / _safe(h2, h2 != 0))
        r = f / _safe(c, ~f0).astype(f.dtype)
        s = fnp.conj(g) * (f / _safe(fnp.sqrt(f2 * h2), ~f0 & ~g0).astype(f.dtype))
        ag = fnp.abs(g)
        s_f0 = fnp.conj(g) / _safe(ag, ~g0).astype(f.dtype)
        r_f0 = ag.astype(f.dtype)
    else:
        d = fnp.sqrt(f * f + g * g)
        r = fnp.where(f < 0, -d, d)
        c = fnp.abs(f) / _safe(d, d != 0)
        s = g / _safe(r, r != 0)
        s_f0 = fnp.where(g < 0, -1.0, 1.0).astype(f.dtype)
        r_f0 = fnp.abs(g)
    c = fnp.where(g0, 1.0, fnp.where(f0, 0.0, c)).astype(f.dtype)
    s = fnp.where(g0, 0, fnp.where(f0, s_f0, s)).astype(f.dtype)
    r = fnp.where(g0, f, fnp.where(f0, r_f0, r))
    return c, s, r


def _gmres_loop(matvec, psolve, b, x0, rtol, atol, maxiter, restart):
    bnrm2, tol = _tolerance(b, rtol, atol)
    dt = np.dtype(get_aval(b).dtype)
    complex_ = dt.kind == "c"
    n = get_aval(b).shape[0]
    eps = float(np.finfo(dt).eps)
    m = restart
    mb_nrm2 = _norm(psolve(b))
    safe_b = _safe(bnrm2, bnrm2 != 0)
    ptol0 = mb_nrm2 * fnp.minimum(1.0, tol / safe_b)
    r0 = b - matvec(x0)
    rnorm0 = _norm(r0)
    rdt = get_aval(rnorm0).dtype

    def arnoldi(c):
        """One column of the Arnoldi process with Givens rotations (SciPy's inner
        loop body)."""
        col, V, H, G, S, presid, brk, ptol = c
        w = psolve(matvec(V[col]))
        h0 = _norm(w)

        def mgs(k, wh):          # modified Gram-Schmidt against V[:col + 1]
            w, h = wh
            t = _dot(V[k], w)
            return w - t * V[k], h.at[k].set(t)
        w, h = lax.fori_loop(0, col + 1, mgs, (w, fnp.zeros(m + 1, dt)))
        h1 = _norm(w)
        breakdown = h1 <= eps * h0
        h = h.at[col + 1].set(fnp.where(breakdown, 0, h1).astype(dt))
        V = V.at[col + 1].set(fnp.where(breakdown, w, w * (1 / _safe(h1, ~breakdown))))

        def rotate(k, h):        # the earlier rotations, on this column
            cg, sg = G[k, 0], G[k, 1]
            n0, n1 = h[k], h[k + 1]
            return h.at[k].set(cg * n0 + sg * n1).at[k + 1].set(-fnp.conj(sg) * n0 + cg * n1)
        h = lax.fori_loop(0, col, rotate, h)
        cc, ss, mag = _lartg(h[col], h[col + 1], complex_)
        G = G.at[col].set(fnp.stack([cc, ss]))
        h = h.at[col].set(mag).at[col + 1].set(0)
        H = H.at[col].set(h)
        tmp = -fnp.conj(ss) * S[col]
        S = S.at[col].set(cc * S[col]).at[col + 1].set(tmp)
        presid = fnp.abs(tmp)
        stop = (presid <= ptol) | breakdown
        return col + 1, V, H, G, S, presid, breakdown, ptol, stop

    def outer_cond(c):
        it, _, _, _, _, _, _, done = c
        return (it < maxiter) & ~done

    def outer_body(c):
        it, x, r, rnorm, ptol, pmf, presid, _ = c
        v0 = psolve(r)
        t0 = _norm(v0)
        V = fnp.zeros((m + 1, n), dt).at[0].set(v0 * (1 / t0))
        S = fnp.zeros(m + 1, dt).at[0].set(t0.astype(dt))
        H = fnp.zeros((m, m + 1), dt)
        G = fnp.zeros((m, 2), dt)
        inner = (np.int64(0), V, H, G, S, presid, fnp.array(False), ptol, fnp.array(False))
        col, V, H, G, S, presid, brk, _, _ = lax.while_loop(
            lambda c: (c[0] < m) & ~c[-1], lambda c: arnoldi(c[:-1]), inner)
        col = col - 1
        S = fnp.where(H[col, col] == 0, S.at[col].set(0), S)
        # back substitution on the triangular factor (SciPy's pseudo-solve)
        y = fnp.where(fnp.arange(m + 1) <= col, S, 0)

        def back(i, y):
            k = col - i
            nz = y[k] != 0
            yk = fnp.where(nz, y[k] / _safe(H[k, k], nz), y[k])
            y = y.at[k].set(yk)
            mask = fnp.arange(m + 1) < k
            hk = fnp.concatenate([H[k, :m], fnp.zeros(1, dt)])
            return fnp.where(mask, y - yk * hk, y)
        y = lax.fori_loop(0, col, back, y)
        y = y.at[0].set(fnp.where(y[0] != 0, y[0] / _safe(H[0, 0], y[0] != 0), y[0]))
        x = x + y @ V
        r = b - matvec(x)
        rnorm = _norm(r)
        done = (rnorm <= tol) | brk
        pmf = fnp.where(presid <= ptol, fnp.maximum(eps, 0.25 * pmf),
                        fnp.minimum(1.0, 1.5 * pmf))
        ptol = presid * fnp.minimum(pmf, tol / _safe(rnorm, rnorm != 0))
        return it + 1, x, r, rnorm, ptol.astype(rdt), pmf.astype(rdt), presid, done

    init = (np.int64(0), x0, r0, rnorm0, ptol0.astype(rdt), fnp.ones((), rdt), fnp.zeros((), rdt),
            (rnorm0 < tol) | (bnrm2 == 0))
    _, x, _, rnorm, *_ = lax.while_loop(outer_cond, outer_body, init)
    return _finish(b, bnrm2, x, fnp.where(rnorm <= tol, 0, maxiter))


# --- the public functions ---------------------------------------------------------------

def cg(A, b, x0=None, *, rtol=1e-5, atol=0., maxiter=None, M=None, callback=None):
    """Like ``scipy.sparse.linalg.cg``: conjugate gradients for a symmetric (Hermitian)
    positive-definite ``A``.  Returns ``(x, info)``: ``info`` 0 on convergence
    (``norm(b - A @ x) <= max(rtol * norm(b), atol)``), else the iteration count.
    Differentiable (``symmetric=True`` ``custom_linear_solve``) in ``A``'s values and
    ``b``."""
    s = _setup("cg", A, b, x0, M, rtol, atol, maxiter)
    if not state.stack and _spla is not None:
        return _scipy_eager(_spla.cg, s, A, M, callback)

    def loop(mv, ps, rhs, x0):
        return _cg_loop(mv, ps, rhs, x0, s["rtol"], s["atol"], s["maxiter"])
    return _solve("cg", s, loop, True, callback)


def bicgstab(A, b, x0=None, *, rtol=1e-5, atol=0., maxiter=None, M=None, callback=None):
    """Like ``scipy.sparse.linalg.bicgstab``: BiConjugate Gradient STABilized for a
    general square ``A``.  Returns ``(x, info)``: ``info`` 0 on convergence, the
    iteration count when ``maxiter`` was reached, -10 / -11 on a breakdown.  Reverse
    mode solves the transposed system with the same method."""
    s = _setup("bicgstab", A, b, x0, M, rtol, atol, maxiter)
    if not state.stack and _spla is not None:
        return _scipy_eager(_spla.bicgstab, s, A, M, callback)

    def loop(mv, ps, rhs, x0):
        return _bicgstab_loop(mv, ps, rhs, x0, s["rtol"], s["atol"], s["maxiter"])
    return _solve("bicgstab", s, loop, False, callback)


def gmres(A, b, x0=None, *, rtol=1e-5, atol=0., restart=None, maxiter=None, M=None,
          callback=None, callback_type=None):
    """Like ``scipy.sparse.linalg.gmres``: restarted GMRES (restart 20 by default, at
    most N) for a general square ``A``, with SciPy's inner/outer tolerance control.
    ``maxiter`` counts restart cycles.  Returns ``(x, info)``: ``info`` 0 on
    convergence, else ``maxiter``.  Reverse mode solves the transposed system."""
    s = _setup("gmres", A, b, x0, M, rtol, atol, maxiter)
    if not state.stack and _spla is not None:
        return _scipy_eager(_spla.gmres, s, A, M, callback, restart=restart,
                            callback_type=callback_type)
    m = min(20 if restart is None else int(restart), s["n"])

    def loop(mv, ps, rhs, x0):
        return _gmres_loop(mv, ps, rhs, x0, s["rtol"], s["atol"], s["maxiter"], m)
    return _solve("gmres", s, loop, False, callback)

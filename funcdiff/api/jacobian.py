"""``jacobian(f)``: forward or reverse mode, chosen from the predicted cost of both.

For ``f: R^n -> R^m`` forward mode (``jacfwd``) pushes the n input directions through
the linearized function (cost ~ n jvps), reverse mode (``jacrev``) pulls the m output
directions back through the transposed one (cost ~ m vjps), after one forward pass in
both cases.  Rather than a rule of thumb on n and m, ``jacobian`` traces both programs
(nothing is computed), runs ``cost_analysis`` on each and takes the one with fewer
flops (on a tie within 5%: the smaller peak memory, then forward mode).  The choice
is cached per input signature, so repeated calls pay for the analysis once.

``jacobian(f, explain=True)(x)`` prints the report; ``jacobian(f, mode="report")(x)``
returns it (a ``JacobianReport``) without computing anything;
``jacobian(f).last_report`` holds the report of the last call that made one.

``jacobian(f, sparse=True)`` finds ``f``'s sparsity pattern from its IR, colors it and
computes one jvp (or vjp) per color (``api.sparse``); the report then also shows the
colored cost beside the dense ones.  ``hessian(f, sparse=True)`` is the same for a
Hessian (star coloring); ``hessian`` without it is ``autodiff.dense_hessian``.

Complex numbers (without ``holomorphic=True``): forward mode does not apply to complex
inputs, reverse mode not to complex outputs (see ``jacfwd``/``jacrev``), so the choice
is made among the modes that apply, and the result never depends on which was cheaper.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ._flat import flatten_args, leaf_aval, leaf_operand
from .jit import cost_analysis
from .autodiff import _fun_name, _jacfwd, _jacrev, dense_hessian, make_jaxpr
from .sparse import SparseJacobian, sparse_hessian, sparse_jacobian, sparsity_plan
from ..core.errors import FuncdiffError, FuncdiffValueError
from ..core.tracebacks import api_boundary
from ..tree_util import tree_flatten

__all__ = ["jacobian", "jacobian_report", "JacobianReport", "hessian", "SparseJacobian"]

_TIE = 0.05
# mode="report" without sparse=True analyses the pattern up to this many entries of J
_REPORT_SPARSE_LIMIT = 4_000_000


def _fmt(n):
    for unit, k in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= k:
            return f"{n / k:.3g} {unit}"
    return f"{n:.3g} "


@dataclass
class JacobianReport:
    """Why ``jacobian`` chose the mode it chose."""
    n_in: int            # number of input elements differentiated (n)
    n_out: int           # number of output elements (m)
    fwd: dict | None     # cost_analysis of jacfwd(f); None: forward mode does not apply
    rev: dict | None     # cost_analysis of jacrev(f); None: reverse mode does not apply
    choice: str          # "fwd" or "rev"
    reason: str
    # the colored (sparse) evaluation: nnz, density, colors_fwd, colors_rev, mode (the
    # orientation used), cost (its cost_analysis); None when not analysed
    sparse: dict | None = None

    def __str__(self):
        def line(name, c, k, what):
            if c is None:
                return f"  {name}: does not apply (complex {what}s, holomorphic=False)"
            return (f"  {name}: {k} {what} direction(s) in one batched pass: "
                    f"{_fmt(c['flops'])}flop, {c['n_eqns']} eqns, peak "
                    f"{_fmt(c['peak_bytes'])}B")
        lines = [
            f"jacobian: f maps n={self.n_in} input elements to m={self.n_out} output "
            "elements",
            line("forward mode (jacfwd)", self.fwd, self.n_in, "input"),
            line("reverse mode (jacrev)", self.rev, self.n_out, "output"),
            f"  choice: {'forward' if self.choice == 'fwd' else 'reverse'} mode: "
            f"{self.reason}"]
        sp = self.sparse
        if sp is not None:
            c = sp["cost"]
            k = sp["colors_fwd"] if sp["mode"] == "fwd" else sp["colors_rev"]
            lines += [
                f"  sparsity (from the IR): {sp['nnz']} of {self.n_in * self.n_out} "
                f"entries ({100 * sp['density']:.3g}%); colors: {sp['colors_fwd']} "
                f"columns (jvps), {sp['colors_rev']} rows (vjps)",
                f"  colored {'forward' if sp['mode'] == 'fwd' else 'reverse'} mode "
                f"(sparse=True): {k} direction(s) in one batched pass: "
                f"{_fmt(c['flops'])}flop, {c['n_eqns']} eqns, peak "
                f"{_fmt(c['peak_bytes'])}B"]
        return "\n".join(lines)


def _decide(fc, rc, n_in, n_out):
    ff, rf = fc["flops"], rc["flops"]
    if ff == rf or abs(ff - rf) <= _TIE * max(ff, rf):
        fp, rp = fc["peak_bytes"], rc["peak_bytes"]
        if fp != rp:
            c = "fwd" if fp < rp else "rev"
            return c, (f"predicted flops within {int(_TIE * 100)}% ({_fmt(ff)} vs "
                       f"{_fmt(rf)}); {'forward' if c == 'fwd' else 'reverse'} mode "
                       f"needs less memory ({_fmt(min(fp, rp))}B vs {_fmt(max(fp, rp))}B)")
        c = "fwd" if n_in <= n_out else "rev"
        return c, f"predicted costs equal; n={n_in} {'<=' if c == 'fwd' else '>'} m={n_out}"
    c = "fwd" if ff < rf else "rev"
    ratio = max(ff, rf) / max(min(ff, rf), 1)
    return c, (f"{ratio:.3g}x fewer predicted flops ({_fmt(min(ff, rf))}flop vs "
               f"{_fmt(max(ff, rf))}flop)")


def _sparse_report(f, args, kwargs, argnums, holomorphic, force):
    """The sparse part of the report, or None where sparse mode does not apply (or,
    unless ``force``, the Jacobian has more than ``_REPORT_SPARSE_LIMIT`` entries)."""
    if kwargs or argnums != 0 or holomorphic or not args:
        return None
    leaves, _ = tree_flatten(args[0])
    if len(leaves) != 1 or leaves[0] is not args[0]:
        return None
    a = leaf_aval(leaf_operand(args[0]))
    if a.dtype.kind != "f":
        return None
    out = make_jaxpr(f)(*args).out_avals
    if len(out) != 1 or out[0].dtype.kind != "f" or (
            not force and a.size * out[0].size > _REPORT_SPARSE_LIMIT):
        return None
    jac = sparse_jacobian(f, argnums)
    try:
        plan, _ = sparsity_plan(f, args, "auto", False, "jacobian(sparse=True)", {})
    except FuncdiffError:
        if force:
            raise
        return None            # (not asked for: the dense report stands alone)
    P = plan.pattern
    return {"nnz": P.nnz, "density": P.nnz / max(P.shape[0] * P.shape[1], 1),
            "colors_fwd": plan.n_colors_fwd, "colors_rev": plan.n_colors_rev,
            "mode": plan.mode, "cost": cost_analysis(jac)(*args)}


def jacobian_report(f, argnums=0, holomorphic=False, sparse=None):
    """``jacobian_report(f)(*args)`` -> ``JacobianReport`` comparing forward and reverse
    mode for ``f`` at arguments like ``args`` (traced, not run).  The colored (sparse)
    evaluation is compared too when ``sparse`` is True, or when it is None and the
    Jacobian has at most ``_REPORT_SPARSE_LIMIT`` entries (one real array in and out)."""
    fname = f"jacobian({_fun_name(f)})"

    def report(*args, **kwargs):
        g = (lambda *a: f(*a, **kwargs)) if kwargs else f
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        in_avals = [leaf_aval(leaf_operand(x))
                    for x in tree_flatten([args[i] for i in nums])[0]]
        out_avals = make_jaxpr(g)(*args).out_avals
        n_in = sum(int(a.size) for a in in_avals)
        n_out = sum(int(a.size) for a in out_avals)
        # without holomorphic=True forward mode rejects complex inputs, reverse mode
        # complex outputs: cost only the modes that apply
        fwd_ok = holomorphic or all(a.dtype.kind != "c" for a in in_avals)
        rev_ok = holomorphic or all(a.dtype.kind != "c" for a in out_avals)
        if not (fwd_ok or rev_ok):
            _jacfwd(g, argnums, False, holomorphic, fname)(*args)   # raises, saying why
        fc = cost_analysis(_jacfwd(g, argnums, False, holomorphic, fname))(*args) \
            if fwd_ok else None
        rc = cost_analysis(_jacrev(g, argnums, False, holomorphic, fname))(*args) \
            if rev_ok else None
        if fc is None:
            choice, reason = "rev", ("f has complex inputs, which forward mode does not "
                                     "differentiate without holomorphic=True")
        elif rc is None:
            choice, reason = "fwd", ("f has complex outputs, which reverse mode does not "
                                     "differentiate without holomorphic=True")
        else:
            choice, reason = _decide(fc, rc, n_in, n_out)
        sp = None if sparse is False else _sparse_report(g, args, kwargs, argnums,
                                                         holomorphic, bool(sparse))
        return JacobianReport(n_in, n_out, fc, rc, choice, reason, sp)

    return report


def jacobian(f: Callable[..., Any], argnums: int | Sequence[int] = 0, mode: str = "auto",
             explain: bool = False, holomorphic: bool = False,
             sparse: bool = False) -> Callable[..., Any]:
    """Create a function that evaluates the Jacobian of ``f`` by the cheaper mode.

    Both programs, ``jacfwd(f)`` and ``jacrev(f)``, are traced (nothing is computed)
    and costed with ``cost_analysis``; the one with fewer predicted flops runs (on a
    tie: less peak memory, then forward mode).  The choice is cached per input
    signature.  The result is laid out as ``jacfwd``'s/``jacrev``'s: output structure
    outside, input structure inside.

    Parameters
    ----------
    f : callable
        The function, taking and returning pytrees of arrays.
    argnums : int or sequence of int, default 0
        Which positional argument(s) to differentiate with respect to.
    mode : {"auto", "fwd", "rev", "report"}, default "auto"
        ``"auto"`` chooses from ``cost_analysis``; ``"fwd"``/``"rev"`` force a mode;
        ``"report"`` returns the ``JacobianReport`` instead of the Jacobian.
    explain : bool, default False
        Print the report (and keep it in ``.last_report``).
    holomorphic : bool, default False
        Promise that ``f`` is holomorphic (complex inputs and outputs; the result is
        the complex derivative).  Without it complex inputs need reverse mode (the
        conjugate convention, as ``grad``) and complex outputs forward mode, and
        ``"auto"`` picks the mode that applies; complex inputs and outputs raise.
    sparse : bool, default False
        Compute the Jacobian by coloring its sparsity pattern, found from ``f``'s IR:
        one jvp per color of the columns (or one vjp per color of the rows, whichever
        needs fewer; ``mode="fwd"``/``"rev"`` forces one), in one batched pass.  The
        result is a ``SparseJacobian`` (``.toarray()``, ``.nnz``, ``.n_passes``,
        ``.pattern``, ``.tocsr()`` with SciPy; a pytree, so ``jit``/``vmap`` of the
        function work).  ``f`` must take one real array first (other positional
        arguments are not differentiated) and return one real array.  With
        ``mode="report"`` the report compares the colored cost with the dense ones.

    Returns
    -------
    callable
        A function of ``f``'s arguments returning the Jacobian (or the report).

    Raises
    ------
    FuncdiffValueError
        If ``mode`` is not one of the four; with ``sparse=True``: if ``f`` is called
        with keyword arguments, ``argnums`` is not 0, the first argument is not one
        array, ``f`` returns several, or ``holomorphic`` is True.
    GradientError
        If no mode applies (complex inputs and outputs without ``holomorphic``), or an
        input is an integer.

    Examples
    --------
    >>> f = lambda x: fnp.stack([x[0] * x[1], fnp.sin(x[1])])
    >>> J = fd.jacobian(f)(np.array([2.0, 0.0]))
    >>> print(J)
    [[0. 2.]
     [0. 1.]]
    >>> print(fd.jacobian(lambda x: fnp.sum(x ** 2), mode="report")(np.ones(100)).choice)
    rev

    See Also
    --------
    jacfwd, jacrev : one mode each.
    cost_analysis : the predictions it compares.
    """
    if mode not in ("auto", "fwd", "rev", "report"):
        raise FuncdiffValueError(f"jacobian: mode must be 'auto', 'fwd', 'rev' or "
                                 f"'report', got {mode!r}")
    if sparse and holomorphic:
        raise FuncdiffValueError("jacobian: sparse=True computes real Jacobians; "
                                 "holomorphic=True is not supported with it")
    # the choice needs only the dense costs; a shown report adds the colored one
    rep_fn = jacobian_report(f, argnums, holomorphic, False)
    full_rep_fn = jacobian_report(f, argnums, holomorphic, True if sparse else None)
    full = mode == "report" or explain
    sparse_fn = sparse_jacobian(f, argnums, mode) if sparse else None
    fname = f"jacobian({_fun_name(f)})"
    cache: dict = {}

    @functools.wraps(f)
    def jac(*args, **kwargs):
        report = None
        if sparse_fn is not None and mode != "report" and not explain:
            return sparse_fn(*args, **kwargs)    # (it picks its orientation itself)
        if (mode in ("auto", "report") and sparse_fn is None) or mode == "report" \
                or explain:
            flatten_args(args, f)           # rejects a bad argument, naming it
            leaves, tree = tree_flatten((args, kwargs))
            try:
                key = (tree, tuple(leaf_aval(leaf_operand(x)) for x in leaves))
                hash(key)
            except TypeError:
                key = None
            report = cache.get(key) if key is not None else None
            if report is None:
                report = (full_rep_fn if full else rep_fn)(*args, **kwargs)
                if key is not None:
                    if len(cache) > 64:
                        cache.clear()
                    cache[key] = report
            jac.last_report = report
            if explain:
                print(report)
            if mode == "report":
                return report
        if sparse_fn is not None:
            return sparse_fn(*args, **kwargs)
        chosen = mode if mode in ("fwd", "rev") else report.choice
        fn = _jacfwd if chosen == "fwd" else _jacrev
        return fn(f, argnums, False, holomorphic, fname)(*args, **kwargs)

    jac = api_boundary(jac)   # (the name `jac` inside is the wrapper too)
    jac.last_report = None
    return jac


def hessian(f: Callable[..., Any], argnums: int | Sequence[int] = 0,
            has_aux: bool = False, holomorphic: bool = False,
            sparse: bool = False) -> Callable[..., Any]:
    """Create a function that evaluates the Hessian of ``f``: ``jacfwd(jacrev(f))``,
    or, with ``sparse=True``, by coloring its sparsity pattern.

    Real inputs and outputs, unless ``holomorphic=True`` (then both must be complex):
    the gradient of a real-valued function of complex input is not holomorphic, so its
    derivative is not a complex matrix (split the input into real and imaginary parts).

    Parameters
    ----------
    f : callable
        A function with a scalar output, taking pytrees of arrays.
    argnums : int or sequence of int, default 0
        Which positional argument(s) to differentiate with respect to.
    has_aux : bool, default False
        ``f`` returns ``(output, aux)``; the result is then ``(hessian, aux)``.
    holomorphic : bool, default False
        Promise that ``f`` is holomorphic.
    sparse : bool, default False
        Compute the Hessian by a star coloring of its sparsity pattern (found from the
        IR of ``grad(f)``, made symmetric): one Hessian-vector product per color, in
        one batched forward-over-reverse pass, each entry read directly from the
        products using the symmetry of the Hessian.  Returns a ``SparseJacobian``
        (``mode == "star"``; see ``jacobian``).  ``f`` must take one real array first
        and return one element; ``has_aux`` and ``holomorphic`` are not supported
        with it.  It assumes the Hessian is symmetric, as it is for twice
        continuously differentiable ``f`` (a custom rule that is not a true derivative
        can break that: use ``jacobian(grad(f), sparse=True)`` then).

    Returns
    -------
    callable
        A function with ``f``'s arguments returning the Hessian, of shape
        ``input shape + input shape`` for a scalar ``f`` (a ``SparseJacobian`` of
        shape ``(n, n)`` with ``sparse=True``).

    Raises
    ------
    GradientError
        If an input is an integer or complex (without ``holomorphic=True``).
    FuncdiffValueError
        With ``sparse=True``: ``has_aux`` or ``holomorphic``, an ``f`` whose output
        is not a single element, and the cases ``jacobian(f, sparse=True)`` rejects.

    Examples
    --------
    >>> H = fd.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 2.0]))
    >>> print(H)
    [[4. 2.]
     [2. 0.]]
    >>> Hs = fd.hessian(lambda x: fnp.sum(x[1:] * x[:-1] ** 2), sparse=True)(np.ones(6))
    >>> print(Hs.n_passes, Hs.nnz)
    3 15

    See Also
    --------
    hvp : a Hessian-vector product without forming the Hessian.
    jacfwd, jacrev : first derivatives.
    jacobian : ``sparse=True`` for Jacobians.
    """
    if not sparse:
        return dense_hessian(f, argnums, has_aux, holomorphic)
    if has_aux or holomorphic:
        raise FuncdiffValueError(
            "hessian: sparse=True supports neither has_aux nor holomorphic; compute the "
            "aux output separately, or use sparse=False")
    return sparse_hessian(f, argnums)

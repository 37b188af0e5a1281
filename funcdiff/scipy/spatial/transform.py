"""``funcdiff.scipy.spatial.transform``: SciPy's ``Rotation`` and ``Slerp`` on values
that trace.

A ``Rotation`` holds one array of unit quaternions ``(..., 4)`` (scalar last, float64
as SciPy's), and is a pytree with that array as its leaf: rotations can be made, passed
and returned inside ``jit``, ``vmap`` and ``grad``, and every conversion differentiates
in it.  The formulas are SciPy's (its array-API backend, the one JAX's port follows),
written branch-free with ``where``; outside transforms they run on NumPy and equal
SciPy's results to rounding.  ``Slerp`` is a pytree too.

Where SciPy raises on values (a zero quaternion, a matrix with non-positive
determinant, negative ``mean`` weights, ``Slerp`` times not increasing or out of range)
funcdiff raises the same ``ValueError`` when the values are known (outside ``jit``/
``vmap``) and, where they are not, returns NaN as SciPy's lazy backends do.  The gimbal
lock warning of ``as_euler`` is given when the values are known.

Derivatives at the special points (each a documented subgradient convention): the
small-angle branches of ``from_rotvec``/``as_rotvec`` use the Taylor series of the
scale on the squared angle, so the identity rotation differentiates exactly; norms at
zero (``magnitude`` of the identity) take the derivative 0; the choices made by
``argmax`` (``from_matrix``'s branch) and signs (canonical quaternions, ``as_mrp``) are
piecewise constant.  ``from_matrix`` of a non-orthogonal matrix projects it onto the
rotations by ``funcdiff.scipy.linalg.polar`` (SciPy's ``U @ Vt``), and differentiates
that projection at every matrix (at an orthogonal one too, whose value SciPy keeps): its
derivative is defined in every direction, not only along the rotations.

Not provided: ``align_vectors``, ``reduce``, ``create_group``, the Davenport angles and
in-place ``__setitem__``.
"""
from __future__ import annotations

import re
import warnings

import numpy as np

from ... import numpy as fnp
from ...core.errors import FuncdiffTypeError, FuncdiffValueError
from ...core.trace import Tracer
from ...api.custom_derivatives import stop_gradient
from ...numpy._core import aval
from ...numpy._sizes import known
from ...tree_util import register_pytree_node
from .. import linalg as _sla
from .._search import count_sorted

__all__ = ["Rotation", "Slerp"]

_F64 = np.float64


def _f64(x):
    """``x`` as a float64 array (traced or NumPy)."""
    if type(x) is Tracer:
        return x.astype(_F64)
    if isinstance(x, (list, tuple)) and any(type(v) is Tracer for v in x):
        return fnp.asarray(x).astype(_F64)
    return np.asarray(x, dtype=_F64)


def _traced(x):
    return type(x) is Tracer


def _any_known(mask):
    """True/False when ``mask``'s values are known, None inside jit/vmap."""
    v = known(mask)
    return None if v is None else bool(np.any(v))


def _safe_norm(v):
    """``|v|`` along the last axis with derivative 0 at ``v = 0`` (a subgradient)
    instead of NaN."""
    n2 = fnp.sum(v * v, axis=-1)
    pos = n2 > 0
    return fnp.where(pos, fnp.sqrt(fnp.where(pos, n2, 1.0)), 0.0)


def _normalize(q):
    n2 = fnp.sum(q * q, axis=-1, keepdims=True)
    zero = n2 == 0
    hit = _any_known(zero)
    if hit:
        raise FuncdiffValueError("Found zero norm quaternions in `quat`.")
    if hit is None:             # unknown values: NaN, as SciPy's lazy backends
        q = fnp.where(zero, np.nan, q)
    return q / fnp.sqrt(fnp.where(zero, 1.0, n2))


def _canonical(q):
    w, x, y, z = q[..., 3], q[..., 0], q[..., 1], q[..., 2]
    mask = w < 0
    zw = w == 0
    mask = mask | (zw & (x < 0))
    zwx = zw & (x == 0)
    mask = mask | (zwx & (y < 0))
    mask = mask | (zwx & (y == 0) & (z < 0))
    return fnp.where(mask[..., None], -q, q)


def _compose(p, q):
    cross = fnp.cross(p[..., :3], q[..., :3])
    pw, qw = p[..., 3:4], q[..., 3:4]
    vec = pw * q[..., :3] + qw * p[..., :3] + cross
    w = pw * qw - fnp.sum(p[..., :3] * q[..., :3], axis=-1, keepdims=True)
    return fnp.concatenate([vec, w], axis=-1)


def _inv(q):
    return q * np.array([-1.0, -1.0, -1.0, 1.0])


def _from_rotvec(rotvec):
    a2 = fnp.sum(rotvec * rotvec, axis=-1, keepdims=True)
    small = a2 <= 1e-6                                   # angle <= 1e-3, as SciPy
    a = fnp.sqrt(fnp.where(small, 1.0, a2))
    scale = fnp.where(small, 0.5 - a2 / 48 + a2 * a2 / 3840, fnp.sin(a / 2) / a)
    w = fnp.where(small, 1 - a2 / 8 + a2 * a2 / 384, fnp.cos(a / 2))
    return fnp.concatenate([rotvec * scale, w], axis=-1)


def _as_rotvec(q):
    q = _canonical(q)
    angle = 2 * fnp.arctan2(_safe_norm(q[..., :3]), q[..., 3])[..., None]
    small = angle <= 1e-3
    a2 = angle * angle
    s = fnp.sin(angle / 2)
    scale = fnp.where(small, 2 + a2 / 12 + 7 * a2 * a2 / 2880,
                      angle / fnp.where(small, 1.0, s))
    return scale * q[..., :3]


def _as_matrix(q):
    x, y, z, w = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    x2, y2, z2, w2 = x * x, y * y, z * z, w * w
    xy, zw, xz, yw, yz, xw = x * y, z * w, x * z, y * w, y * z, x * w
    m = fnp.stack([x2 - y2 - z2 + w2, 2 * (xy - zw), 2 * (xz + yw),
                   2 * (xy + zw), -x2 + y2 - z2 + w2, 2 * (yz - xw),
                   2 * (xz - yw), 2 * (yz + xw), -x2 - y2 + z2 + w2], axis=-1)
    return fnp.reshape(m, aval(q).shape[:-1] + (3, 3))


def _from_matrix_orthogonal(m):
    tr = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    choice = fnp.argmax(fnp.stack([m[..., 0, 0], m[..., 1, 1], m[..., 2, 2], tr], -1),
                        axis=-1)[..., None]
    cases = [
        [1 - tr + 2 * m[..., 0, 0], m[..., 1, 0] + m[..., 0, 1],
         m[..., 2, 0] + m[..., 0, 2], m[..., 2, 1] - m[..., 1, 2]],
        [m[..., 1, 0] + m[..., 0, 1], 1 - tr + 2 * m[..., 1, 1],
         m[..., 2, 1] + m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0]],
        [m[..., 2, 0] + m[..., 0, 2], m[..., 2, 1] + m[..., 1, 2],
         1 - tr + 2 * m[..., 2, 2], m[..., 1, 0] - m[..., 0, 1]],
        [m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0],
         m[..., 1, 0] - m[..., 0, 1], 1 + tr],
    ]
    q = fnp.stack(cases[3], -1)
    for k in (2, 1, 0):
        q = fnp.where(choice == k, fnp.stack(cases[k], -1), q)
    return _normalize(q)


def _elementary(axis, angle):
    parts = [fnp.zeros_like(angle)] * 3 + [fnp.cos(angle / 2)]
    parts[axis] = fnp.sin(angle / 2)
    return fnp.stack(parts, axis=-1)


def _check_seq(seq, exact3):
    n = len(seq)
    if exact3 and n != 3:
        raise FuncdiffValueError(f"Expected 3 axes, got {seq}.")
    if not 1 <= n <= 3:
        raise FuncdiffValueError("Expected axis specification to be a non-empty string of "
                                 f"up to 3 characters, got {seq}")
    intrinsic = re.match(r"^[XYZ]{1,3}$", seq) is not None
    extrinsic = re.match(r"^[xyz]{1,3}$", seq) is not None
    if not (intrinsic or extrinsic):
        raise FuncdiffValueError("Expected axes from `seq` to be from ['x', 'y', 'z'] or "
                                 f"['X', 'Y', 'Z'], got {seq}")
    if any(seq[i] == seq[i + 1] for i in range(n - 1)):
        raise FuncdiffValueError(f"Expected consecutive axes to be different, got {seq}")
    return intrinsic, ["xyz".index(c) for c in seq.lower()]


def _get_angles(extrinsic, symmetric, sign, lamb, a, b, c, d, suppress_warnings):
    eps = 1e-7
    half_sum = fnp.arctan2(b, a)
    half_diff = fnp.arctan2(d, c)
    second = 2 * fnp.arctan2(fnp.hypot(c, d), fnp.hypot(a, b))
    case1 = fnp.abs(second) <= eps
    case2 = fnp.abs(second - np.pi) <= eps
    case0 = ~(case1 | case2)
    singular = _any_known(~case0)
    if singular and not suppress_warnings:
        warnings.warn("Gimbal lock detected. Setting third angle to zero since it is not "
                      "possible to uniquely determine all angles.", UserWarning,
                      stacklevel=4)
    zero = fnp.zeros_like(a)
    first_idx, third_idx = (0, 2) if extrinsic else (2, 0)
    ang = [zero, second, zero]
    ang[0] = fnp.where(case1, 2 * half_sum, 2 * half_diff * (-1 if extrinsic else 1))
    ang[first_idx] = fnp.where(case0, half_sum - half_diff, ang[first_idx])
    third = fnp.where(case0, half_sum + half_diff, ang[third_idx])
    if not symmetric:
        third = third * sign
        ang[1] = ang[1] - lamb
    ang[third_idx] = third
    out = fnp.stack(ang, axis=-1)
    # into [-pi, pi] as SciPy's (compiled) code does, by one turn: pi stays pi (a
    # remainder would make it -pi, outside [0, pi] for the middle of a symmetric seq)
    two_pi = 2 * np.pi
    return fnp.where(out < -np.pi, out + two_pi, fnp.where(out > np.pi, out - two_pi, out))


def _broadcastable(s1, s2):
    try:
        np.broadcast_shapes(s1, s2)
    except ValueError:
        return False
    return True


class Rotation:
    """SciPy's ``scipy.spatial.transform.Rotation`` on values that trace (see the
    module docstring): construct with the ``from_*`` class methods."""

    def __init__(self, quat, normalize=True, copy=True, scalar_first=False):
        q = _f64(quat)
        if aval(q).ndim == 0 or aval(q).shape[-1] != 4:
            raise FuncdiffValueError(f"Expected `quat` to have shape (..., 4), got "
                                     f"{aval(q).shape}.")
        if scalar_first:
            q = fnp.roll(q, -1, axis=-1)
        self._quat = _normalize(q) if normalize else q

    @classmethod
    def _raw(cls, q):
        r = object.__new__(cls)
        r._quat = q
        return r

    # --- construction ------------------------------------------------------------------
    @classmethod
    def from_quat(cls, quat, *, scalar_first=False):
        """From quaternions ``(..., 4)``, scalar last (or first), normalized."""
        return cls(quat, normalize=True, scalar_first=scalar_first)

    @classmethod
    def from_matrix(cls, matrix, *, assume_valid=False):
        """From rotation matrices ``(..., 3, 3)``; a non-orthogonal one is first
        replaced by its nearest orthogonal matrix (the polar factor)."""
        m = _f64(matrix)
        if aval(m).ndim < 2 or aval(m).shape[-2:] != (3, 3):
            raise FuncdiffValueError("Expected `matrix` to have shape (..., 3, 3), got "
                                     f"{aval(m).shape}")
        if not assume_valid:
            bad = fnp.linalg.det(m) <= 0
            hit = _any_known(bad)
            if hit:
                ind = int(np.flatnonzero(np.atleast_1d(known(bad)))[0])
                raise FuncdiffValueError(
                    "Non-positive determinant (left-handed or null coordinate frame) in "
                    f"rotation matrix {ind}: {np.asarray(known(m)).reshape(-1, 3, 3)[ind]}.")
            gram = fnp.matmul(m, fnp.swapaxes(m, -1, -2))
            ortho = fnp.all(fnp.abs(gram - np.eye(3)) <= 1e-12 + 1e-5 * np.eye(3),
                            axis=(-2, -1))
            if _traced(m):
                # SciPy's value (m itself where orthogonal), the polar factor's
                # derivative everywhere: the projection onto the rotations
                safe = m if hit is not None else fnp.where(bad[..., None, None], np.eye(3), m)
                u = _sla.polar(safe)[0]
                m = u + stop_gradient(fnp.where(ortho[..., None, None], m, u) - u)
                if hit is None:     # unknown values: NaN, as SciPy's lazy backends
                    m = fnp.where(bad[..., None, None], np.nan, m)
            elif not np.all(ortho):      # (the composition: SciPy < 1.16 takes no stacks)
                m = np.where(ortho[..., None, None], m, _sla.polar.traced(m)[0])
        return cls._raw(_from_matrix_orthogonal(m))

    @classmethod
    def from_rotvec(cls, rotvec, degrees=False):
        """From rotation vectors ``(..., 3)`` (axis times angle)."""
        v = _f64(rotvec)
        if aval(v).ndim == 0 or aval(v).shape[-1] != 3:
            raise FuncdiffValueError(f"Expected `rot_vec` to have shape (..., 3), got "
                                     f"{aval(v).shape}")
        if degrees:
            v = v * (np.pi / 180.0)
        return cls._raw(_from_rotvec(v))

    @classmethod
    def from_mrp(cls, mrp):
        """From modified Rodrigues parameters ``(..., 3)``."""
        p = _f64(mrp)
        if aval(p).ndim == 0 or aval(p).shape[-1] != 3:
            raise FuncdiffValueError(f"Expected `mrp` to have shape (..., 3), got "
                                     f"{aval(p).shape}")
        s = fnp.sum(p * p, axis=-1, keepdims=True) + 1
        return cls._raw(fnp.concatenate([2 * p, 2 - s], axis=-1) / s)

    @classmethod
    def from_euler(cls, seq, angles, degrees=False):
        """From Euler angles: ``seq`` of up to 3 axes, ``'xyz'`` extrinsic or
        ``'XYZ'`` intrinsic; ``angles`` ``(..., len(seq))`` (a scalar for one axis)."""
        intrinsic, axes = _check_seq(seq, False)
        ang = _f64(angles)
        if degrees:
            ang = ang * (np.pi / 180.0)
        if aval(ang).ndim == 0:
            ang = fnp.reshape(ang, (1,))
        if aval(ang).shape[-1] != len(seq):
            raise FuncdiffValueError("Expected last dimension of `angles` to match number "
                                     f"of sequence axes specified, got "
                                     f"{aval(ang).shape[-1]}.")
        q = _elementary(axes[0], ang[..., 0])
        for i in range(1, len(axes)):
            e = _elementary(axes[i], ang[..., i])
            q = _compose(q, e) if intrinsic else _compose(e, q)
        return cls._raw(q)

    @classmethod
    def identity(cls, num=None, *, shape=None):
        """The identity rotation (``num`` of them, or an array of ``shape``)."""
        if num is not None and shape is not None:
            raise FuncdiffValueError("Only one of `num` or `shape` can be specified.")
        shp = () if num is None and shape is None else \
            ((num,) if shape is None else tuple(np.atleast_1d(shape)))
        q = np.zeros(shp + (4,))
        q[..., 3] = 1.0
        return cls._raw(q)

    @classmethod
    def random(cls, num=None, rng=None, *, shape=None, random_state=None):
        """Uniformly random rotations from a NumPy ``Generator`` (or seed): normalized
        Gaussian quaternions, as SciPy (the same values for the same seed)."""
        if num is not None and shape is not None:
            raise FuncdiffValueError("Only one of `num` or `shape` can be specified.")
        if random_state is not None:
            rng = random_state
        gen = rng if isinstance(rng, (np.random.Generator, np.random.RandomState)) \
            else np.random.default_rng(rng)
        shp = () if num is None and shape is None else \
            ((num,) if shape is None else tuple(np.atleast_1d(shape)))
        return cls(gen.normal(size=shp + (4,)))

    @classmethod
    def concatenate(cls, rotations):
        """One rotation array from several (single rotations count as one)."""
        if isinstance(rotations, Rotation):
            return cls._raw(rotations._quat)
        rotations = list(rotations)
        if not all(isinstance(r, Rotation) for r in rotations):
            raise FuncdiffTypeError("input must contain Rotation objects only")
        qs = [fnp.reshape(r._quat, (-1, 4)) if r.single else r._quat for r in rotations]
        return cls._raw(fnp.concatenate(qs, axis=0))

    # --- conversion ---------------------------------------------------------------------
    def as_quat(self, canonical=False, *, scalar_first=False):
        """Quaternions ``(..., 4)`` (``canonical``: ``w >= 0``)."""
        q = _canonical(self._quat) if canonical else self._quat
        return fnp.roll(q, 1, axis=-1) if scalar_first else q

    def as_matrix(self):
        """Rotation matrices ``(..., 3, 3)``."""
        return _as_matrix(self._quat)

    def as_rotvec(self, degrees=False):
        """Rotation vectors ``(..., 3)`` (angle in ``[0, pi]``)."""
        v = _as_rotvec(self._quat)
        return v * (180.0 / np.pi) if degrees else v

    def as_mrp(self):
        """Modified Rodrigues parameters ``(..., 3)`` (norm at most 1)."""
        q = self._quat
        sign = fnp.where(q[..., 3:4] < 0, -1.0, 1.0)
        return sign * q[..., :3] / (1.0 + sign * q[..., 3:4])

    def as_euler(self, seq, degrees=False, *, suppress_warnings=False):
        """Euler angles ``(..., 3)`` for a 3-axis ``seq`` (SciPy's algorithm)."""
        intrinsic, axes = _check_seq(seq, True)
        i, j, k = axes[::-1] if intrinsic else axes
        symmetric = i == k
        if symmetric:
            k = 3 - i - j
        sign = (i - j) * (j - k) * (k - i) // 2
        q = self._quat
        if symmetric:
            a, b, c, d = q[..., 3], q[..., i], q[..., j], q[..., k] * sign
        else:
            a = q[..., 3] - q[..., j]
            b = q[..., i] + q[..., k] * sign
            c = q[..., j] + q[..., 3]
            d = q[..., k] * sign - q[..., i]
        ang = _get_angles(not intrinsic, symmetric, sign, np.pi / 2, a, b, c, d,
                          suppress_warnings)
        return ang * (180.0 / np.pi) if degrees else ang

    # --- operations -----------------------------------------------------------------------
    def apply(self, vectors, inverse=False):
        """Rotate ``vectors`` (``(3,)`` or ``(..., 3)``, broadcast against the
        rotations); ``inverse``: by the inverse rotations."""
        v = _f64(vectors)
        if aval(v).ndim == 0 or aval(v).shape[-1] != 3:
            raise FuncdiffValueError(f"Expected input of shape (3,) or (P, 3), got "
                                     f"{aval(v).shape}.")
        m = self.as_matrix()
        if not _broadcastable(aval(m).shape[:-2], aval(v).shape[:-1]):
            raise FuncdiffValueError(f"Cannot broadcast {aval(m).shape[:-2]} rotations to "
                                     f"{aval(v).shape[:-1]} vectors.")
        if inverse:
            m = fnp.swapaxes(m, -1, -2)
        return fnp.matmul(m, v[..., None])[..., 0]

    def inv(self):
        """The inverse rotations."""
        return Rotation._raw(_inv(self._quat))

    def magnitude(self):
        """Rotation angles in ``[0, pi]``."""
        return 2 * fnp.arctan2(_safe_norm(self._quat[..., :3]), fnp.abs(self._quat[..., 3]))

    def approx_equal(self, other, atol=None, degrees=False):
        """Whether each rotation is within ``atol`` (radians; 1e-8 by default) of
        ``other``'s."""
        if atol is None:
            if degrees:
                warnings.warn("atol must be set to use the degrees flag, defaulting to "
                              "1e-8 radians.", UserWarning, stacklevel=2)
            atol = 1e-8
        elif degrees:
            atol = atol * (np.pi / 180.0)
        return (other * self.inv()).magnitude() < atol

    def mean(self, weights=None, axis=None):
        """The (weighted) mean rotation over ``axis`` (all by default): the dominant
        eigenvector of ``sum w q q^T`` (Markley et al.)."""
        q = self._quat
        nd = aval(q).ndim - 1
        if nd >= 1 and aval(q).shape[0] == 0:
            raise FuncdiffValueError("Mean of an empty rotation set is undefined.")
        all_axes = tuple(range(nd))
        axes = all_axes if axis is None else (axis,) if isinstance(axis, int) else axis
        if not isinstance(axes, tuple):
            raise FuncdiffValueError("`axis` must be None, int, or tuple of ints.")
        if axes and (min(axes) < -nd or max(axes) > nd - 1):
            raise FuncdiffValueError(f"axis {axes} is out of bounds for rotation with shape "
                                     f"{aval(q).shape[:-1]}.")
        axes = tuple(sorted({a % max(nd, 1) for a in axes}))
        outer = q[..., :, None] * q[..., None, :]
        if weights is not None:
            w = _f64(weights)
            neg = w < 0
            hit = _any_known(neg)
            if hit:
                raise FuncdiffValueError("`weights` must be non-negative.")
            if hit is None:
                w = fnp.where(neg, np.nan, w)
            if not _broadcastable(aval(q).shape[:-1], aval(w).shape):
                raise FuncdiffValueError(
                    "Expected `weights` to be broadcastable to rotation shape, got shape "
                    f"{aval(w).shape} for {aval(q).shape[:-1]} rotations.")
            outer = w[..., None, None] * outer
        keep = tuple(a for a in all_axes if a not in axes)
        k = fnp.moveaxis(outer, keep + axes, all_axes)
        k = fnp.reshape(k, aval(k).shape[:len(keep)] + (-1, 4, 4))
        _, v = fnp.linalg.eigh(fnp.mean(k, axis=-3))
        return Rotation._raw(v[..., -1])

    def __mul__(self, other):
        if not isinstance(other, Rotation):
            return NotImplemented
        s1, s2 = aval(self._quat).shape[:-1], aval(other._quat).shape[:-1]
        if not _broadcastable(s1, s2):
            raise FuncdiffValueError(f"Expected equal number of rotations in both or a "
                                     f"single rotation in either object, got {s1} "
                                     f"rotations in first and {s2} rotations in second "
                                     "object.")
        return Rotation._raw(_compose(self._quat, other._quat))

    def __pow__(self, n, modulus=None):
        """The rotation scaled in angle by ``n`` (0: identity, -1: inverse)."""
        if modulus is not None:
            raise FuncdiffTypeError("modular exponentiation is not supported")
        if type(n) is not Tracer and np.ndim(n) == 0:
            if n == 0:
                return Rotation.identity(shape=aval(self._quat).shape[:-1] or None) \
                    if aval(self._quat).ndim > 1 else Rotation.identity()
            if n == -1:
                return self.inv()
            if n == 1:
                return Rotation._raw(self._quat)
        return Rotation._raw(_from_rotvec(n * _as_rotvec(self._quat)))

    # --- container protocol ------------------------------------------------------------------
    @property
    def single(self):
        """Whether this is a single rotation (not an array of them)."""
        return aval(self._quat).ndim == 1

    @property
    def shape(self):
        """The shape of the rotation array (``()`` for a single rotation)."""
        return aval(self._quat).shape[:-1]

    def __len__(self):
        if self.single:
            raise TypeError("Single rotation has no len().")
        return aval(self._quat).shape[0]

    def __getitem__(self, indexer):
        if self.single:
            raise TypeError("Single rotation is not subscriptable.")
        idx = indexer if isinstance(indexer, tuple) else (indexer,)
        if not any(i is Ellipsis for i in idx):       # (the quaternion axis stays)
            idx = idx + (Ellipsis,)
        return Rotation._raw(fnp.asarray(self._quat)[idx])

    def __repr__(self):
        m = known(self.as_matrix())
        body = "traced" if m is None else np.array2string(m, separator=", ",
                                                          prefix="Rotation.from_matrix(")
        return f"Rotation.from_matrix({body})"


class Slerp:
    """SciPy's ``Slerp(times, rotations)``: spherical linear interpolation between
    rotations at increasing ``times``; ``slerp(t)`` is a ``Rotation``."""

    def __init__(self, times, rotations):
        if not isinstance(rotations, Rotation):
            raise FuncdiffTypeError("`rotations` must be a `Rotation` instance.")
        if rotations.single or len(rotations) <= 1:
            raise FuncdiffValueError("`rotations` must be a sequence of at least 2 "
                                     "rotations.")
        if aval(rotations._quat).ndim > 2:
            raise FuncdiffValueError("Rotations with more than 1 leading dimension are "
                                     "not supported.")
        t = _f64(times)
        if aval(t).ndim != 1:
            raise FuncdiffValueError("Expected times to be specified in a 1 dimensional "
                                     f"array, got {aval(t).ndim} dimensions.")
        if aval(t).shape[0] != len(rotations):
            raise FuncdiffValueError(
                "Expected number of rotations to be equal to number of timestamps given, "
                f"got {len(rotations)} rotations and {aval(t).shape[0]} timestamps.")
        dt = t[1:] - t[:-1]
        bad = fnp.any(dt <= 0)
        hit = _any_known(bad)
        if hit:
            raise FuncdiffValueError("Times must be in strictly increasing order.")
        if hit is None:
            dt = fnp.where(bad, np.nan, dt)
            t = fnp.where(bad, np.nan, t)
        self.times, self.timedelta = t, dt
        self.rotations = rotations[:-1]
        self.rotvecs = (self.rotations.inv() * rotations[1:]).as_rotvec()

    def __call__(self, times):
        t = _f64(times)
        if aval(t).ndim > 1:
            raise FuncdiffValueError("`times` must be at most 1-dimensional.")
        single = aval(t).ndim == 0
        t = fnp.reshape(t, (-1,)) if single else t
        n = aval(self.times).shape[0]
        ind = fnp.clip(count_sorted(self.times, t, "left") - 1, 0, n - 2)
        invalid = (t < self.times[0]) | (t > self.times[-1])
        hit = _any_known(invalid)
        if hit:
            t0, t1 = known(self.times)[[0, -1]]
            raise FuncdiffValueError(f"Interpolation times must be within the range [{t0}, "
                                     f"{t1}], both inclusive.")
        times_, dt = fnp.asarray(self.times), fnp.asarray(self.timedelta)
        alpha = (t - times_[ind]) / dt[ind]
        if hit is None:
            alpha = fnp.where(invalid, np.nan, alpha)
        step = _from_rotvec(fnp.asarray(self.rotvecs)[ind] * alpha[:, None])
        result = Rotation._raw(_compose(fnp.asarray(self.rotations._quat)[ind], step))
        return result[0] if single else result


def _rot_flatten(r):
    return (r._quat,), None


def _rot_unflatten(aux, children):
    return Rotation._raw(children[0])


def _slerp_flatten(s):
    return (s.times, s.timedelta, s.rotations, s.rotvecs), None


def _slerp_unflatten(aux, children):
    s = object.__new__(Slerp)
    s.times, s.timedelta, s.rotations, s.rotvecs = children
    return s


register_pytree_node(Rotation, _rot_flatten, _rot_unflatten)
register_pytree_node(Slerp, _slerp_flatten, _slerp_unflatten)


def __dir__():
    return sorted(__all__)

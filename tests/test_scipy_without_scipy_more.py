"""Without SciPy installed, funcdiff.scipy's signal/fft/ndimage/interpolate/integrate/
spatial/cluster functions run their compositions on NumPy: the same values as SciPy's
(computed here, in a subprocess that hides SciPy, and compared in this process)."""
import json
import subprocess
import sys

import numpy as np
import scipy.cluster.vq as svq
import scipy.fft as sfft
import scipy.integrate as sint
import scipy.interpolate as sinterp
import scipy.ndimage as snd
import scipy.signal as ss
from scipy.spatial.transform import Rotation as SR
from scipy.spatial.transform import Slerp as SS

NO_SCIPY = r"""
import json, sys
sys.modules["scipy"] = None                       # hide SciPy: every import of it fails
import numpy as np
import funcdiff as fd
from funcdiff.scipy import fft, integrate, ndimage, signal
from funcdiff.scipy.cluster.vq import vq
from funcdiff.scipy.interpolate import RegularGridInterpolator
from funcdiff.scipy.spatial.transform import Rotation, Slerp
rng = np.random.default_rng(0)
x, k = rng.normal(size=64), rng.normal(size=(3, 3))
img = rng.normal(size=(6, 5))
q = rng.normal(size=(3, 4))
out = {
  "welch": signal.welch(x, nperseg=16, window="hamming")[1],
  "welch median": signal.welch(x, nperseg=16, average="median")[1],
  "csd": signal.csd(x, x[::-1], nperseg=16)[1],
  "stft": signal.stft(x, nperseg=16)[2],
  "istft": signal.istft(signal.stft(x, nperseg=16)[2], nperseg=16)[1],
  "detrend": signal.detrend(x, bp=[20, 40]),
  "fftconvolve": signal.fftconvolve(img, k, "same"),
  "convolve2d": signal.convolve2d(img, k, "full", "symm"),
  "correlate2d": signal.correlate2d(img, k, "same", "wrap"),
  "dct": fft.dct(x, 3, norm="ortho"), "idctn": fft.idctn(img, 1),
  "map_coordinates": ndimage.map_coordinates(img, [[0.5, 4.5, -1.0], [1.5, 2.0, 3.3]],
                                             order=1, mode="mirror"),
  "rgi": RegularGridInterpolator((np.arange(6.0), np.arange(5.0)), img)(
      [[0.5, 0.5], [4.2, 3.9]]),
  "trapezoid": integrate.trapezoid(img, dx=0.5, axis=0),
  "euler": Rotation.from_quat(q).as_euler("zyx"),
  "slerp": Slerp([0.0, 1.0, 2.0], Rotation.from_quat(q))([0.5, 1.5]).as_matrix(),
  "vq": vq(img, img[:2] + 0.1)[1],
  "grad welch": fd.grad(lambda v: signal.welch(v, nperseg=16)[1].sum())(x),
}
def enc(v):
    v = np.asarray(v)
    return [v.real.tolist(), v.imag.tolist()] if v.dtype.kind == "c" else v.tolist()
print(json.dumps({k: enc(v) for k, v in out.items()}))
"""


def test_without_scipy_the_compositions_give_scipy_values():
    res = subprocess.run([sys.executable, "-c", NO_SCIPY], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    rng = np.random.default_rng(0)
    x, k = rng.normal(size=64), rng.normal(size=(3, 3))
    img = rng.normal(size=(6, 5))
    q = rng.normal(size=(3, 4))
    want = {
        "welch": ss.welch(x, nperseg=16, window="hamming")[1],
        "welch median": ss.welch(x, nperseg=16, average="median")[1],
        "csd": ss.csd(x, x[::-1], nperseg=16)[1],
        "stft": ss.stft(x, nperseg=16)[2],
        "istft": ss.istft(ss.stft(x, nperseg=16)[2], nperseg=16)[1],
        "detrend": ss.detrend(x, bp=[20, 40]),
        "fftconvolve": ss.fftconvolve(img, k, "same"),
        "convolve2d": ss.convolve2d(img, k, "full", "symm"),
        "correlate2d": ss.correlate2d(img, k, "same", "wrap"),
        "dct": sfft.dct(x, 3, norm="ortho"), "idctn": sfft.idctn(img, 1),
        "map_coordinates": snd.map_coordinates(img, [[0.5, 4.5, -1.0], [1.5, 2.0, 3.3]],
                                               order=1, mode="mirror"),
        "rgi": sinterp.RegularGridInterpolator((np.arange(6.0), np.arange(5.0)), img)(
            [[0.5, 0.5], [4.2, 3.9]]),
        "trapezoid": sint.trapezoid(img, dx=0.5, axis=0),
        "euler": SR.from_quat(q).as_euler("zyx"),
        "slerp": SS([0.0, 1.0, 2.0], SR.from_quat(q))([0.5, 1.5]).as_matrix(),
        "vq": svq.vq(img, img[:2] + 0.1)[1],
    }
    for name, w in want.items():
        w = np.asarray(w)
        g = np.asarray(got[name])
        if w.dtype.kind == "c":
            g = g[0] + 1j * g[1]
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=name)
    # the gradient: a finite-difference check of SciPy's welch
    g = np.asarray(got["grad welch"])
    d = rng.normal(size=64)
    eps = 1e-6
    num = (ss.welch(x + eps * d, nperseg=16)[1].sum()
           - ss.welch(x - eps * d, nperseg=16)[1].sum()) / (2 * eps)
    np.testing.assert_allclose(g @ d, num, rtol=1e-6)

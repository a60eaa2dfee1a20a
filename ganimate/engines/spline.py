"""The thin-plate spline through a face's landmark shifts: the warp's dense field
(:func:`ganimate.engines.geometry.displacement_field`) and each closing eye's exact field
(:mod:`ganimate.engines.lids`) are evaluated from it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ThinPlateSpline:
    """A 2-D thin-plate spline f(p) = sum_i w_i phi(|p - c_i|) + a0 + a1 x + a2 y,
    phi(r) = r^2 log r, fitted through values at centres (with a little smoothing).

    Written out here rather than scipy's RBFInterpolator because video needs the field every
    frame: evaluation on a grid in float32 with one matrix product is ~4x faster.

    ``fast`` (video, :attr:`ganimate.engines.warp_config.WarpConfig.video_fast_spline`): the
    logarithms are OpenCV's, vectorised (numpy's build has no vector logarithm: 3.2 ms for the
    2M float32 values of a 512 px face's grid where OpenCV takes 0.7, 1.3 ms for the fit's
    516^2 float64 values where it takes 0.4), and a grid point's squared distances to the
    centres come from one matrix product. The values differ from numpy's by an ulp; a photo's
    pixels that move by about ``WarpConfig.still`` could flip between kept and resampled, so
    photos keep numpy's (bit for bit as before).
    """

    centres: np.ndarray  # (N, 2)
    weights: np.ndarray  # (N, D)
    affine: np.ndarray  # (3, D)
    fast: bool = False

    @staticmethod
    def _log(x: np.ndarray, fast: bool) -> np.ndarray:
        if fast:
            import cv2

            return cv2.log(x)
        return np.log(x)

    @staticmethod
    def kernel(d2: np.ndarray, fast: bool = False) -> np.ndarray:
        """phi from squared distances: r^2 log r = d2 log(d2) / 2 (0 at 0)."""
        d2 = np.maximum(d2, np.finfo(d2.dtype).tiny)
        return 0.5 * d2 * ThinPlateSpline._log(d2, fast)

    @classmethod
    def fit(cls, centres: np.ndarray, values: np.ndarray, smoothing: float = 0.0,
            fast: bool = False) -> ThinPlateSpline:
        c = np.asarray(centres, np.float64)
        n = len(c)
        a = np.empty((n + 3, n + 3))
        k = a[:n, :n]
        # squared distances as |c_i|^2 + |c_j|^2 - 2 c_i.c_j, in place (a broadcast difference
        # of (n, n, 2) took 5x longer)
        np.matmul(c, -2 * c.T, out=k)
        sq = (c * c).sum(1)
        k += sq[:, None]
        k += sq[None, :]
        np.maximum(k, 0.0, out=k)
        k[...] = cls.kernel(k, fast)
        k.flat[:: n + 1] += smoothing
        a[:n, n] = a[n, :n] = 1.0
        a[:n, n + 1:] = c
        a[n + 1:, :n] = c.T
        a[n:, n:] = 0.0
        rhs = np.zeros((n + 3, values.shape[1]))
        rhs[:n] = values
        # LU through scipy: ~5 ms for 500 centres where numpy's solve takes 40-60 ms on a busy
        # 2-core machine (measured).
        from scipy.linalg import lu_factor, lu_solve

        sol = lu_solve(lu_factor(a, overwrite_a=True, check_finite=False), rhs,
                       overwrite_b=True, check_finite=False)
        return cls(c, sol[:n], sol[n:], fast)

    # Points evaluated together: (rows x centres) float32 blocks that stay in the CPU's cache
    # (the whole grid at once streamed ~10 MB through memory eight times: 2x slower).
    _BLOCK = 256

    def __call__(self, points: np.ndarray) -> np.ndarray:
        p = np.asarray(points, np.float32)
        c = self.centres.astype(np.float32)
        if self.fast:  # |p|^2 + |c|^2 - 2 p.c as one product: (x, y, 1, |p|^2).(-2c, |c|^2, 1)
            left = np.empty((len(p), 4), np.float32)
            left[:, :2], left[:, 2], left[:, 3] = p, 1.0, (p * p).sum(1)
            right = np.concatenate([-2 * c.T, (c * c).sum(1)[None, :],
                                    np.ones((1, len(c)), np.float32)])
        else:
            c2 = -2 * c.T
            cc = (c * c).sum(1)[None, :]
        w = self.weights.astype(np.float32)
        out = p @ self.affine[1:].astype(np.float32)
        out += self.affine[0].astype(np.float32)
        k = np.empty((min(self._BLOCK, len(p)), len(c)), np.float32)
        tiny = np.float32(1e-12)
        for i in range(0, len(p), self._BLOCK):
            q = p[i:i + self._BLOCK]
            kb = k[:len(q)]
            if self.fast:
                np.matmul(left[i:i + self._BLOCK], right, out=kb)
            else:
                np.matmul(q, c2, out=kb)  # squared distances: |p|^2 + |c|^2 - 2 p.c
                kb += (q * q).sum(1)[:, None]
                kb += cc
            np.maximum(kb, tiny, out=kb)
            kb *= self._log(kb, self.fast)
            out[i:i + len(q)] += (kb @ w) * np.float32(0.5)
        return out

    def grid(self, xs: np.ndarray, ys: np.ndarray, mask: np.ndarray | None = None
             ) -> np.ndarray:
        """Values on the grid ``xs`` x ``ys``: float32 (len(ys), len(xs), D); with ``mask``
        (len(ys), len(xs)) bool, only where it is True (0 elsewhere)."""
        pts = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
        if mask is None:
            return self(pts).reshape(len(ys), len(xs), -1)
        out = np.zeros((len(ys) * len(xs), self.weights.shape[1]), np.float32)
        keep = mask.reshape(-1)
        out[keep] = self(pts[keep])
        return out.reshape(len(ys), len(xs), -1)

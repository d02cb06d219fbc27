#!/usr/bin/python3
"""numpy references for the calibration range methods (src/quantization/range_selection.cpp).

tests/calibration_range_test.cpp asserts the values this prints; run it to see where they come from:
    /usr/bin/python3 tools/calibration_reference.py

entropy: TensorRT's calibration as Migacz's GTC 2017 slides ("8-bit Inference with TensorRT") give it, with
MXNet's / ORT's smoothing (eps 0.0001) and the threshold at the upper edge of the last kept bin.
mse: the symmetric threshold minimising (count inside) * step^2 / 12 + sum over clipped bins of (centre - t)^2.
"""
import numpy as np


def smooth(p, eps=0.0001):
    zeros = p == 0
    nonzeros = ~zeros
    if nonzeros.sum() == 0:
        return None
    eps1 = eps * zeros.sum() / nonzeros.sum()
    if eps1 >= 1.0:
        return None
    out = p.astype(np.float64) + eps * zeros - eps1 * nonzeros
    return None if (out <= 0).any() else out


def kl(p, q):
    p = p / p.sum()
    q = q / q.sum()
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


def entropy_threshold_bins(counts, quantized_bins=128):
    counts = np.asarray(counts, dtype=np.float64)
    n = counts.size
    best, best_kept = np.inf, n
    for kept in range(quantized_bins, n + 1):
        p = counts[:kept].copy()
        p[-1] += counts[kept:].sum()
        merged = kept // quantized_bins
        q = np.zeros(kept)
        for level in range(quantized_bins):
            start = level * merged
            end = kept if level == quantized_bins - 1 else start + merged
            nonzero = p[start:end] != 0
            if nonzero.sum() == 0:
                continue
            q[start:end][nonzero] = counts[start:end].sum() / nonzero.sum()
        ps, qs = smooth(p), smooth(q)
        if ps is None or qs is None:
            continue
        d = kl(ps, qs)
        if d < best:
            best, best_kept = d, kept
    return best_kept


def mse_threshold(counts, upper, levels=256):
    counts = np.asarray(counts, dtype=np.float64)
    n = counts.size
    width = upper / n
    centres = (np.arange(n) + 0.5) * width
    best, best_t = np.inf, upper
    for kept in range(n, 0, -1):
        t = kept * width
        step = 2 * t / (levels - 1)
        inside = counts[:kept].sum()
        clip = np.sum(counts[kept:] * (centres[kept:] - t) ** 2)
        err = (inside * step * step / 12 + clip) / counts.sum()
        if err < best:
            best, best_t = err, t
    return best_t


def test_histogram():
    """The |x| histogram the C++ test builds: a half-Gaussian bulk (sigma about 212 bins) and one outlier in the
    last bin."""
    j = np.arange(2048)
    counts = np.floor(10000.0 * np.exp(-((j / 300.0) ** 2)))
    counts[2047] += 1
    return counts


if __name__ == "__main__":
    counts = test_histogram()
    print("entropy threshold, kept bins:", entropy_threshold_bins(counts, 128))
    print("mse threshold (upper 2048):", mse_threshold(counts, 2048.0))

"""The perceptual hash stored in `images.phash`, bit for bit the one `imagehash.phash` gives.

Two matrix products with the first 8 rows of the DCT-II basis replace two full 32-point
scipy DCTs: the 8x8 low-frequency corner is all the hash reads, and the workers then need
neither scipy nor its import time. Older projects' hashes stay comparable because the values
are the same (tests/core/test_thumbnails.py checks against imagehash, and two imported files
against the values earlier versions stored).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

HASH_SIZE = 8
_SIDE = HASH_SIZE * 4  # imagehash's highfreq_factor
_n = np.arange(_SIDE)
# scipy.fftpack.dct type II, unnormalised: y[k] = 2 * sum_n x[n] cos(pi k (2n + 1) / (2N)).
_BASIS = 2.0 * np.cos(np.pi * np.arange(HASH_SIZE)[:, None] * (2 * _n[None, :] + 1) / (2 * _SIDE))
_BASIS_T = np.ascontiguousarray(_BASIS.T)
_MID = HASH_SIZE * HASH_SIZE // 2


def phash(image: Image.Image) -> int:
    """64-bit pHash of `image`; the first coefficient is the most significant bit."""
    small = image.convert("L").resize((_SIDE, _SIDE), Image.Resampling.LANCZOS)
    pixels = np.asarray(small, dtype=np.float64)
    low = (_BASIS @ pixels @ _BASIS_T).ravel()  # dct along axis 0, then along axis 1
    # np.median of the 64 values without its per-call overhead: the mean of the two middle
    # ones, computed as np.mean computes it ((a + b) / 2), so the threshold is the same float.
    a, b = np.partition(low, (_MID - 1, _MID))[_MID - 1 : _MID + 1]
    bits = low > (a + b) / 2
    return int.from_bytes(np.packbits(bits).tobytes(), "big")

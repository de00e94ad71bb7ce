"""A tiny I/Q world for attack tests: PSK/PAM-like windows and a small logits classifier.

Independent of the synthetic RadioML generator on purpose: windows ``float32 [N, 2, 32]`` with an
RML-like amplitude (~1e-2), SNR labels, and a small conv net trained for a few seconds. The root
``conftest.py`` loads it by path and serves the module, the dataset and the trained model (once per
test run) as the ``tiny``, ``tiny_data``, ``tiny_model`` and ``snr10`` fixtures.
"""

from __future__ import annotations

import numpy as np

from amc_tf.data.dataset import IQDataset
from amc_tf.runtime import keras, set_seed

CLASSES = ("BPSK", "QPSK", "8PSK", "PAM4")
WINDOW = 32


def make_dataset(
    n_per_cell: int = 150, snrs: tuple[int, ...] = (0, 10, 18), seed: int = 0, window: int = WINDOW
) -> IQDataset:
    """``n_per_cell`` windows per (class, SNR): random symbols, one sample per symbol, AWGN."""
    g = np.random.default_rng(seed)
    xs, ys, ss = [], [], []
    for c, name in enumerate(CLASSES):
        for snr in snrs:
            n = n_per_cell
            if name == "BPSK":
                sym = g.choice([-1.0, 1.0], size=(n, window)).astype(complex)
            elif name == "QPSK":
                sym = np.exp(1j * (np.pi / 4 + np.pi / 2 * g.integers(0, 4, (n, window))))
            elif name == "8PSK":
                sym = np.exp(1j * np.pi / 4 * g.integers(0, 8, (n, window)))
            else:
                sym = g.choice([-3.0, -1.0, 1.0, 3.0], size=(n, window)) / np.sqrt(5.0) + 0j
            sigma = np.sqrt(10 ** (-snr / 10) / 2)
            r = (sym + sigma * (g.standard_normal((n, window)) + 1j * g.standard_normal((n, window)))) * 0.01
            xs.append(np.stack([r.real, r.imag], axis=1))
            ys.append(np.full(n, c))
            ss.append(np.full(n, snr))
    x = np.concatenate(xs).astype(np.float32)
    perm = g.permutation(x.shape[0])
    return IQDataset(
        x[perm],
        np.concatenate(ys)[perm].astype(np.int64),
        np.concatenate(ss)[perm].astype(np.int32),
        CLASSES,
        {"source": "tests/attacks/tiny.py"},
    )


def build_tiny_model(n_classes: int = len(CLASSES), window: int = WINDOW) -> keras.Model:
    """Per-sample features then averaging (a learned constellation histogram): 1,284 parameters."""
    L = keras.layers
    inp = keras.Input((2, window))
    h = L.Reshape((2, window, 1))(inp)
    h = L.Rescaling(100.0)(h)
    h = L.Conv2D(32, (2, 1), activation="relu")(h)
    h = L.Conv2D(32, (1, 1), activation="relu")(h)
    h = L.GlobalAveragePooling2D()(h)
    return keras.Model(inp, L.Dense(n_classes)(h), name="tiny")


def train_tiny_model(ds: IQDataset, seed: int = 0, epochs: int = 8) -> keras.Model:
    set_seed(seed)
    model = build_tiny_model(len(ds.classes), ds.window)
    model.compile(
        keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    model.fit(ds.x, ds.y, batch_size=64, epochs=epochs, verbose=0)
    return model


def accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(model.predict(x, batch_size=256, verbose=0), axis=1) == y))

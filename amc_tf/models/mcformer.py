"""MCformer (Hamidi-Rad & Jain, Globecom 2021) and its compact variant (references §4.1).

Follows the authors' Fireball definition (layer string ``CONV_K1x65_O32_Ps:SeLU; 4*BERT_O32_I128_H4:
GELU; TP_N4; FC_O128:SeLU; FC_O<classes>``), translated to channels-last Keras built-ins:

input ``[N, 2, L]`` → fixed input gain (:mod:`amc_tf.models.input_scale`) → ``Permute`` to
``[N, L, 2]`` → Conv1D ``d_model`` filters, kernel 65, "same", SELU (the 1×65 convolution of the
notebook; it also carries the position information: no positional encoding, no CLS token) →
``layers`` post-LN (BERT-style) encoder layers, each: multi-head self-attention (``heads`` heads of
width ``d_model / heads``, Q/K/V/output projections with bias, dropout 0.1 on the attention
probabilities) → dropout → ``LayerNorm(x + ·)`` → Dense ``ffn`` GELU → Dense ``d_model`` → dropout →
``LayerNorm(· + ·)`` (epsilon 1e-12, weights initialised with std 0.02 as in Fireball's BertLayer) →
keep the first ``pool_tokens`` tokens (Fireball's "TP_N4"; a ``Cropping1D``) → Flatten → Dense 128
SELU → Dense ``n_classes`` **logits** (D3).

Parameter counts for 11 classes: ``mcformer`` 72,939 (the notebook's 72,810 for 10 classes),
``mcformer_small`` 10,179.

**Interpretations (D8).** ``mcformer_small``: the authors' page says "just over 10 thousand
parameters" without a configuration; d_model 8 with 4 heads (head width 2), FFN 32, the same depth,
the same 1×65 embedding and FC 128 gives 10,179 — consistent with the claim and with the third-party
``MCformerSmall`` config, which also uses width 8. SELU layers use ``lecun_normal`` (the initialiser
SELU's self-normalisation assumes); Fireball's own initialiser of those layers is not documented.

**Attention maps.** Every encoder's ``MultiHeadAttention`` layer (named ``encoder<i>_attention``) is
called with ``return_attention_scores=True``; the probabilities (after the softmax, before the
attention dropout) are a second output of that layer in the functional graph. The model itself
outputs logits only, so every attack, ART, TF-MOT and TFLite see a plain classifier;
:func:`attention_model` reads the maps out of any built or loaded MCformer without re-implementing
it. All layers are Keras built-ins, so the safe loader (D9) admits the ``.keras`` archive.
"""

from __future__ import annotations

from amc_tf.errors import ConfigError
from amc_tf.models.input_scale import scale_input
from amc_tf.runtime import keras

#: Name pattern of the attention layers (``encoder1_attention`` ...).
ATTENTION_LAYER = "encoder{}_attention"


def _init():
    """Fireball's weight initialiser; a new instance per layer (tf_keras returns the same values
    from a reused unseeded instance, which would start Q, K and V equal)."""
    return keras.initializers.TruncatedNormal(stddev=0.02)


def _encoder(h, i: int, d_model: int, heads: int, ffn: int, dropout: float):
    """One post-LN BERT encoder layer (Fireball's BertLayer)."""
    L = keras.layers
    mha = L.MultiHeadAttention(
        num_heads=heads,
        key_dim=d_model // heads,
        dropout=dropout,
        kernel_initializer=_init(),
        name=ATTENTION_LAYER.format(i),
    )
    context, _ = mha(h, h, return_attention_scores=True)
    context = L.Dropout(dropout, name=f"encoder{i}_dropout1")(context)
    h = L.LayerNormalization(epsilon=1e-12, name=f"encoder{i}_norm1")(L.Add(name=f"encoder{i}_add1")([h, context]))
    f = L.Dense(ffn, activation="gelu", kernel_initializer=_init(), name=f"encoder{i}_ffn1")(h)
    f = L.Dense(d_model, kernel_initializer=_init(), name=f"encoder{i}_ffn2")(f)
    f = L.Dropout(dropout, name=f"encoder{i}_dropout2")(f)
    return L.LayerNormalization(epsilon=1e-12, name=f"encoder{i}_norm2")(L.Add(name=f"encoder{i}_add2")([h, f]))


def build_mcformer(
    n_classes: int = 11,
    window: int = 128,
    d_model: int = 32,
    heads: int = 4,
    ffn: int = 128,
    layers: int = 4,
    kernel: int = 65,
    pool_tokens: int = 4,
    hidden: int = 128,
    dropout: float = 0.1,
    input_scale: float = 1.0,
    name: str = "mcformer",
) -> keras.Model:
    """Build MCformer (module docstring).

    Args:
        n_classes: Number of classes (logits width).
        window: Samples per window L; the encoder sees L tokens.
        d_model: Token width (32 in the paper, 8 for the compact model).
        heads: Attention heads; must divide ``d_model``.
        ffn: Width of each encoder's feed-forward layer (128; 32 for the compact model).
        layers: Number of encoder layers (4).
        kernel: Width of the convolutional embedding (65).
        pool_tokens: Leading tokens kept by the pooler (4).
        hidden: Width of the SELU layer before the logits (128).
        dropout: Dropout on attention probabilities and encoder outputs (0.1).
        input_scale: Constant gain applied to the input inside the model.
        name: Keras model name.

    Returns:
        An uncompiled ``keras.Model`` mapping ``[N, 2, L]`` I/Q to ``[N, n_classes]`` logits.
    """
    if n_classes < 2:
        raise ConfigError(f"n_classes must be >= 2, got {n_classes}")
    if layers < 1:
        raise ConfigError(f"layers must be >= 1, got {layers}")
    if heads < 1 or d_model % heads:
        raise ConfigError(f"heads must divide d_model: d_model={d_model}, heads={heads}")
    if not 1 <= pool_tokens <= window:
        raise ConfigError(f"pool_tokens must lie in [1, window={window}], got {pool_tokens}")
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"dropout must lie in [0, 1), got {dropout}")
    L = keras.layers
    inp = keras.Input(shape=(2, window), name="iq")
    h = L.Permute((2, 1), name="tokens")(scale_input(inp, input_scale))
    h = L.Conv1D(d_model, kernel, padding="same", activation="selu", kernel_initializer="lecun_normal", name="embed")(h)
    for i in range(1, layers + 1):
        h = _encoder(h, i, d_model, heads, ffn, dropout)
    h = L.Cropping1D((0, window - pool_tokens), name="pool")(h)
    h = L.Flatten(name="flatten")(h)
    h = L.Dense(hidden, activation="selu", kernel_initializer="lecun_normal", name="fc")(h)
    out = L.Dense(n_classes, name="logits")(h)
    return keras.Model(inp, out, name=name)


def build_mcformer_small(
    n_classes: int = 11,
    window: int = 128,
    d_model: int = 8,
    heads: int = 4,
    ffn: int = 32,
    layers: int = 4,
    kernel: int = 65,
    pool_tokens: int = 4,
    hidden: int = 128,
    dropout: float = 0.1,
    input_scale: float = 1.0,
    name: str = "mcformer_small",
) -> keras.Model:
    """The compact MCformer for low-power devices (≈ 10 K parameters; module docstring)."""
    return build_mcformer(
        n_classes, window, d_model, heads, ffn, layers, kernel, pool_tokens, hidden, dropout, input_scale, name
    )


def attention_layers(model: keras.Model) -> list:
    """The ``MultiHeadAttention`` layers of an MCformer, in encoder order.

    Raises:
        ConfigError: ``model`` has no attention layer (it is not a transformer of the registry).
    """
    found = []
    i = 1
    while True:
        try:
            found.append(model.get_layer(ATTENTION_LAYER.format(i)))
        except ValueError:
            break
        i += 1
    if not found:
        raise ConfigError(f"model {model.name!r} has no attention layers (expected {ATTENTION_LAYER.format(1)!r})")
    return found


def attention_model(model: keras.Model) -> keras.Model:
    """A model sharing ``model``'s weights that returns ``[logits, A_1, ..., A_layers]``.

    Each ``A_i`` is ``float32 [N, heads, L, L]``: the softmax attention probabilities of encoder
    ``i`` (rows sum to 1; before the attention dropout). Works on a freshly built model and on one
    loaded from its ``.keras`` archive, and trains the same variables as ``model``.
    """
    maps = [layer.output[1] for layer in attention_layers(model)]
    return keras.Model(model.inputs, [model.output, *maps], name=f"{model.name}_attention")

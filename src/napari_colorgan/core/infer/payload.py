"""The model as it travels through a dask graph: a content hash, bytes only when shipped.

A graph holds the model once, behind one key. Tasks in the submitting process use the colorizer
itself; on a ``dask.distributed`` cluster each worker process deserialises it once and keeps it
cached, instead of a model travelling with every task.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import weakref

from ..devices import pick_device, same_device
from ..model.colorizer import Colorizer


class ModelPayload:
    """A colorizer to travel once through a dask graph: a content hash, and bytes when needed.

    The bytes (safetensors + metadata) are made only when the payload is pickled, i.e. sent to
    another process such as a ``dask.distributed`` worker; tasks in this process use the
    colorizer itself, so a local run never holds a second copy of the weights.

    Parameters
    ----------
    token
        Content hash of the weights, architecture and input scaling.
    data
        The serialised model, or None to make it from ``source`` on demand.
    source
        The colorizer the token was computed from (not pickled).
    """

    def __init__(
        self, token: str, data: bytes | None = None, source: Colorizer | None = None
    ) -> None:
        if data is None and source is None:
            raise ValueError("a ModelPayload needs its bytes or the colorizer they come from")
        self.token = token
        self._data = data
        # The graph holding this payload keeps the model alive (it may have been loaded from a
        # path inside ``colorize``); nothing on the model points back here.
        self._source = source
        self._version = None if source is None else weights_version(source)

    @property
    def source(self) -> Colorizer | None:
        """The in-process colorizer, if its weights are still those of ``token``."""
        source = self._source
        if source is not None and weights_version(source) == self._version:
            return source
        return None

    @property
    def data(self) -> bytes:
        """The model serialised as a safetensors file."""
        if self._data is None:
            source = self.source
            if source is None:
                raise RuntimeError(
                    "the model's weights changed after this lazy colorization was built "
                    "(training went on?): call colorize() again"
                )
            self._data = _model_bytes(source)
        return self._data

    def __reduce__(self) -> tuple:
        return (ModelPayload, (self.token, self.data))

    def __repr__(self) -> str:
        return f"ModelPayload(token={self.token!r})"


def weights_version(colorizer: Colorizer) -> tuple:
    """Changes whenever what computes the colours changes.

    Identity plus autograd's version counter of each parameter and buffer: an optimiser step or
    ``load_state_dict`` bumps the counter, new tensors change the identity, while a change of
    memory format (channels-last for bf16 kernels) changes neither. The configuration and input
    normalisation are frozen dataclasses, so their identity tells a replaced one.
    """
    gen = colorizer.generator
    tensors = tuple((id(t), t._version) for t in itertools.chain(gen.parameters(), gen.buffers()))
    return (id(colorizer.config), id(colorizer.normalization), *tensors)


#: Tokens by colorizer, kept beside it rather than on it, so copies and pickles of a colorizer
#: never carry one, and a discarded colorizer is forgotten.
_MEMO: weakref.WeakKeyDictionary[Colorizer, tuple[tuple, str]] = weakref.WeakKeyDictionary()


def model_payload(colorizer: Colorizer) -> ModelPayload:
    """The payload of ``colorizer``; its token is memoised while the weights are unchanged.

    Hashing a pix2pix generator's 200 MB of weights takes about a second, so repeated
    ``colorize`` calls with the same model reuse the token.
    """
    version = weights_version(colorizer)
    memo = _MEMO.get(colorizer)
    if memo is None or memo[0] != version:
        memo = (version, _token(colorizer))
        _MEMO[colorizer] = memo
    return ModelPayload(memo[1], source=colorizer)


def _token(colorizer: Colorizer) -> str:
    """Hash of what computes the colours: weights, architecture, input scaling.

    Not when the file was made, so a resumed job recognises the same model.
    """
    import json

    digest = hashlib.sha256()
    state = colorizer.generator.state_dict()
    for key in sorted(state):
        digest.update(key.encode())
        digest.update(state[key].detach().cpu().contiguous().numpy())  # no copy on the CPU
    for doc in (colorizer.config.to_dict(), colorizer.normalization.to_dict()):
        digest.update(json.dumps(doc, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def _model_bytes(colorizer: Colorizer) -> bytes:
    """The bytes of the model file ``colorizer.save`` would write."""
    from safetensors.torch import save

    from ..model.file import encode_metadata

    state = {k: v.detach().cpu().contiguous() for k, v in colorizer.generator.state_dict().items()}
    return save(state, metadata=encode_metadata(colorizer.metadata()))


_CACHE: dict[tuple[str, str], Colorizer] = {}
_CACHE_LOCK = threading.Lock()


def cached_model(payload: ModelPayload, device: str) -> Colorizer:
    """The colorizer of ``payload`` on ``device``.

    Its own source if that is on ``device`` with unchanged weights; otherwise built from the
    bytes, once per process (a ``dask.distributed`` worker keeps it for later tasks).
    """
    source = payload.source
    if source is not None and same_device(pick_device(device), source.device):
        source.generator.eval()
        return source
    key = (payload.token, device)
    with _CACHE_LOCK:
        model = _CACHE.get(key)
        if model is None:
            import tempfile
            from pathlib import Path

            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "model.safetensors"
                path.write_bytes(payload.data)
                model = Colorizer.load(path, device=pick_device(device))
            if len(_CACHE) >= 4:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = model
        return model

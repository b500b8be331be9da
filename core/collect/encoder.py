"""A CLIP-style model that turns texts and images into unit vectors. torch and transformers
are imported here, inside functions, so nothing loads them until a CLIP operation runs."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.collect.catalog import ClipSpec, resolve
from core.collect.errors import CollectError


class ClipEncoder:
    def __init__(self, key: str, folder: Path, spec: ClipSpec, device: str | None = None):
        import torch
        from transformers import AutoImageProcessor, AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # keep stderr for our own progress bar
        self.key, self.folder, self.spec = key, Path(folder), spec
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = AutoModel.from_pretrained(folder).to(self.device).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        # The PIL processor: same numbers everywhere, and torchvision is not needed.
        self.processor = AutoImageProcessor.from_pretrained(folder, backend="pil")
        text_cfg = getattr(self.model.config, "text_config", self.model.config)
        self.max_text = int(getattr(text_cfg, "max_position_embeddings", 77))
        self.dim = int(self.encode_texts(["a"]).shape[1])

    @staticmethod
    def _features(out):
        import torch

        # transformers 4 returns the projected tensor; 5 wraps it as pooler_output.
        return out if isinstance(out, torch.Tensor) else out.pooler_output

    def _unit(self, feats) -> np.ndarray:
        import torch

        feats = torch.nn.functional.normalize(feats.float(), dim=-1)
        return feats.cpu().numpy().astype(np.float32)

    def encode_texts(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        import torch

        # SigLIP was trained on texts padded to a fixed length; CLIP pools at the end token.
        padding = "max_length" if self.spec.family == "siglip" else True
        max_len = min(self.max_text, 64) if self.spec.family == "siglip" else self.max_text
        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                enc = self.tokenizer(
                    list(texts[i : i + batch_size]),
                    padding=padding,
                    truncation=True,
                    max_length=max_len,
                    return_tensors="pt",
                ).to(self.device)
                out.append(self._unit(self._features(self.model.get_text_features(**enc))))
        return np.concatenate(out) if out else np.zeros((0, getattr(self, "dim", 0)), np.float32)

    def encode_images(self, images: Sequence) -> np.ndarray:
        """Unit vectors of PIL images (RGB)."""
        import torch

        if not images:
            return np.zeros((0, self.dim), np.float32)
        with torch.inference_mode():
            inputs = self.processor(images=list(images), return_tensors="pt").to(self.device)
            return self._unit(self._features(self.model.get_image_features(**inputs)))


@lru_cache(maxsize=2)
def _load(key: str, folder: str, spec: ClipSpec, device: str | None) -> ClipEncoder:
    try:
        return ClipEncoder(key, Path(folder), spec, device)
    except (OSError, ValueError, KeyError) as exc:  # missing weights, bad config, no tokenizer
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CollectError(f"cannot load CLIP model {key!r} from {folder}: {first}") from None


def load_encoder(name: str | None = None, device: str | None = None, progress=None) -> ClipEncoder:
    """The encoder for a catalog name or local folder; the last two stay loaded. A catalog
    model not on this machine yet is downloaded first (`progress(file, done, total)`)."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise CollectError(
            f"CLIP needs torch and transformers ({exc.name} is missing): "
            "pip install 'mminstruct-studio[train]'"
        ) from None
    model = resolve(name, progress)
    return _load(model.key, str(model.folder), model.spec, device)

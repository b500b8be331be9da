"""Tiny random-weight VLMs saved as local "hub" folders, with a tokenizer trained here.

Each builder writes a folder that `from_pretrained` loads like a downloaded checkpoint: config,
safetensors weights, tokenizer, image processor and a chat template in the family's format.
Hidden sizes are tiny so a CPU step takes milliseconds.
"""

from __future__ import annotations

import random
from pathlib import Path

from trainer.families import image_only, save_processor

WORDS = (
    "the a cat dog sits on mat red blue green what color is this picture image yes no answer "
    "question shows car tree house sky which one of following true false small big left right "
    "how many two three four animal person road water"
).split()

# One template per family, in the shape each family's released template renders.
LLAVA_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'user' %}USER: "
    "{% for c in m['content'] %}{% if c['type'] == 'image' %}<image>\n{% else %}{{ c['text'] }}"
    "{% endif %}{% endfor %} {% else %}ASSISTANT: {% for c in m['content'] %}{{ c['text'] }}"
    "{% endfor %}</s>{% endif %}{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)
QWEN_TEMPLATE = (
    "{% if messages[0]['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant."
    "<|im_end|>\n{% endif %}{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% else %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
IDEFICS3_TEMPLATE = (
    "<|im_start|>{% for m in messages %}{{ m['role'] | capitalize }}:"
    "{% for c in m['content'] %}{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}"
    "{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)

BASE_SPECIALS = ["<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
FAMILY_SPECIALS = {
    "llava": ["<image>"],
    "qwen2_vl": ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"],
    "idefics3": ["<image>", "<fake_token_around_image>", "<global-img>", "<end_of_utterance>"],
}
FAMILY_SPECIALS["llava_next"] = FAMILY_SPECIALS["llava"]
FAMILY_SPECIALS["qwen2_5_vl"] = FAMILY_SPECIALS["qwen2_vl"]
FAMILY_SPECIALS["smolvlm"] = FAMILY_SPECIALS["idefics3"]


def train_tokenizer(family: str):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(0)
    sentences = [" ".join(rng.choice(WORDS) for _ in range(9)) for _ in range(400)]
    sentences += ["USER: ASSISTANT: User: Assistant: system user assistant helpful"] * 5
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = BASE_SPECIALS + FAMILY_SPECIALS[family]
    trainer = trainers.BpeTrainer(
        vocab_size=420,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(sentences, trainer)
    eos = "<|im_end|>" if family.startswith("qwen") else "</s>"
    if family in ("idefics3", "smolvlm"):
        eos = "<end_of_utterance>"
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token=eos
    )


def _text_dims(vocab: int) -> dict:
    return dict(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        # Wide enough an output layer that LoRA on a 32-wide model can move the logits far:
        # at the usual 0.02, the final norm caps them near uniform.
        initializer_range=0.3,
    )


def build_llava(folder: Path) -> Path:
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    tok = train_tokenizer("llava")
    cfg = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=28,
            patch_size=14,
        ),
        text_config=LlamaConfig(**_text_dims(len(tok)), pad_token_id=tok.pad_token_id),
        image_token_index=tok.convert_tokens_to_ids("<image>"),
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
    )
    ip = CLIPImageProcessorPil(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28})
    proc = LlavaProcessor(
        image_processor=ip,
        tokenizer=tok,
        patch_size=14,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=LLAVA_TEMPLATE,
    )
    return _save(LlavaForConditionalGeneration(cfg), proc, folder)


def build_qwen2_vl(folder: Path) -> Path:
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessorPil,
        Qwen2VLProcessor,
    )

    tok = train_tokenizer("qwen2_vl")
    ids = tok.convert_tokens_to_ids
    text = _text_dims(len(tok)) | {
        "rope_parameters": {"rope_type": "default", "mrope_section": [4, 2, 2]},
        "pad_token_id": tok.pad_token_id,
        "eos_token_id": ids("<|im_end|>"),
        "bos_token_id": ids("<s>"),
    }
    cfg = Qwen2VLConfig(
        text_config=text,
        vision_config=dict(depth=2, embed_dim=32, hidden_size=32, num_heads=2, mlp_ratio=2),
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
    )
    ip = Qwen2VLImageProcessorPil(
        size={"shortest_edge": 56 * 56, "longest_edge": 56 * 56}, merge_size=2
    )
    proc = image_only(Qwen2VLProcessor)(ip, tok, chat_template=QWEN_TEMPLATE)
    return _save(Qwen2VLForConditionalGeneration(cfg), proc, folder)


def build_idefics3(folder: Path) -> Path:
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessorPil,
        Idefics3Processor,
        LlamaConfig,
    )

    tok = train_tokenizer("idefics3")
    cfg = Idefics3Config(
        vision_config=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=28,
            patch_size=14,
        ),
        text_config=LlamaConfig(**_text_dims(len(tok)), pad_token_id=tok.pad_token_id),
        image_token_id=tok.convert_tokens_to_ids("<image>"),
        scale_factor=2,
    )
    ip = Idefics3ImageProcessorPil(
        do_image_splitting=False,
        size={"longest_edge": 28},
        max_image_size={"longest_edge": 28},
    )
    proc = Idefics3Processor(
        image_processor=ip, tokenizer=tok, image_seq_len=1, chat_template=IDEFICS3_TEMPLATE
    )
    return _save(Idefics3ForConditionalGeneration(cfg), proc, folder)


def _clip_tiny() -> dict:
    return dict(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=28,
        patch_size=14,
    )


def build_llava_next(folder: Path) -> Path:
    from transformers import (
        CLIPVisionConfig,
        LlamaConfig,
        LlavaNextConfig,
        LlavaNextForConditionalGeneration,
        LlavaNextImageProcessorPil,
        LlavaNextProcessor,
    )

    tok = train_tokenizer("llava_next")
    grid = [[28, 28], [28, 56], [56, 28]]
    cfg = LlavaNextConfig(
        vision_config=CLIPVisionConfig(**_clip_tiny()),
        text_config=LlamaConfig(**_text_dims(len(tok)), pad_token_id=tok.pad_token_id),
        image_token_index=tok.convert_tokens_to_ids("<image>"),
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
        image_grid_pinpoints=grid,
    )
    ip = LlavaNextImageProcessorPil(
        size={"shortest_edge": 28},
        crop_size={"height": 28, "width": 28},
        image_grid_pinpoints=grid,
    )
    proc = LlavaNextProcessor(
        image_processor=ip,
        tokenizer=tok,
        patch_size=14,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=LLAVA_TEMPLATE,
    )
    return _save(LlavaNextForConditionalGeneration(cfg), proc, folder)


def build_qwen2_5_vl(folder: Path) -> Path:
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessorPil,
    )

    tok = train_tokenizer("qwen2_5_vl")
    ids = tok.convert_tokens_to_ids
    text = _text_dims(len(tok)) | {
        "rope_parameters": {"rope_type": "default", "mrope_section": [4, 2, 2]},
        "pad_token_id": tok.pad_token_id,
        "eos_token_id": ids("<|im_end|>"),
        "bos_token_id": ids("<s>"),
    }
    cfg = Qwen2_5_VLConfig(
        text_config=text,
        vision_config=dict(
            depth=2,
            hidden_size=32,
            intermediate_size=64,
            num_heads=2,
            out_hidden_size=32,
            fullatt_block_indexes=[1],
            window_size=56,
        ),
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
    )
    ip = Qwen2VLImageProcessorPil(
        size={"shortest_edge": 56 * 56, "longest_edge": 56 * 56}, merge_size=2
    )
    proc = image_only(Qwen2_5_VLProcessor)(ip, tok, chat_template=QWEN_TEMPLATE)
    return _save(Qwen2_5_VLForConditionalGeneration(cfg), proc, folder)


def build_smolvlm(folder: Path) -> Path:
    from transformers import (
        LlamaConfig,
        SmolVLMConfig,
        SmolVLMForConditionalGeneration,
        SmolVLMImageProcessorPil,
        SmolVLMProcessor,
    )

    tok = train_tokenizer("smolvlm")
    cfg = SmolVLMConfig(
        vision_config=_clip_tiny(),
        text_config=LlamaConfig(**_text_dims(len(tok)), pad_token_id=tok.pad_token_id),
        image_token_id=tok.convert_tokens_to_ids("<image>"),
        scale_factor=2,
    )
    ip = SmolVLMImageProcessorPil(
        do_image_splitting=False, size={"longest_edge": 28}, max_image_size={"longest_edge": 28}
    )
    proc = image_only(SmolVLMProcessor)(ip, tok, chat_template=IDEFICS3_TEMPLATE, image_seq_len=1)
    return _save(SmolVLMForConditionalGeneration(cfg), proc, folder)


def _save(model, processor, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    save_processor(processor, folder)
    return folder


BUILDERS = {
    "llava": build_llava,
    "llava_next": build_llava_next,
    "qwen2_vl": build_qwen2_vl,
    "qwen2_5_vl": build_qwen2_5_vl,
    "idefics3": build_idefics3,
    "smolvlm": build_smolvlm,
}

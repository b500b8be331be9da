"""A tiny random-weight CLIP saved as a local model folder, with a word-level tokenizer trained
here: loads through the same from_pretrained path as a downloaded checkpoint, runs in
milliseconds on one CPU thread."""

from __future__ import annotations

from pathlib import Path

WORDS = (
    "a an the photo of picture image painting drawing cat dog fox bird car tree house city "
    "street sky sea food red green blue white black small big animal vehicle plant flower "
    "landmark style scene poster meme chart text person people"
).split()


def train_tokenizer():
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=["<pad>", "<unk>", "<s>", "</s>"])
    tok.train_from_iterator([" ".join(WORDS)], trainer)
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    # CLIP pools the text at the end token, so every text must end with one.
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        model_max_length=32,
    )


def build_tiny_clip(folder: Path, projection_dim: int = 16, image_size: int = 32) -> Path:
    import torch
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel

    tok = train_tokenizer()
    cfg = CLIPConfig(
        text_config=dict(
            vocab_size=len(tok),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=32,
            eos_token_id=tok.eos_token_id,
            bos_token_id=tok.bos_token_id,
            pad_token_id=tok.pad_token_id,
        ),
        vision_config=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=image_size,
            patch_size=8,
        ),
        projection_dim=projection_dim,
    )
    torch.manual_seed(0)
    model = CLIPModel(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    side = {"height": image_size, "width": image_size}
    CLIPImageProcessorPil(size={"shortest_edge": image_size}, crop_size=side).save_pretrained(
        folder
    )
    return folder

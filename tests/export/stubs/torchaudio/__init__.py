"""Stub for the LLaMA-Factory peer test only: llamafactory.data.mm_plugin imports torchaudio at
module level, and no torchaudio release installs beside torch 2.13 here. Audio is never used."""

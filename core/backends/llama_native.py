"""llama.cpp's own `llama-server` as the managed local server: N slots, continuous batching.

`llama_cpp.server` (llama-cpp-python) answers one request at a time; `llama-server` splits
one context into `-np N` slots and decodes them together, so N requests in flight cost
little more than one on a GPU and still gain on a CPU. Process handling (random port, key in
the environment, health check, one restart, log file, death with the parent) is the base
class's; only the command line, the key variable and the readiness URL differ.

The executable is the backend's configured path, else $MMSTUDIO_LLAMA_SERVER, else
`llama-server` on PATH. The context given per backend (`n_ctx`) is what one request may use:
the server gets `n_ctx x N` and gives each slot its share.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from core.backends.base import BackendUnavailable
from core.backends.llama_child import EXEC_FLAG
from core.backends.llama_server import ManagedServer
from core.frozen import python_command

BINARY_NAME = "llama-server"
ENV_BINARY = "MMSTUDIO_LLAMA_SERVER"


def find_llama_server(configured: str | Path | None = None) -> Path:
    """The llama-server executable to run, or a BackendUnavailable saying where we looked."""
    if configured:
        path = Path(configured).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path.resolve()
        raise BackendUnavailable(f"llama-server not found or not executable: {path}")
    from_env = os.environ.get(ENV_BINARY)
    if from_env:
        return find_llama_server(from_env)
    found = shutil.which(BINARY_NAME)
    if found:
        return Path(found).resolve()
    raise BackendUnavailable(
        f"no {BINARY_NAME} executable: put llama.cpp's {BINARY_NAME} on PATH, set "
        f"${ENV_BINARY}, or give its path with `mmstudio backend add ... --server-path FILE`"
    )


class NativeServer(ManagedServer):
    def __init__(self, gguf, *, binary: str | Path | None = None, slots: int = 4, **kw):
        super().__init__(gguf, **kw)
        self.binary = binary
        self.slots = max(1, int(slots))

    def command(self) -> list[str]:
        binary = str(find_llama_server(self.binary))
        cmd = python_command("core.backends.llama_child") + [EXEC_FLAG, binary]
        cmd += ["--model", str(self.gguf), "--host", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--alias", self.alias, "--no-webui"]
        cmd += ["--ctx-size", str(self.n_ctx * self.slots), "--parallel", str(self.slots)]
        cmd += ["--cont-batching", "--n-gpu-layers", str(self.n_gpu_layers)]
        if self.n_threads:
            cmd += ["--threads", str(self.n_threads), "--threads-batch", str(self.n_threads)]
        if self.mmproj:
            cmd += ["--mmproj", str(self.mmproj)]
        return cmd

    def key_env(self) -> dict[str, str]:
        return {"LLAMA_API_KEY": self.api_key}

    def health_url(self) -> str:
        # 503 while the model loads, 200 once slots are ready (a public endpoint)
        return f"http://127.0.0.1:{self.port}/health"

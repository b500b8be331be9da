import pytest

from tests.fixtures_loopback import lb_backend, loopback  # noqa: F401


@pytest.fixture(scope="session")
def tiny_vlm_files(tmp_path_factory):
    """(text GGUF, mmproj GGUF) of a random-weight VLM, written once per test session."""
    from tests.gguf_models import write_tiny_vlm

    return write_tiny_vlm(tmp_path_factory.mktemp("tiny-vlm"))


@pytest.fixture(scope="session")
def smollm2_file():
    from tests.gguf_models import smollm2_gguf

    return smollm2_gguf()

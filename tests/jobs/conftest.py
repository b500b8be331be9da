from tests.fixtures_loopback import lb_backend, loopback  # noqa: F401

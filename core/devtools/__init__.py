"""Developer tools shipped with the engine: servers for tests and benchmarks."""

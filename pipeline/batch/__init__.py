"""Running `process` over large inputs: the per-statement analysis a worker runs (`analyse`), local worker pool and resume (`runner`), the Ray engine, memory settings."""

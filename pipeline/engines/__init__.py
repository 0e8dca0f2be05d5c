"""Alternative execution engines for `polclaims process` (the default is local, in-process).

Each engine is a drop-in replacement for
`pipeline.claims.process.process_statements(read_statements(inputs))`: it takes the reader's
stream of `Statement | Failure` and yields one `StatementResult` per record, in input order.
Engines import their heavy dependencies lazily, so importing this package costs nothing.
"""
from __future__ import annotations


def process_with_ray(*args, **kwargs):
    """See `pipeline.engines.ray_engine.process_with_ray` (needs `pip install polclaims[ray]`)."""
    from .ray_engine import process_with_ray as _impl

    return _impl(*args, **kwargs)


__all__ = ["process_with_ray"]

"""bnrepro: the library behind the batch-normalization claims companion.

One module per cross-cutting concern (claims, figures, runtime, data, registry,
execute, table) and one module per paper (cao2023, ...) holding that paper's
models and metrics. Notebooks call these; they hold no experiment logic.
"""

__version__ = "0.1.0"

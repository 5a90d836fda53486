"""lifecircle: old-community renovation planning on the 15-minute life circle.

Modules: ``config`` (project file), ``standards`` (GB 50180-2018 table), ``crs``, ``io``,
``validate``, ``load``, ``network``, ``coverage``, ``eligibility``, ``bundling``, ``priority``,
``siting``, ``render``/``maps`` (HTML), ``printmap``, ``ledger``, ``pipeline``, ``cli``.
"""

__version__ = "0.1.0"

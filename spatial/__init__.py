"""lifecircle: old-community renovation planning on the 15-minute life circle.

Its folders are the layers of the run (core, text, config, inputs, network, analysis, outputs, run,
cli), described in the README's Development section; the import rule between them is the layer
contract in ``pyproject.toml`` (``lint-imports``).
"""

__version__ = "0.1.0"

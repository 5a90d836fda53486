"""lifecircle: old-community renovation planning on the 15-minute life circle.

A flat package, one module per job; the modules and their import layers are listed once, in the
README's Development section (checked by ``tests/test_pinned.py::LAYERS``).
"""

__version__ = "0.1.0"

"""The run: its stages, the pipeline (load → analyse → write), writing the outputs side by
side, the demo district, and the Python API (:mod:`spatial.workflow.api`, exported lazily by
``spatial``)."""

"""The run: its stages, the pipeline (load → analyse → write), writing the outputs side by
side, the demo district."""

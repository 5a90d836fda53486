"""Writing a run: the staged output folder, the HTML maps, the print pack and the ledger."""

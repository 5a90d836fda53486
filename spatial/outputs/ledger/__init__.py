"""The Excel ledger (台账): formatted sheets and the summary sheets."""

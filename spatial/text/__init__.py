"""The one door for text from the data into each output format (HTML, print)."""

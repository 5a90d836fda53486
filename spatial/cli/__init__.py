"""The command line: arguments, commands, exit codes, and what the terminal prints."""

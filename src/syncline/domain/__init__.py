"""Pure domain types and functions: no I/O, no frameworks."""

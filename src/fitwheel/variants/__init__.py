"""The wheel-variant format (PEP 825): pure code, no I/O, no probing."""

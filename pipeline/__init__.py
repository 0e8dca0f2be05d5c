"""polclaims: structured policy claims from Kazakh and Russian statements."""
__version__ = "0.1.0"

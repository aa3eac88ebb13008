"""``python -m newswatch``."""

from .cli import main

main()

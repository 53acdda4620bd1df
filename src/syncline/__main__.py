"""`python -m syncline` runs the command line."""

from syncline.cli import main

main()

"""``python -m pactstub`` runs the command-line interface."""

from pactstub.cli import main

main()

"""``python -m geoprio`` runs the command line."""

from geoprio.cli import main

main()

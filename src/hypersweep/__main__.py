"""``python -m hypersweep`` is the ``hypersweep`` command."""

from hypersweep.cli import main

main()

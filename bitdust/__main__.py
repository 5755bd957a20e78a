"""``python -m bitdust`` is the ``bitdust`` command."""

from bitdust.interface.cli import main

if __name__ == "__main__":
    main()

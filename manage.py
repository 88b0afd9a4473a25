#!/usr/bin/env python
"""Django's manage.py; `siaga112` (the installed command line) does the same and more."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "platform"))

if __name__ == "__main__":
    from siaga112.cli import main

    main()

import sys

from kurszugang.cli import main

sys.exit(main())

import sys

from calendars.cli import main

sys.exit(main())

import sys

from omg.entry import main

sys.exit(main())

import sys

from numerai_assets.cli import main

sys.exit(main())

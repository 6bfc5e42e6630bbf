"""``python -m stockroom_jobs.cli``."""

from stockroom_jobs.cli import main

main()

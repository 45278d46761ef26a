"""``python -m course_pkg.exercises`` runs ``course-exercises``."""

import sys

from .generate import main

sys.exit(main())

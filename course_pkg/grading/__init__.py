"""Instructor grading of the course's exercise notebooks.

Overview (see ``docs/GRADING.md``):

* :mod:`.notebook` reads a submission (size cap first, then JSON) and extracts the code
  cells to run; :mod:`.static` flags forbidden calls with the AST.
* :mod:`.forkserver` is a pre-warmed process (torch and numpy imported) that forks one
  sandboxed child per submission; the child runs :mod:`.worker`, which executes the
  cells and calls the graded functions on hidden inputs. Only data comes back
  (JSON and ``.npy`` bytes, see :mod:`.protocol`).
* :mod:`.checks` and :mod:`.assignments` hold the graded properties and their points;
  they run in the grader process only.
* :mod:`.grade` grades one notebook, :mod:`.cli` a whole class (``course-grade``).
* The term, on the recorded outcomes only: :mod:`.points` (``grading.toml``), :mod:`.late`,
  :mod:`.term` (rescore, comment, status, merge, shards), :mod:`.gradebook` (csv, Canvas,
  Moodle) and :mod:`.classreport` (``OUT/summary.html``).

This module imports nothing on purpose: the fork server imports ``course_pkg.grading``
and must not hold any reference implementation or test code in its memory.
"""

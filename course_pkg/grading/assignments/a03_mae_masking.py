"""03_mae_masking: graded with the properties of ``course_pkg.exercises.mae_masking``.

Their points, diagnoses and messages are defined there, once, for the grader, the
self-check and the explorers; this module adds what only grading needs.
"""

from ...exercises import mae_masking as exercise

ASSIGNMENT = exercise.ASSIGNMENT
FUNCTIONS = exercise.FUNCTIONS
FORBIDDEN = {"attrs": set(), "modules": {"course_pkg.models.mae", "timm"}}
CHECKS = exercise.PROPERTIES

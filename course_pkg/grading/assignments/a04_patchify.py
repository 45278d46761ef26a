"""04_patchify: graded with the properties of ``course_pkg.exercises.patchify``.

Their points, diagnoses and messages are defined there, once, for the grader, the
self-check and the explorers; this module adds what only grading needs.
"""

from ...exercises import patchify as exercise

ASSIGNMENT = exercise.ASSIGNMENT
FUNCTIONS = exercise.FUNCTIONS
FORBIDDEN = {
    "attrs": set(),
    "modules": {
        "course_pkg.models.patches",
        "course_pkg.models.vit",
        "course_pkg.models.mae",
        "timm",
        "einops",
    },
}
CHECKS = exercise.PROPERTIES

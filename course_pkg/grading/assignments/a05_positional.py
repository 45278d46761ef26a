"""05_positional: graded with the properties of ``course_pkg.exercises.positional``.

Their points, diagnoses and messages are defined there, once, for the grader, the
self-check and the explorers; this module adds what only grading needs.
"""

from ...exercises import positional as exercise

ASSIGNMENT = exercise.ASSIGNMENT
FUNCTIONS = exercise.FUNCTIONS
FORBIDDEN = {
    "attrs": {"get_1d_sincos_pos_embed", "get_1d_sincos_pos_embed_from_grid"},
    "modules": {
        "course_pkg.models.positional",
        "course_pkg.models.vit",
        "course_pkg.models.mae",
        "timm",
    },
}
CHECKS = exercise.PROPERTIES

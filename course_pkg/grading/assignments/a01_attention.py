"""01_attention: graded with the properties of ``course_pkg.exercises.attention``.

Their points, diagnoses and messages are defined there, once, for the grader, the
self-check and the explorers; this module adds what only grading needs.
"""

from ...exercises import attention as exercise

ASSIGNMENT = exercise.ASSIGNMENT
FUNCTIONS = exercise.FUNCTIONS
FORBIDDEN = {
    "attrs": {
        "scaled_dot_product_attention",
        "multi_head_attention_forward",
        "attention_weights",
        "MultiheadAttention",
    },
    "modules": {
        "course_pkg.models.attention",
        "course_pkg.models.vit",
        "course_pkg.models.crossvit",
    },
}
CHECKS = exercise.PROPERTIES

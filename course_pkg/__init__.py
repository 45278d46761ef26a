"""course_pkg: the tested companion package of "ViT from the notes".

Every chapter and exercise imports from here instead of redefining things. The parts:

* ``course_pkg.models``: the models the chapters teach (attention, patches, positional,
  vit, crossvit, mae, distill, cnn), readable on their own, importing nothing of training,
  teaching or grading;
* ``course_pkg.data``, ``course_pkg.device``, ``course_pkg.steps``, ``course_pkg.train``,
  ``course_pkg.costs``, ``course_pkg.checkpoints``: example data, device choice, training
  steps and loop, attention cost measurement, shipped weights;
* ``course_pkg.teaching``: language, fonts, figures, widgets and self-checks;
* ``course_pkg.exercises``: the exercise notebooks' generator;
* ``course_pkg.grading``: the grader.
"""

from . import _moved
from .device import get_device, seed_everything

_moved.install()

__version__ = "0.2.0"
__all__ = ["get_device", "seed_everything", "__version__"]

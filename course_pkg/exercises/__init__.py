"""The exercises: how their notebooks are made and what a correct answer satisfies.

* :mod:`.generate` writes the student notebooks ``exercises/`` from ``solutions/``
  (the ``course-exercises`` command).
"""

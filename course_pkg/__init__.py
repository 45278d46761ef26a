"""course_pkg: the tested companion package of "ViT from the notes".

Every chapter and exercise imports from here instead of redefining things.
"""
from .device import get_device, seed_everything

__version__ = "0.1.0"
__all__ = ["get_device", "seed_everything", "__version__"]

"""Importing this package registers every op definition (one module per family)."""
from lowerflow.ir.ops import elementwise, structure  # noqa: F401
from lowerflow.ir.ops import linalg, random, reduction  # noqa: F401
from lowerflow.ir.ops import array, like, shape  # noqa: F401
from lowerflow.ir.ops import control, fusion, loop, pool  # noqa: F401
from lowerflow.ir.ops import conv  # noqa: F401
from lowerflow.ir.ops import dynamic  # noqa: F401

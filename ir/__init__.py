"""lowerflow.ir: the SSA IR. Imports nothing else of lowerflow."""
from lowerflow.ir import ops  # noqa: F401  (registers the op definitions)
from lowerflow.ir.build import build
from lowerflow.ir.core import Block, Function, Module, Operation, Value, replace_uses, users
from lowerflow.ir.opdef import OPS, TF_TO_IR, OpDef, get_op
from lowerflow.ir.parser import ParseError, parse_module
from lowerflow.ir.printer import print_function, print_module
from lowerflow.ir.types import ELEM_TYPES, ElemType, TensorType, elem_type_of, tensor

__all__ = [
    "build", "Block", "Function", "Module", "Operation", "Value", "replace_uses", "users",
    "OPS", "TF_TO_IR", "OpDef", "get_op", "print_function", "print_module",
    "parse_module", "ParseError",
    "ELEM_TYPES", "ElemType", "TensorType", "elem_type_of", "tensor",
]

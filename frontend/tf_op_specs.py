"""How each TF1 op type's NodeDef maps onto our graph op (cf. TF's op registry, ops/*.cc).

Our graph ops keep the IR's attributes: a Reshape's target shape, a reduction's axes, a
pad's widths are attributes, where TensorFlow's NodeDef has constant inputs for them and
type attributes ("T", "Tidx", ...) that our typed tensors make redundant. A `Spec` says,
per TF op type, which of TF's inputs are tensors and which are constants folded into one
of our attributes (and how), how TF's attributes are named and typed on our side, and
which type attributes TF requires. Export and import both read the same row.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Const:
    """A TF input that is a constant here: folded into our attribute `attr`.
    `kind`: "ints" (1-D int32), "int" (an int32 scalar), "axes" (absent: every axis),
    "pairs" ([n, 2] int32), "scalar" (a scalar of the op's output dtype), "string" (a string
    scalar: a summary's tag), "bytes" (a string scalar kept as bytes: serialized metadata)."""
    name: str
    attr: str
    kind: str


@dataclass(frozen=True)
class Spec:
    """`inputs`: TF's inputs in order: a tensor input's name, "*name" for a variadic list of
    them, or a `Const`. `attrs`: TF attr -> (our attr, kind, TF's default) where kind is
    b/i/f/s/type/shape/ints. `types`: TF type attr -> the index of the TF input whose dtype it
    is, "out" (output 0's), or a fixed dtype name. `fixed`: TF attrs written as given and
    ignored on import (checked equal when `check` lists them). `ours`: constant attrs of ours."""
    inputs: tuple = ("x",)
    attrs: dict = field(default_factory=dict)
    types: dict = field(default_factory=lambda: {"T": 0})
    fixed: dict = field(default_factory=dict)
    ours: dict = field(default_factory=dict)


_I32 = "int32"
SPECS: dict[str, Spec] = {}

for _name in ("Abs", "Ceil", "Cos", "Exp", "Expm1", "Floor", "Identity", "Inv", "Log", "Log1p", "Neg",
              "Reciprocal", "Relu", "Round", "Rsqrt", "Sigmoid", "Sign", "Sin", "Sqrt", "Square",
              "StopGradient", "Tanh"):
    SPECS[_name] = Spec()
for _name in ("Add", "AddV2", "Div", "FloorDiv", "FloorMod", "Greater", "GreaterEqual", "Less",
              "LessEqual", "Maximum", "Minimum", "Mul", "Pow", "RealDiv", "Sub", "SquaredDifference",
              "TruncateDiv", "TruncateMod"):
    SPECS[_name] = Spec(("x", "y"))
for _name in ("Equal", "NotEqual"):
    SPECS[_name] = Spec(("x", "y"), fixed={"incompatible_shape_error": True})
SPECS["LogicalNot"] = Spec(types={})
SPECS["LogicalAnd"] = SPECS["LogicalOr"] = Spec(("x", "y"), types={})
SPECS["SelectV2"] = Spec(("condition", "t", "e"), types={"T": 1})
SPECS["Cast"] = Spec(attrs={"DstT": ("to", "type", None)}, types={"SrcT": 0}, fixed={"Truncate": False})
SPECS["MatMul"] = Spec(("a", "b"), {"transpose_a": ("transpose_a", "b", False),
                                    "transpose_b": ("transpose_b", "b", False)})
SPECS["BatchMatMul"] = SPECS["BatchMatMulV2"] = Spec(
    ("x", "y"), {"adj_x": ("transpose_a", "b", False), "adj_y": ("transpose_b", "b", False)})
SPECS["Reshape"] = Spec(("tensor", Const("shape", "shape", "ints")), types={"T": 0, "Tshape": _I32})
SPECS["Transpose"] = Spec(("x", Const("perm", "perm", "ints")), types={"T": 0, "Tperm": _I32})
SPECS["ExpandDims"] = Spec(("input", Const("dim", "axis", "int")), types={"T": 0, "Tdim": _I32})
SPECS["Squeeze"] = Spec(attrs={"squeeze_dims": ("squeeze_dims", "ints", [])})
SPECS["ConcatV2"] = Spec(("*values", Const("axis", "axis", "int")), types={"T": 0, "Tidx": _I32})
SPECS["Pack"] = Spec(("*values",), {"axis": ("axis", "i", 0)})
SPECS["Unpack"] = Spec(("value",), {"num": ("num", "i", None), "axis": ("axis", "i", 0)})
SPECS["Tile"] = Spec(("input", Const("multiples", "multiples", "ints")), types={"T": 0, "Tmultiples": _I32})
SPECS["Pad"] = Spec(("input", Const("paddings", "paddings", "pairs")), types={"T": 0, "Tpaddings": _I32},
                    ours={"mode": "CONSTANT", "constant_values": 0})
SPECS["PadV2"] = Spec(("input", Const("paddings", "paddings", "pairs"),
                       Const("constant_values", "constant_values", "scalar")),
                      types={"T": 0, "Tpaddings": _I32}, ours={"mode": "CONSTANT"})
SPECS["MirrorPad"] = Spec(("input", Const("paddings", "paddings", "pairs")), {"mode": ("mode", "s", None)},
                          types={"T": 0, "Tpaddings": _I32}, ours={"constant_values": 0})
SPECS["GatherV2"] = Spec(("params", "indices", Const("axis", "axis", "int")),
                         types={"Tparams": 0, "Tindices": 1, "Taxis": _I32}, fixed={"batch_dims": 0})
SPECS["Slice"] = Spec(("input", Const("begin", "begin", "ints"), Const("size", "size", "ints")),
                      types={"T": 0, "Index": _I32})
SPECS["StridedSlice"] = Spec(
    ("input", Const("begin", "begin", "ints"), Const("end", "end", "ints"), Const("strides", "strides", "ints")),
    {m: (m, "i", 0) for m in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")},
    types={"T": 0, "Index": _I32})
SPECS["OneHot"] = Spec(("indices", Const("depth", "depth", "int"), Const("on_value", "on_value", "scalar"),
                        Const("off_value", "off_value", "scalar")),
                       {"axis": ("axis", "i", -1), "T": ("dtype", "type", None)}, types={"TI": 0})
SPECS["Range"] = Spec((Const("start", "start", "scalar"), Const("limit", "limit", "scalar"),
                       Const("delta", "delta", "scalar")), {"Tidx": ("dtype", "type", None)}, types={})
SPECS["LinSpace"] = Spec((Const("start", "start", "scalar"), Const("stop", "stop", "scalar"),
                          Const("num", "num", "int")), {"T": ("dtype", "type", None)}, types={"Tidx": _I32})
SPECS["Fill"] = Spec((Const("dims", "shape", "ints"), "value"), types={"T": 1, "index_type": _I32})
SPECS["ZerosLike"] = Spec(ours={"value": 0})
SPECS["OnesLike"] = Spec(ours={"value": 1})
SPECS["Shape"] = Spec(("input",), {"out_type": ("out_type", "type", "int32")})
SPECS["Size"] = Spec(("input",), {"out_type": ("out_type", "type", "int32")})
SPECS["Rank"] = Spec(("input",))
SPECS["BroadcastTo"] = Spec(("input", Const("shape", "shape", "ints")), types={"T": 0, "Tidx": _I32})
SPECS["UnsortedSegmentSum"] = Spec(("data", "segment_ids", Const("num_segments", "num_segments", "int")),
                                   types={"T": 0, "Tindices": 1, "Tnumsegments": _I32})
SPECS["Split"] = Spec((Const("split_dim", "axis", "int"), "value"), {"num_split": ("num_split", "i", None)},
                      types={"T": 1})
SPECS["SplitV"] = Spec(("value", Const("size_splits", "size_splits", "ints"), Const("split_dim", "axis", "int")),
                       {"num_split": ("num_split", "i", None)}, types={"T": 0, "Tlen": _I32})
SPECS["SparseSoftmaxCrossEntropyWithLogits"] = Spec(("features", "labels"), types={"T": 0, "Tlabels": 1})
SPECS["Where"] = Spec(("input",))  # shapes known at run time (frontend/dynamic_ops.py)
SPECS["Unique"] = Spec(attrs={"out_idx": ("out_idx", "type", "int32")})
SPECS["DynamicPartition"] = Spec(("data", "partitions"), {"num_partitions": ("num_partitions", "i", None)})
for _name in ("ArgMax", "ArgMin"):
    SPECS[_name] = Spec(("input", Const("dimension", "axis", "int")),
                        {"output_type": ("output_type", "type", "int64")}, types={"T": 0, "Tidx": _I32})
for _name in ("Sum", "Mean", "Max", "Min", "Prod", "All", "Any"):
    SPECS[_name] = Spec(("input", Const("reduction_indices", "axes", "axes")),
                        {"keep_dims": ("keepdims", "b", False)},
                        types={"T": 0, "Tidx": _I32} if _name not in ("All", "Any") else {"Tidx": _I32})
_POOL = {"ksize": ("ksize", "ints", None), "strides": ("strides", "ints", None), "padding": ("padding", "s", None)}
SPECS["MaxPool"] = Spec(("input",), {**_POOL, "explicit_paddings": ("explicit_paddings", "ints", [])},
                        fixed={"data_format": "NHWC"})
SPECS["AvgPool"] = Spec(("value",), _POOL, fixed={"data_format": "NHWC"})
SPECS["MaxPoolGrad"] = Spec(("orig_input", "orig_output", "grad"),
                            {**_POOL, "explicit_paddings": ("explicit_paddings", "ints", [])},
                            fixed={"data_format": "NHWC"})
_RANDOM = {"seed": ("seed", "i", 0), "seed2": ("seed2", "i", 0)}
for _name in ("RandomStandardNormal", "RandomUniform", "TruncatedNormal"):
    SPECS[_name] = Spec((Const("shape", "shape", "ints"),), {**_RANDOM, "dtype": ("dtype", "type", None)},
                        types={"T": _I32})
SPECS["RandomUniformInt"] = Spec((Const("shape", "shape", "ints"), "minval", "maxval"),
                                 {**_RANDOM, "Tout": ("dtype", "type", None)}, types={"T": _I32})
SPECS["Const"] = Spec((), {"value": ("value", "tensor", None), "dtype": ("dtype", "type", None)}, types={})
SPECS["Placeholder"] = Spec((), {"dtype": ("dtype", "type", None), "shape": ("shape", "shape", None)}, types={})
SPECS["PlaceholderWithDefault"] = Spec(("input",), {"shape": ("shape", "shape", None)}, types={"dtype": 0})
SPECS["VariableV2"] = Spec((), {"dtype": ("dtype", "type", None), "shape": ("shape", "shape", None)},
                           types={}, fixed={"container": "", "shared_name": ""})
SPECS["Assign"] = Spec(("ref", "value"), {"validate_shape": ("validate_shape", "b", True)},
                       fixed={"use_locking": True})
SPECS["AssignAdd"] = SPECS["AssignSub"] = Spec(("ref", "value"), fixed={"use_locking": False},
                                               ours={"validate_shape": True})
SPECS["IsVariableInitialized"] = Spec(("ref",), types={"dtype": 0})
SPECS["NoOp"] = Spec((), types={})
SPECS["ScalarSummary"] = Spec((Const("tags", "tag", "string"), "values"), types={"T": 1})
SPECS["HistogramSummary"] = Spec((Const("tag", "tag", "string"), "values"), types={"T": 1})
SPECS["ImageSummary"] = Spec((Const("tag", "tag", "string"), "tensor"),
                             {"max_images": ("max_images", "i", 3), "bad_color": ("bad_color", "tensor", None)},
                             types={"T": 1})
SPECS["TensorSummaryV2"] = Spec((Const("tag", "tag", "string"), "tensor",
                                 Const("serialized_summary_metadata", "summary_metadata", "bytes")), types={"T": 1})
SPECS["MergeSummary"] = Spec(("*inputs",), types={})

# TF op types with no graph op of their own here: built from others on import.
COMPOSITES = ("BiasAdd", "Softmax", "LogSoftmax", "Select", "AddN", "Relu6", "Elu", "Softplus",
              "LeakyRelu", "Snapshot")
_CONV = {"strides": ("strides", "ints", None), "dilations": ("dilations", "ints", [1, 1, 1, 1]),
         "explicit_paddings": ("explicit_paddings", "ints", None)}
_CONV_FIXED = {"padding": "EXPLICIT", "data_format": "NHWC", "use_cudnn_on_gpu": True}
SPECS["Conv2D"] = Spec(("input", "filter"), _CONV, fixed=_CONV_FIXED)
SPECS["Conv2DBackpropFilter"] = Spec(("input", Const("filter_sizes", "filter_sizes", "ints"), "out_backprop"),
                                     _CONV, fixed=_CONV_FIXED)

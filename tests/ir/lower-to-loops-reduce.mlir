// RUN: lowerflow-opt %s -p fuse,plan-buffers,lower-to-loops --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p fuse,plan-buffers,lower-to-loops --split-input-file | lowerflow-opt - --split-input-file | filecheck %s

// A sum over the last axis: a plain loop over the kept dim (serial, as the reduction kernels
// are), an accumulator from -0.0 carried by the unit-stride fold loop, one store per row.
// CHECK-LABEL: func.func @sum_last
// CHECK-NEXT:    %[[K:.*]] = "loop.kernel"(%arg0) ({
// CHECK-NEXT:    ^bb0(%[[OUT:.*]]: memref<4xf32>, %[[IN:.*]]: memref<4x6xf32>):
// CHECK-NEXT:      %[[Z:.*]] = "loop.constant"() {type = f32, value = -0.0 : f64} : () -> f32
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:        %[[S:.*]] = "loop.for"(%[[Z]]) ({
// CHECK-NEXT:        ^bb0(%[[J:.*]]: index, %[[A:.*]]: f32):
// CHECK-NEXT:          %[[X:.*]] = "loop.load"(%[[IN]], %[[I]], %[[J]]) : (memref<4x6xf32>, index, index) -> f32
// CHECK-NEXT:          %[[N:.*]] = "loop.fold"(%[[A]], %[[X]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:          "lf.yield"(%[[N]]) : (f32) -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 6 : i64, vector = true} : (f32) -> f32
// CHECK-NEXT:        "loop.store"(%[[S]], %[[OUT]], %[[I]]) : (f32, memref<4xf32>, index) -> ()
// CHECK-NEXT:        "lf.yield"() : () -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 4 : i64} : () -> ()
// CHECK-NEXT:      "lf.yield"() : () -> ()
// CHECK-NEXT:    }) {lf.offset = [-1 : i64]} : (tensor<4x6xf32>) -> tensor<4xf32>
// CHECK-NEXT:    "func.return"(%[[K]])
func.func @sum_last(%x: tensor<4x6xf32>) -> tensor<4xf32> {
  %0 = "lf.reduce_sum"(%x) {axes = [1], keepdims = false} : (tensor<4x6xf32>) -> tensor<4xf32>
  "func.return"(%0) : (tensor<4xf32>) -> ()
}

// -----

// Max over everything: three nested fold loops carry the accumulator from -inf (written
// as its bit pattern), the NaN-propagating fold is "lf.max"; the result is stored through
// no index into the rank-0 buffer.
// CHECK-LABEL: func.func @max_all
// CHECK:         %[[NEG:.*]] = "loop.constant"() {type = f32, value = 0xFFF0000000000000 : f64} : () -> f32
// CHECK-NEXT:    %[[R:.*]] = "loop.for"(%[[NEG]]) ({
// CHECK-NEXT:    ^bb0(%[[I:.*]]: index, %[[A:.*]]: f32):
// CHECK-NEXT:      %[[R1:.*]] = "loop.for"(%[[A]]) ({
// CHECK-NEXT:      ^bb0(%[[J:.*]]: index, %[[B:.*]]: f32):
// CHECK-NEXT:        %[[R2:.*]] = "loop.for"(%[[B]]) ({
// CHECK-NEXT:        ^bb0(%[[K:.*]]: index, %[[C:.*]]: f32):
// CHECK-NEXT:          %[[X:.*]] = "loop.load"(%{{.*}}, %[[I]], %[[J]], %[[K]])
// CHECK-NEXT:          %[[M:.*]] = "loop.fold"(%[[C]], %[[X]]) {op = "lf.max"} : (f32, f32) -> f32
// CHECK-NEXT:          "lf.yield"(%[[M]]) : (f32) -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 4 : i64, vector = true} : (f32) -> f32
// CHECK-NEXT:        "lf.yield"(%[[R2]]) : (f32) -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 3 : i64} : (f32) -> f32
// CHECK-NEXT:      "lf.yield"(%[[R1]]) : (f32) -> ()
// CHECK-NEXT:    }) {lower = 0 : i64, step = 1 : i64, upper = 2 : i64} : (f32) -> f32
// CHECK-NEXT:    "loop.store"(%[[R]], %{{.*}}) : (f32, memref<f32>) -> ()
func.func @max_all(%x: tensor<2x3x4xf32>) -> tensor<f32> {
  %0 = "lf.reduce_max"(%x) {keepdims = false} : (tensor<2x3x4xf32>) -> tensor<f32>
  "func.return"(%0) : (tensor<f32>) -> ()
}

// -----

// A float16 mean over the first axis, kept: the input is read through a transposed view
// (kept dim first), each element widened to the f32 accumulator, the sum divided by the
// count and narrowed back; the strided fold loop carries no vector hint.
// CHECK-LABEL: func.func @mean_first_f16
// CHECK:         %[[V:.*]] = "loop.view"(%{{.*}}) {shape = [6 : i64, 4 : i64], strides = [1 : i64, 6 : i64]} : (memref<4x6xf16>) -> memref<6x4xf16, strided<[1, 6]>>
// CHECK-NEXT:    %[[VO:.*]] = "loop.view"(%{{.*}}) {shape = [6 : i64], strides = [1 : i64]} : (memref<1x6xf16>) -> memref<6xf16>
// CHECK-NEXT:    %[[Z:.*]] = "loop.constant"() {type = f32, value = -0.0 : f64} : () -> f32
// CHECK-NEXT:    %[[CNT:.*]] = "loop.constant"() {type = f32, value = 4.0 : f64} : () -> f32
// CHECK:           %[[S:.*]] = "loop.for"(%[[Z]]) ({
// CHECK:             %[[X:.*]] = "loop.load"(%[[V]], %{{.*}}, %{{.*}}) : (memref<6x4xf16, strided<[1, 6]>>, index, index) -> f16
// CHECK-NEXT:        %[[W:.*]] = "loop.scalar"(%[[X]]) {op = "lf.cast", to = f32} : (f16) -> f32
// CHECK-NEXT:        "loop.fold"(%{{.*}}, %[[W]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK:           }) {lower = 0 : i64, step = 1 : i64, upper = 4 : i64} : (f32) -> f32
// CHECK-NEXT:      %[[D:.*]] = "loop.scalar"(%[[S]], %[[CNT]]) {op = "lf.div"} : (f32, f32) -> f32
// CHECK-NEXT:      %[[H:.*]] = "loop.scalar"(%[[D]]) {op = "lf.cast", to = f16} : (f32) -> f16
// CHECK-NEXT:      "loop.store"(%[[H]], %[[VO]], %{{.*}}) : (f16, memref<6xf16>, index) -> ()
func.func @mean_first_f16(%x: tensor<4x6xf16>) -> tensor<1x6xf16> {
  %0 = "lf.reduce_mean"(%x) {axes = [0], keepdims = true} : (tensor<4x6xf16>) -> tensor<1x6xf16>
  "func.return"(%0) : (tensor<1x6xf16>) -> ()
}

// -----

// An integer product starts from 1 and folds with "lf.mul" (wrapping, in order).
// CHECK-LABEL: func.func @prod_i32
// CHECK:         %[[ONE:.*]] = "loop.constant"() {type = i32, value = 1 : i64} : () -> i32
// CHECK:         "loop.for"(%[[ONE]])
// CHECK:           "loop.fold"(%{{.*}}, %{{.*}}) {op = "lf.mul"} : (i32, i32) -> i32
func.func @prod_i32(%x: tensor<3x5xi32>) -> tensor<3xi32> {
  %0 = "lf.reduce_prod"(%x) {axes = [-1], keepdims = false} : (tensor<3x5xi32>) -> tensor<3xi32>
  "func.return"(%0) : (tensor<3xi32>) -> ()
}

// -----

// An integer mean sums in 64 bits, divides (truncating) and narrows; any/all fold with
// "lf.or"/"lf.and" from false/true.
// CHECK-LABEL: func.func @mean_i32_any_all
// CHECK:         "loop.constant"() {type = i64, value = 0 : i64} : () -> i64
// CHECK-NEXT:    "loop.constant"() {type = i64, value = 5 : i64} : () -> i64
// CHECK:           "loop.scalar"(%{{.*}}) {op = "lf.cast", to = i64} : (i32) -> i64
// CHECK-NEXT:      "loop.fold"(%{{.*}}, %{{.*}}) {op = "lf.add"} : (i64, i64) -> i64
// CHECK:         "loop.scalar"(%{{.*}}, %{{.*}}) {op = "lf.div"} : (i64, i64) -> i64
// CHECK-NEXT:    "loop.scalar"(%{{.*}}) {op = "lf.cast", to = i32} : (i64) -> i32
// CHECK:         "loop.constant"() {type = i1, value = false} : () -> i1
// CHECK:           "loop.fold"(%{{.*}}, %{{.*}}) {op = "lf.or"} : (i1, i1) -> i1
// CHECK:         "loop.constant"() {type = i1, value = true} : () -> i1
// CHECK:           "loop.fold"(%{{.*}}, %{{.*}}) {op = "lf.and"} : (i1, i1) -> i1
func.func @mean_i32_any_all(%x: tensor<3x5xi32>, %b: tensor<3x5xi1>) -> (tensor<3xi32>, tensor<3xi1>, tensor<5xi1>) {
  %0 = "lf.reduce_mean"(%x) {axes = [1], keepdims = false} : (tensor<3x5xi32>) -> tensor<3xi32>
  %1 = "lf.reduce_any"(%b) {axes = [1], keepdims = false} : (tensor<3x5xi1>) -> tensor<3xi1>
  %2 = "lf.reduce_all"(%b) {axes = [0], keepdims = false} : (tensor<3x5xi1>) -> tensor<5xi1>
  "func.return"(%0, %1, %2) : (tensor<3xi32>, tensor<3xi1>, tensor<5xi1>) -> ()
}

// -----

// Over no elements: no fold loop, the identity (+0.0, not the fold's -0.0 start) divided by
// the count 0 for a float mean (NaN) is stored.
// CHECK-LABEL: func.func @empty_mean
// CHECK:         %[[Z:.*]] = "loop.constant"() {type = f32, value = 0.0 : f64} : () -> f32
// CHECK-NEXT:    %[[N:.*]] = "loop.constant"() {type = f32, value = 0.0 : f64} : () -> f32
// CHECK-NEXT:    "loop.for"() ({
// CHECK-NEXT:    ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:      %[[D:.*]] = "loop.scalar"(%[[Z]], %[[N]]) {op = "lf.div"} : (f32, f32) -> f32
// CHECK-NEXT:      "loop.store"(%[[D]], %{{.*}}, %[[I]])
func.func @empty_mean(%x: tensor<4x0xf32>) -> tensor<4xf32> {
  %0 = "lf.reduce_mean"(%x) {axes = [1], keepdims = false} : (tensor<4x0xf32>) -> tensor<4xf32>
  "func.return"(%0) : (tensor<4xf32>) -> ()
}

// -----

// Input fusion: exp(x) * v is computed in registers per element of the fold loop, every
// fusion operand loaded once per point (v through a stride-0 view); the product is never stored.
// CHECK-LABEL: func.func @reduce_fusion
// CHECK-NEXT:    "loop.kernel"(%arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%[[OUT:.*]]: memref<3xf32>, %[[X:.*]]: memref<3x5xf32>, %[[V:.*]]: memref<5xf32>):
// CHECK-NEXT:      %[[VV:.*]] = "loop.view"(%[[V]]) {shape = [3 : i64, 5 : i64], strides = [0 : i64, 1 : i64]}
// CHECK-NEXT:      %[[Z:.*]] = "loop.constant"() {type = f32, value = -0.0 : f64} : () -> f32
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:        %[[S:.*]] = "loop.for"(%[[Z]]) ({
// CHECK-NEXT:        ^bb0(%[[J:.*]]: index, %[[A:.*]]: f32):
// CHECK-NEXT:          %[[P:.*]] = "loop.load"(%[[X]], %[[I]], %[[J]])
// CHECK-NEXT:          %[[Q:.*]] = "loop.load"(%[[VV]], %[[I]], %[[J]])
// CHECK-NEXT:          %[[E:.*]] = "loop.scalar"(%[[P]]) {op = "lf.exp"} : (f32) -> f32
// CHECK-NEXT:          %[[M:.*]] = "loop.scalar"(%[[E]], %[[Q]]) {op = "lf.mul"} : (f32, f32) -> f32
// CHECK-NEXT:          %[[N:.*]] = "loop.fold"(%[[A]], %[[M]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:          "lf.yield"(%[[N]]) : (f32) -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 5 : i64, vector = true} : (f32) -> f32
// CHECK-NEXT:        "loop.store"(%[[S]], %[[OUT]], %[[I]]) : (f32, memref<3xf32>, index) -> ()
// CHECK-NOT:     lf.reduce_fusion
func.func @reduce_fusion(%x: tensor<3x5xf32>, %v: tensor<5xf32>) -> tensor<3xf32> {
  %e = "lf.exp"(%x) : (tensor<3x5xf32>) -> tensor<3x5xf32>
  %m = "lf.mul"(%e, %v) : (tensor<3x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>
  %s = "lf.reduce_sum"(%m) {axes = [1], keepdims = false} : (tensor<3x5xf32>) -> tensor<3xf32>
  "func.return"(%s) : (tensor<3xf32>) -> ()
}


// -----

// A sum over the leading axes (the innermost dim kept: a bias gradient): the output buffer
// is set to the -0.0 start, then every element is folded into its output element in the
// input's C order, the kept dim innermost and `vector` (load, fold, store; nothing carried),
// so a whole row vectorises; each output element still sees its elements in C order.
// (A kept innermost dim narrower than 16 keeps the per-element nest: the all of @mean_i32_any_all.)
// CHECK-LABEL: func.func @sum_leading
// CHECK-NEXT:    %[[K:.*]] = "loop.kernel"(%arg0) ({
// CHECK-NEXT:    ^bb0(%[[OUT:.*]]: memref<16xf32>, %[[IN:.*]]: memref<2x3x16xf32>):
// CHECK-NEXT:      %[[Z:.*]] = "loop.constant"() {type = f32, value = -0.0 : f64} : () -> f32
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[C:.*]]: index):
// CHECK-NEXT:        "loop.store"(%[[Z]], %[[OUT]], %[[C]]) : (f32, memref<16xf32>, index) -> ()
// CHECK-NEXT:        "lf.yield"() : () -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 16 : i64, vector = true} : () -> ()
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:        "loop.for"() ({
// CHECK-NEXT:        ^bb0(%[[J:.*]]: index):
// CHECK-NEXT:          "loop.for"() ({
// CHECK-NEXT:          ^bb0(%[[L:.*]]: index):
// CHECK-NEXT:            %[[A:.*]] = "loop.load"(%[[OUT]], %[[L]]) : (memref<16xf32>, index) -> f32
// CHECK-NEXT:            %[[X:.*]] = "loop.load"(%[[IN]], %[[I]], %[[J]], %[[L]]) : (memref<2x3x16xf32>, index, index, index) -> f32
// CHECK-NEXT:            %[[N:.*]] = "loop.fold"(%[[A]], %[[X]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:            "loop.store"(%[[N]], %[[OUT]], %[[L]]) : (f32, memref<16xf32>, index) -> ()
// CHECK-NEXT:            "lf.yield"() : () -> ()
// CHECK-NEXT:          }) {lower = 0 : i64, step = 1 : i64, upper = 16 : i64, vector = true} : () -> ()
// CHECK-NEXT:          "lf.yield"() : () -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 3 : i64} : () -> ()
// CHECK-NEXT:        "lf.yield"() : () -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 2 : i64} : () -> ()
// CHECK-NEXT:      "lf.yield"() : () -> ()
// CHECK-NEXT:    }) {lf.offset = [-1 : i64]} : (tensor<2x3x16xf32>) -> tensor<16xf32>
func.func @sum_leading(%x: tensor<2x3x16xf32>) -> tensor<16xf32> {
  %0 = "lf.reduce_sum"(%x) {axes = [0, 1], keepdims = false} : (tensor<2x3x16xf32>) -> tensor<16xf32>
  "func.return"(%0) : (tensor<16xf32>) -> ()
}

// -----

// A reduce fusion's mean over the first axis, kept: the fused element (x * v, v broadcast by
// a stride-0 view) computed in the row loop, folded into the output (its size-1 dim dropped
// by a view), then a last vector pass divides by the count.
// CHECK-LABEL: func.func @mean_leading_fusion
// CHECK:         %[[VV:.*]] = "loop.view"(%{{.*}}) {shape = [4 : i64, 16 : i64], strides = [0 : i64, 1 : i64]}
// CHECK-NEXT:    %[[VO:.*]] = "loop.view"(%{{.*}}) {shape = [16 : i64], strides = [1 : i64]} : (memref<1x16xf32>) -> memref<16xf32>
// CHECK-NEXT:    %[[Z:.*]] = "loop.constant"() {type = f32, value = -0.0 : f64} : () -> f32
// CHECK-NEXT:    %[[CNT:.*]] = "loop.constant"() {type = f32, value = 4.0 : f64} : () -> f32
// CHECK:           "loop.store"(%[[Z]], %[[VO]], %{{.*}})
// CHECK:             %[[A:.*]] = "loop.load"(%[[VO]], %[[J:.*]]) : (memref<16xf32>, index) -> f32
// CHECK-NEXT:        %[[P:.*]] = "loop.load"(%{{.*}}, %{{.*}}, %[[J]])
// CHECK-NEXT:        %[[Q:.*]] = "loop.load"(%[[VV]], %{{.*}}, %[[J]])
// CHECK-NEXT:        %[[M:.*]] = "loop.scalar"(%[[P]], %[[Q]]) {op = "lf.mul"} : (f32, f32) -> f32
// CHECK-NEXT:        %[[N:.*]] = "loop.fold"(%[[A]], %[[M]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:        "loop.store"(%[[N]], %[[VO]], %[[J]])
// CHECK:           }) {lower = 0 : i64, step = 1 : i64, upper = 16 : i64, vector = true} : () -> ()
// CHECK:           %[[S:.*]] = "loop.load"(%[[VO]], %[[K:.*]]) : (memref<16xf32>, index) -> f32
// CHECK-NEXT:      %[[D:.*]] = "loop.scalar"(%[[S]], %[[CNT]]) {op = "lf.div"} : (f32, f32) -> f32
// CHECK-NEXT:      "loop.store"(%[[D]], %[[VO]], %[[K]])
// CHECK-NEXT:      "lf.yield"() : () -> ()
// CHECK-NEXT:    }) {lower = 0 : i64, step = 1 : i64, upper = 16 : i64, vector = true} : () -> ()
// CHECK-NOT:     lf.reduce_fusion
func.func @mean_leading_fusion(%x: tensor<4x16xf32>, %v: tensor<16xf32>) -> tensor<1x16xf32> {
  %m = "lf.mul"(%x, %v) : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %s = "lf.reduce_mean"(%m) {axes = [0], keepdims = true} : (tensor<4x16xf32>) -> tensor<1x16xf32>
  "func.return"(%s) : (tensor<1x16xf32>) -> ()
}

// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | lowerflow-opt - --split-input-file | filecheck %s

// SparseSoftmaxCrossEntropyWithLogits, one row at a time: the label checked (a bad one fails
// the step), the max carried from -inf (lf.max: NaN propagates), the sum of exp(x - max)
// folded from -0.0, then log(sum) - (x[label] - max), the label kept in bounds by a select
// before it becomes an index.
// CHECK-LABEL: func.func @xent
// CHECK-NEXT:    %[[K:.*]] = "loop.kernel"(%arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%[[OUT:.*]]: memref<3xf32>, %[[X:.*]]: memref<3x5xf32>, %[[L:.*]]: memref<3xi32>):
// CHECK-NEXT:      %[[ZERO:.*]] = "loop.constant"() {type = i32, value = 0 : i64} : () -> i32
// CHECK-NEXT:      %[[N:.*]] = "loop.constant"() {type = i32, value = 5 : i64} : () -> i32
// CHECK-NEXT:      %[[NEG:.*]] = "loop.constant"() {type = f32, value = 0xFFF0000000000000 : f64} : () -> f32
// CHECK-NEXT:      %[[MZ:.*]] = "loop.constant"() {type = f32, value = -0.0 : f64} : () -> f32
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[R:.*]]: index):
// CHECK-NEXT:        %[[LAB:.*]] = "loop.load"(%[[L]], %[[R]]) : (memref<3xi32>, index) -> i32
// CHECK-NEXT:        %[[GE:.*]] = "loop.scalar"(%[[LAB]], %[[ZERO]]) {op = "lf.ge"} : (i32, i32) -> i1
// CHECK-NEXT:        %[[LT:.*]] = "loop.scalar"(%[[LAB]], %[[N]]) {op = "lf.lt"} : (i32, i32) -> i1
// CHECK-NEXT:        %[[OK:.*]] = "loop.scalar"(%[[GE]], %[[LT]]) {op = "lf.and"} : (i1, i1) -> i1
// CHECK-NEXT:        %[[BAD:.*]] = "loop.scalar"(%[[OK]]) {op = "lf.not"} : (i1) -> i1
// CHECK-NEXT:        "loop.check"(%[[BAD]]) {error = "label_range"} : (i1) -> ()
// CHECK-NEXT:        %[[PEAK:.*]] = "loop.for"(%[[NEG]]) ({
// CHECK-NEXT:        ^bb0(%[[J:.*]]: index, %[[A:.*]]: f32):
// CHECK-NEXT:          %[[V:.*]] = "loop.load"(%[[X]], %[[R]], %[[J]]) : (memref<3x5xf32>, index, index) -> f32
// CHECK-NEXT:          %[[M:.*]] = "loop.scalar"(%[[A]], %[[V]]) {op = "lf.max"} : (f32, f32) -> f32
// CHECK-NEXT:          "lf.yield"(%[[M]]) : (f32) -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 5 : i64, vector = true} : (f32) -> f32
// CHECK-NEXT:        %[[SUM:.*]] = "loop.for"(%[[MZ]]) ({
// CHECK-NEXT:        ^bb0(%[[J2:.*]]: index, %[[A2:.*]]: f32):
// CHECK-NEXT:          %[[V2:.*]] = "loop.load"(%[[X]], %[[R]], %[[J2]]) : (memref<3x5xf32>, index, index) -> f32
// CHECK-NEXT:          %[[D:.*]] = "loop.scalar"(%[[V2]], %[[PEAK]]) {op = "lf.sub"} : (f32, f32) -> f32
// CHECK-NEXT:          %[[E:.*]] = "loop.scalar"(%[[D]]) {op = "lf.exp"} : (f32) -> f32
// CHECK-NEXT:          %[[F:.*]] = "loop.fold"(%[[A2]], %[[E]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:          "lf.yield"(%[[F]]) : (f32) -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 5 : i64, vector = true} : (f32) -> f32
// CHECK-NEXT:        %[[SAFE:.*]] = "loop.scalar"(%[[OK]], %[[LAB]], %[[ZERO]]) {op = "lf.select"} : (i1, i32, i32) -> i32
// CHECK-NEXT:        %[[AT:.*]] = "loop.to_index"(%[[SAFE]]) : (i32) -> index
// CHECK-NEXT:        %[[P:.*]] = "loop.load"(%[[X]], %[[R]], %[[AT]]) : (memref<3x5xf32>, index, index) -> f32
// CHECK-NEXT:        %[[PS:.*]] = "loop.scalar"(%[[P]], %[[PEAK]]) {op = "lf.sub"} : (f32, f32) -> f32
// CHECK-NEXT:        %[[LOG:.*]] = "loop.scalar"(%[[SUM]]) {op = "lf.log"} : (f32) -> f32
// CHECK-NEXT:        %[[LOSS:.*]] = "loop.scalar"(%[[LOG]], %[[PS]]) {op = "lf.sub"} : (f32, f32) -> f32
// CHECK-NEXT:        "loop.store"(%[[LOSS]], %[[OUT]], %[[R]]) : (f32, memref<3xf32>, index) -> ()
// CHECK-NEXT:        "lf.yield"() : () -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 3 : i64} : () -> ()
func.func @xent(%x: tensor<3x5xf32>, %l: tensor<3xi32>) -> tensor<3xf32> {
  %0 = "lf.sparse_softmax_xent"(%x, %l) : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<3xf32>
  "func.return"(%0) : (tensor<3xf32>) -> ()
}

// -----

// float16 logits fold in float32: each element cast up, the loss cast back.
// CHECK-LABEL: func.func @xent_f16
// CHECK:           %[[V:.*]] = "loop.load"(%{{.*}}) : (memref<2x4xf16>, index, index) -> f16
// CHECK-NEXT:      %{{.*}} = "loop.scalar"(%[[V]]) {op = "lf.cast", to = f32} : (f16) -> f32
// CHECK:         %[[LOSS:.*]] = "loop.scalar"(%{{.*}}) {op = "lf.cast", to = f16} : (f32) -> f16
// CHECK-NEXT:    "loop.store"(%[[LOSS]], %{{.*}}) : (f16, memref<2xf16>, index) -> ()
func.func @xent_f16(%x: tensor<2x4xf16>, %l: tensor<2xi64>) -> tensor<2xf16> {
  %0 = "lf.sparse_softmax_xent"(%x, %l) : (tensor<2x4xf16>, tensor<2xi64>) -> tensor<2xf16>
  "func.return"(%0) : (tensor<2xf16>) -> ()
}

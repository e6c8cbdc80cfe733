// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | lowerflow-opt - --split-input-file | filecheck %s

// Softmax's row fusion: a parallel loop over the rows; in it a scratch row (loop.alloc) for
// exp(x - max), then one vector loop per phase: the max folded from -inf, exp(x - max)
// stored to the scratch row and summed from -0.0, then the scratch row divided by the sum
// into the result row.
// CHECK-LABEL: func.func @softmax
// CHECK-NEXT:    %[[K:.*]] = "loop.kernel"(%arg0) ({
// CHECK-NEXT:    ^bb0(%[[OUT:.*]]: memref<4x8xf32>, %[[IN:.*]]: memref<4x8xf32>):
// CHECK-NEXT:      %[[NEG:.*]] = "loop.constant"() {type = f32, value = 0xFFF0000000000000 : f64} : () -> f32
// CHECK-NEXT:      %[[Z:.*]] = "loop.constant"() {type = f32, value = -0.0 : f64} : () -> f32
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[R:.*]]: index):
// CHECK-NEXT:        %[[S:.*]] = "loop.alloc"() {shape = [8 : i64], type = f32} : () -> memref<8xf32>
// CHECK-NEXT:        %[[M:.*]] = "loop.for"(%[[NEG]]) ({
// CHECK-NEXT:        ^bb0(%[[J:.*]]: index, %[[A:.*]]: f32):
// CHECK-NEXT:          %[[X:.*]] = "loop.load"(%[[IN]], %[[R]], %[[J]]) : (memref<4x8xf32>, index, index) -> f32
// CHECK-NEXT:          %[[F:.*]] = "loop.fold"(%[[A]], %[[X]]) {op = "lf.max"} : (f32, f32) -> f32
// CHECK-NEXT:          "lf.yield"(%[[F]]) : (f32) -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 8 : i64, vector = true} : (f32) -> f32
// CHECK-NEXT:        %[[SUM:.*]] = "loop.for"(%[[Z]]) ({
// CHECK-NEXT:        ^bb0(%[[J2:.*]]: index, %[[A2:.*]]: f32):
// CHECK-NEXT:          %[[X2:.*]] = "loop.load"(%[[IN]], %[[R]], %[[J2]]) : (memref<4x8xf32>, index, index) -> f32
// CHECK-NEXT:          %[[D:.*]] = "loop.scalar"(%[[X2]], %[[M]]) {op = "lf.sub"} : (f32, f32) -> f32
// CHECK-NEXT:          %[[E:.*]] = "loop.scalar"(%[[D]]) {op = "lf.exp"} : (f32) -> f32
// CHECK-NEXT:          "loop.store"(%[[E]], %[[S]], %[[J2]]) : (f32, memref<8xf32>, index) -> ()
// CHECK-NEXT:          %[[F2:.*]] = "loop.fold"(%[[A2]], %[[E]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:          "lf.yield"(%[[F2]]) : (f32) -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 8 : i64, vector = true} : (f32) -> f32
// CHECK-NEXT:        "loop.for"() ({
// CHECK-NEXT:        ^bb0(%[[J3:.*]]: index):
// CHECK-NEXT:          %[[E3:.*]] = "loop.load"(%[[S]], %[[J3]]) : (memref<8xf32>, index) -> f32
// CHECK-NEXT:          %[[Y:.*]] = "loop.scalar"(%[[E3]], %[[SUM]]) {op = "lf.div"} : (f32, f32) -> f32
// CHECK-NEXT:          "loop.store"(%[[Y]], %[[OUT]], %[[R]], %[[J3]]) : (f32, memref<4x8xf32>, index, index) -> ()
// CHECK-NEXT:          "lf.yield"() : () -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 8 : i64, vector = true} : () -> ()
// CHECK-NEXT:        "lf.yield"() : () -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, parallel = true, step = 1 : i64, upper = 4 : i64} : () -> ()
// CHECK-NEXT:      "lf.yield"() : () -> ()
// CHECK-NEXT:    }) {lf.offset = [-1 : i64]} : (tensor<4x8xf32>) -> tensor<4x8xf32>
func.func @softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = "lf.row_fusion"(%x) ({
  ^bb0(%a: tensor<4x8xf32>):
    %1 = "lf.reduce_max"(%a) {axes = [-1 : i64], keepdims = true} : (tensor<4x8xf32>) -> tensor<4x1xf32>
    %2 = "lf.sub"(%a, %1) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
    %3 = "lf.exp"(%2) : (tensor<4x8xf32>) -> tensor<4x8xf32>
    %4 = "lf.reduce_sum"(%3) {axes = [-1 : i64], keepdims = true} : (tensor<4x8xf32>) -> tensor<4x1xf32>
    %5 = "lf.div"(%3, %4) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
    "lf.yield"(%5) : (tensor<4x8xf32>) -> ()
  }) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  "func.return"(%0) : (tensor<4x8xf32>) -> ()
}

// -----

// A biased log-softmax over [2, 3, 8] that also returns the row sums: the rows are the 6
// leading positions (views [6, 8], the bias with row stride 0, the sums as [6]); the logits
// and x - max each have a scratch row; the sum, a row scalar, is stored once per row.
// CHECK-LABEL: func.func @log_softmax_and_sum
// CHECK:         ^bb0(%[[SUMS:.*]]: memref<2x3x1xf32>, %[[OUT:.*]]: memref<2x3x8xf32>, %[[X:.*]]: memref<2x3x8xf32>, %[[B:.*]]: memref<8xf32>):
// CHECK-NEXT:      %[[XV:.*]] = "loop.view"(%[[X]]) {shape = [6 : i64, 8 : i64], strides = [8 : i64, 1 : i64]} : (memref<2x3x8xf32>) -> memref<6x8xf32>
// CHECK-NEXT:      %[[BV:.*]] = "loop.view"(%[[B]]) {shape = [6 : i64, 8 : i64], strides = [0 : i64, 1 : i64]} : (memref<8xf32>) -> memref<6x8xf32, strided<[0, 1]>>
// CHECK-NEXT:      %[[SV:.*]] = "loop.view"(%[[SUMS]]) {shape = [6 : i64], strides = [1 : i64]} : (memref<2x3x1xf32>) -> memref<6xf32>
// CHECK-NEXT:      %[[OV:.*]] = "loop.view"(%[[OUT]]) {shape = [6 : i64, 8 : i64], strides = [8 : i64, 1 : i64]} : (memref<2x3x8xf32>) -> memref<6x8xf32>
// CHECK:           ^bb0(%[[R:.*]]: index):
// CHECK-NEXT:        "loop.alloc"() {shape = [8 : i64], type = f32} : () -> memref<8xf32>
// CHECK-NEXT:        "loop.alloc"() {shape = [8 : i64], type = f32} : () -> memref<8xf32>
// CHECK:             "loop.load"(%[[BV]], %[[R]], %{{.*}}) : (memref<6x8xf32, strided<[0, 1]>>, index, index) -> f32
// CHECK:           %[[SUM:.*]] = "loop.for"
// CHECK:           %[[LOG:.*]] = "loop.scalar"(%[[SUM]]) {op = "lf.log"} : (f32) -> f32
// CHECK:             "loop.store"(%{{.*}}, %[[OV]], %[[R]], %{{.*}}) : (f32, memref<6x8xf32>, index, index) -> ()
// CHECK:           "loop.store"(%[[SUM]], %[[SV]], %[[R]]) : (f32, memref<6xf32>, index) -> ()
// CHECK-NEXT:      "lf.yield"() : () -> ()
// CHECK-NEXT:    }) {lower = 0 : i64, parallel = true, step = 1 : i64, upper = 6 : i64} : () -> ()
func.func @log_softmax_and_sum(%x: tensor<2x3x8xf32>, %b: tensor<8xf32>) -> (tensor<2x3x8xf32>, tensor<2x3x1xf32>) {
  %0:2 = "lf.row_fusion"(%x, %b) ({
  ^bb0(%a: tensor<2x3x8xf32>, %c: tensor<8xf32>):
    %1 = "lf.add"(%a, %c) : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
    %2 = "lf.reduce_max"(%1) {axes = [-1 : i64], keepdims = true} : (tensor<2x3x8xf32>) -> tensor<2x3x1xf32>
    %3 = "lf.sub"(%1, %2) : (tensor<2x3x8xf32>, tensor<2x3x1xf32>) -> tensor<2x3x8xf32>
    %4 = "lf.exp"(%3) : (tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
    %5 = "lf.reduce_sum"(%4) {axes = [-1 : i64], keepdims = true} : (tensor<2x3x8xf32>) -> tensor<2x3x1xf32>
    %6 = "lf.log"(%5) : (tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
    %7 = "lf.sub"(%3, %6) : (tensor<2x3x8xf32>, tensor<2x3x1xf32>) -> tensor<2x3x8xf32>
    "lf.yield"(%5, %7) : (tensor<2x3x1xf32>, tensor<2x3x8xf32>) -> ()
  }) : (tensor<2x3x8xf32>, tensor<8xf32>) -> (tensor<2x3x1xf32>, tensor<2x3x8xf32>)
  "func.return"(%0#1, %0#0) : (tensor<2x3x8xf32>, tensor<2x3x1xf32>) -> ()
}

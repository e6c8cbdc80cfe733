// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | lowerflow-opt - --split-input-file | filecheck %s

// A unary op over a whole tensor: one flat loop over a contiguous view of each buffer,
// both parallel and vector; the kernel keeps the op's buffer plan (its output slot).
// CHECK-LABEL: func.func @unary
// CHECK-NEXT:    %[[K:.*]] = "loop.kernel"(%arg0) ({
// CHECK-NEXT:    ^bb0(%[[OUT:.*]]: memref<4x8xf32>, %[[IN:.*]]: memref<4x8xf32>):
// CHECK-NEXT:      %[[VI:.*]] = "loop.view"(%[[IN]]) {shape = [32 : i64], strides = [1 : i64]} : (memref<4x8xf32>) -> memref<32xf32>
// CHECK-NEXT:      %[[VO:.*]] = "loop.view"(%[[OUT]]) {shape = [32 : i64], strides = [1 : i64]} : (memref<4x8xf32>) -> memref<32xf32>
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:        %[[X:.*]] = "loop.load"(%[[VI]], %[[I]]) : (memref<32xf32>, index) -> f32
// CHECK-NEXT:        %[[Y:.*]] = "loop.scalar"(%[[X]]) {op = "lf.exp"} : (f32) -> f32
// CHECK-NEXT:        "loop.store"(%[[Y]], %[[VO]], %[[I]]) : (f32, memref<32xf32>, index) -> ()
// CHECK-NEXT:        "lf.yield"() : () -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, parallel = true, step = 1 : i64, upper = 32 : i64, vector = true} : () -> ()
// CHECK-NEXT:      "lf.yield"() : () -> ()
// CHECK-NEXT:    }) {lf.offset = [-1 : i64]} : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT:    "func.return"(%[[K]])
func.func @unary(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = "lf.exp"(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  "func.return"(%0) : (tensor<4x8xf32>) -> ()
}

// -----

// Broadcasting: the row vector is read through a stride-0 view; two loops, the outer
// parallel, the inner vector; buffers already of the loop's shape are used as they are.
// CHECK-LABEL: func.func @binary_broadcast
// CHECK-NEXT:    "loop.kernel"(%arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%[[OUT:.*]]: memref<4x8xf32>, %[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<8xf32>):
// CHECK-NEXT:      %[[VB:.*]] = "loop.view"(%[[B]]) {shape = [4 : i64, 8 : i64], strides = [0 : i64, 1 : i64]} : (memref<8xf32>) -> memref<4x8xf32, strided<[0, 1]>>
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:        "loop.for"() ({
// CHECK-NEXT:        ^bb0(%[[J:.*]]: index):
// CHECK-NEXT:          %[[X:.*]] = "loop.load"(%[[A]], %[[I]], %[[J]])
// CHECK-NEXT:          %[[Y:.*]] = "loop.load"(%[[VB]], %[[I]], %[[J]]) : (memref<4x8xf32, strided<[0, 1]>>, index, index) -> f32
// CHECK-NEXT:          %[[S:.*]] = "loop.scalar"(%[[X]], %[[Y]]) {op = "lf.sub"} : (f32, f32) -> f32
// CHECK-NEXT:          "loop.store"(%[[S]], %[[OUT]], %[[I]], %[[J]])
// CHECK-NEXT:          "lf.yield"()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 8 : i64, vector = true}
// CHECK-NEXT:        "lf.yield"()
// CHECK-NEXT:      }) {lower = 0 : i64, parallel = true, step = 1 : i64, upper = 4 : i64}
func.func @binary_broadcast(%x: tensor<4x8xf32>, %y: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = "lf.sub"(%x, %y) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  "func.return"(%0) : (tensor<4x8xf32>) -> ()
}

// -----

// A scalar operand broadcasts along every dim: one loop, stride 0.
// CHECK-LABEL: func.func @scalar_operand
// CHECK:         "loop.view"(%{{.*}}) {shape = [6 : i64], strides = [0 : i64]} : (memref<i32>) -> memref<6xi32, strided<[0]>>
// CHECK:         "loop.scalar"(%{{.*}}, %{{.*}}) {op = "lf.mul"} : (i32, i32) -> i32
// CHECK:         {lower = 0 : i64, parallel = true, step = 1 : i64, upper = 6 : i64, vector = true}
func.func @scalar_operand(%x: tensor<2x3xi32>, %y: tensor<i32>) -> tensor<2x3xi32> {
  %0 = "lf.mul"(%x, %y) : (tensor<2x3xi32>, tensor<i32>) -> tensor<2x3xi32>
  "func.return"(%0) : (tensor<2x3xi32>) -> ()
}

// -----

// A cast keeps its attributes on the scalar op; the stores are of the new dtype.
// CHECK-LABEL: func.func @cast
// CHECK:         ^bb0(%[[OUT:.*]]: memref<5xi32>, %[[IN:.*]]: memref<5xf32>):
// CHECK:           %[[X:.*]] = "loop.load"(%[[IN]], %[[I:[a-z0-9]+]]) : (memref<5xf32>, index) -> f32
// CHECK-NEXT:      %[[Y:.*]] = "loop.scalar"(%[[X]]) {op = "lf.cast", to = i32} : (f32) -> i32
// CHECK-NEXT:      "loop.store"(%[[Y]], %[[OUT]], %[[I]]) : (i32, memref<5xi32>, index) -> ()
func.func @cast(%x: tensor<5xf32>) -> tensor<5xi32> {
  %0 = "lf.cast"(%x) {to = i32} : (tensor<5xf32>) -> tensor<5xi32>
  "func.return"(%0) : (tensor<5xi32>) -> ()
}

// -----

// Select with a condition that broadcasts over columns: a bool buffer (i1) viewed with
// strides [1, 0].
// CHECK-LABEL: func.func @select
// CHECK:         "loop.view"(%{{.*}}) {shape = [3 : i64, 4 : i64], strides = [1 : i64, 0 : i64]} : (memref<3x1xi1>) -> memref<3x4xi1, strided<[1, 0]>>
// CHECK:         "loop.scalar"(%{{.*}}, %{{.*}}, %{{.*}}) {op = "lf.select"} : (i1, f64, f64) -> f64
func.func @select(%c: tensor<3x1xi1>, %x: tensor<3x4xf64>, %y: tensor<3x4xf64>) -> tensor<3x4xf64> {
  %0 = "lf.select"(%c, %x, %y) : (tensor<3x1xi1>, tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3x4xf64>
  "func.return"(%0) : (tensor<3x4xf64>) -> ()
}

// -----

// A fusion: one loop nest, every operand loaded once per point, the body in registers,
// every yielded value stored (here two results, one of them a comparison).
// CHECK-LABEL: func.func @fusion
// CHECK-NEXT:    %[[K:.*]]:2 = "loop.kernel"(%arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%[[O0:.*]]: memref<2x3xf32>, %[[O1:.*]]: memref<2x3xi1>, %[[A:.*]]: memref<2x3xf32>, %[[B:.*]]: memref<3xf32>):
// CHECK:             %[[X:.*]] = "loop.load"(%[[A]], %[[I:[a-z0-9]+]], %[[J:[a-z0-9]+]])
// CHECK-NEXT:        %[[Y:.*]] = "loop.load"(%{{.*}}, %[[I]], %[[J]])
// CHECK-NEXT:        %[[S:.*]] = "loop.scalar"(%[[X]], %[[Y]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:        %[[T:.*]] = "loop.scalar"(%[[S]]) {op = "lf.tanh"} : (f32) -> f32
// CHECK-NEXT:        %[[G:.*]] = "loop.scalar"(%[[T]], %[[Y]]) {op = "lf.gt"} : (f32, f32) -> i1
// CHECK-NEXT:        "loop.store"(%[[T]], %[[O0]], %[[I]], %[[J]]) : (f32, memref<2x3xf32>, index, index) -> ()
// CHECK-NEXT:        "loop.store"(%[[G]], %[[O1]], %[[I]], %[[J]]) : (i1, memref<2x3xi1>, index, index) -> ()
// CHECK:         "func.return"(%[[K]]#0, %[[K]]#1)
func.func @fusion(%x: tensor<2x3xf32>, %y: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xi1>) {
  %0:2 = "lf.fusion"(%x, %y) ({
  ^bb0(%a: tensor<2x3xf32>, %b: tensor<3xf32>):
    %1 = "lf.add"(%a, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %2 = "lf.tanh"(%1) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %3 = "lf.gt"(%2, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
    "lf.yield"(%2, %3) : (tensor<2x3xf32>, tensor<2x3xi1>) -> ()
  }) : (tensor<2x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xi1>)
  "func.return"(%0#0, %0#1) : (tensor<2x3xf32>, tensor<2x3xi1>) -> ()
}

// -----

// Kernels keep their arena offsets; the temporary feeds the next kernel (a matmul's
// GEMM call, tests/ir/lower-to-loops-gemm.mlir) as a tensor.
// CHECK-LABEL: func.func @mixed
// CHECK-NEXT:    %[[K:.*]] = "loop.kernel"(%arg0) ({
// CHECK:         }) {lf.offset = [0 : i64]} : (tensor<4x4xf32>) -> tensor<4x4xf32>
// CHECK-NEXT:    %[[M:.*]] = "loop.kernel"(%[[K]], %arg0) ({
// CHECK:         }) {lf.offset = [-1 : i64]} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
// CHECK-NEXT:    "func.return"(%[[M]])
func.func @mixed(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = "lf.relu"(%x) : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %1 = "lf.matmul"(%0, %x) {transpose_a = false, transpose_b = false} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  "func.return"(%1) : (tensor<4x4xf32>) -> ()
}

// -----

// An empty iteration space: a kernel with no loops.
// CHECK-LABEL: func.func @empty
// CHECK-NEXT:    "loop.kernel"(%arg0) ({
// CHECK-NEXT:    ^bb0(%{{.*}}: memref<0x3xf32>, %{{.*}}: memref<0x3xf32>):
// CHECK-NEXT:      "lf.yield"() : () -> ()
// CHECK-NEXT:    })
func.func @empty(%x: tensor<0x3xf32>) -> tensor<0x3xf32> {
  %0 = "lf.neg"(%x) : (tensor<0x3xf32>) -> tensor<0x3xf32>
  "func.return"(%0) : (tensor<0x3xf32>) -> ()
}

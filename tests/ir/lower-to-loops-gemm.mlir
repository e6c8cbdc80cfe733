// RUN: lowerflow-opt %s -p fuse,plan-buffers,lower-to-loops --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p fuse,plan-buffers,lower-to-loops --split-input-file | lowerflow-opt - --split-input-file | filecheck %s

// The GEMM family at the loop level (ir/loop_lowering_gemm.py): calls of named micro-kernels
// (ir/ops/loop_micro.py), epilogues as loop IR. NCHW convolutions are NHWC ones between two
// transposes (the frontend), so they lower as these.

// A matmul is one call of the "gemm" micro-kernel (the packed, narrow or loop-nest GEMM the
// backend picks, threaded by its own tickets) on the result and operand buffers.
// CHECK-LABEL: func.func @matmul
// CHECK-NEXT:    %[[K:.*]] = "loop.kernel"(%arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%[[C:.*]]: memref<3x4xf32>, %[[A:.*]]: memref<3x5xf32>, %[[B:.*]]: memref<5x4xf32>):
// CHECK-NEXT:      "loop.call_kernel"(%[[C]], %[[A]], %[[B]]) {name = "gemm", transpose_a = false, transpose_b = false} : (memref<3x4xf32>, memref<3x5xf32>, memref<5x4xf32>) -> ()
// CHECK-NEXT:      "lf.yield"() : () -> ()
// CHECK-NEXT:    }) {lf.offset = [-1 : i64]} : (tensor<3x5xf32>, tensor<5x4xf32>) -> tensor<3x4xf32>
// CHECK-NEXT:    "func.return"(%[[K]])
// CHECK-NOT:     lf.matmul
func.func @matmul(%x: tensor<3x5xf32>, %w: tensor<5x4xf32>) -> tensor<3x4xf32> {
  %p = "lf.matmul"(%x, %w) {transpose_a = false, transpose_b = false} : (tensor<3x5xf32>, tensor<5x4xf32>) -> tensor<3x4xf32>
  "func.return"(%p) : (tensor<3x4xf32>) -> ()
}

// -----

// Transposed operands and a batch (B broadcast over it) are the call's attributes and buffer types.
// CHECK-LABEL: func.func @transposed_batch
// CHECK:           "loop.call_kernel"(%{{.*}}, %{{.*}}, %{{.*}}) {name = "gemm", transpose_a = true, transpose_b = true} : (memref<2x3x4xf32>, memref<2x5x3xf32>, memref<4x5xf32>) -> ()
// CHECK-NEXT:      "lf.yield"() : () -> ()
func.func @transposed_batch(%x: tensor<2x5x3xf32>, %w: tensor<4x5xf32>) -> tensor<2x3x4xf32> {
  %p = "lf.matmul"(%x, %w) {transpose_a = true, transpose_b = true} : (tensor<2x5x3xf32>, tensor<4x5xf32>) -> tensor<2x3x4xf32>
  "func.return"(%p) : (tensor<2x3x4xf32>) -> ()
}

// -----

// A matmul fusion of one matrix of 16 columns or more: one "loop.call_fused" of the GEMM,
// its region the bias + relu epilogue on one element of the product and one of the bias,
// applied by the kernel to each block of rows it computes, on that thread.
// CHECK-LABEL: func.func @dense_relu
// CHECK-NEXT:    "loop.kernel"(%arg0, %arg1, %arg2) ({
// CHECK-NEXT:    ^bb0(%[[C:.*]]: memref<3x16xf32>, %[[A:.*]]: memref<3x5xf32>, %[[B:.*]]: memref<5x16xf32>, %[[BIAS:.*]]: memref<16xf32>):
// CHECK-NEXT:      "loop.call_fused"(%[[C]], %[[A]], %[[B]], %[[BIAS]]) ({
// CHECK-NEXT:      ^bb0(%[[P:.*]]: f32, %[[Q:.*]]: f32):
// CHECK-NEXT:        %[[S:.*]] = "loop.scalar"(%[[P]], %[[Q]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:        %[[R:.*]] = "loop.scalar"(%[[S]]) {op = "lf.relu"} : (f32) -> f32
// CHECK-NEXT:        "lf.yield"(%[[R]]) : (f32) -> ()
// CHECK-NEXT:      }) {inputs = 2 : i64, name = "gemm", transpose_a = false, transpose_b = false}
// CHECK-NEXT:      "lf.yield"() : () -> ()
// CHECK-NOT:     lf.matmul_fusion
func.func @dense_relu(%x: tensor<3x5xf32>, %w: tensor<5x16xf32>, %b: tensor<16xf32>) -> tensor<3x16xf32> {
  %p = "lf.matmul"(%x, %w) {transpose_a = false, transpose_b = false} : (tensor<3x5xf32>, tensor<5x16xf32>) -> tensor<3x16xf32>
  %a = "lf.add"(%p, %b) : (tensor<3x16xf32>, tensor<16xf32>) -> tensor<3x16xf32>
  %r = "lf.relu"(%a) : (tensor<3x16xf32>) -> tensor<3x16xf32>
  "func.return"(%r) : (tensor<3x16xf32>) -> ()
}

// -----

// Two results, B transposed, rows narrower than 16: the GEMM call, then the nest; the
// product's buffer is the first result's; both are stored.
// CHECK-LABEL: func.func @two_results
// CHECK:         ^bb0(%[[R0:.*]]: memref<2x2xf32>, %[[R1:.*]]: memref<2x2xf32>, %{{.*}}: memref<2x3xf32>, %{{.*}}: memref<2x3xf32>, %{{.*}}: memref<2x2xf32>):
// CHECK-NEXT:      "loop.call_kernel"(%[[R0]], {{.*}}) {name = "gemm", transpose_a = false, transpose_b = true}
// CHECK:             %[[D:.*]] = "loop.scalar"(%{{.*}}, %{{.*}}) {op = "lf.sub"}
// CHECK-NEXT:        %[[T:.*]] = "loop.scalar"(%[[D]]) {op = "lf.tanh"}
// CHECK-NEXT:        "loop.store"(%[[D]],
// CHECK-NEXT:        "loop.store"(%[[T]],
func.func @two_results(%x: tensor<2x3xf32>, %w: tensor<2x3xf32>, %b: tensor<2x2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %p = "lf.matmul"(%x, %w) {transpose_a = false, transpose_b = true} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
  %a = "lf.sub"(%p, %b) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %t = "lf.tanh"(%a) : (tensor<2x2xf32>) -> tensor<2x2xf32>
  "func.return"(%t, %a) : (tensor<2x2xf32>, tensor<2x2xf32>) -> ()
}

// -----

// A batched matmul fusion: the GEMM call into the result buffer, then the epilogue as the
// elementwise nest over it (its outer loop may split across threads), reading the product
// in place and the bias through a stride-0 view.
// CHECK-LABEL: func.func @batched_bias
// CHECK:           "loop.call_kernel"(%{{.*}}, %{{.*}}, %{{.*}}) {name = "gemm", transpose_a = false, transpose_b = false}
// CHECK-NEXT:      %[[C:.*]] = "loop.view"(%{{.*}}) {shape = [6 : i64, 4 : i64], strides = [4 : i64, 1 : i64]}
// CHECK-NEXT:      %[[V:.*]] = "loop.view"(%{{.*}}) {shape = [6 : i64, 4 : i64], strides = [0 : i64, 1 : i64]}
// CHECK-NEXT:      %[[OUT:.*]] = "loop.view"(%{{.*}}) {shape = [6 : i64, 4 : i64], strides = [4 : i64, 1 : i64]}
// CHECK:             %[[P:.*]] = "loop.load"(%[[C]],
// CHECK-NEXT:        %[[Q:.*]] = "loop.load"(%[[V]],
// CHECK-NEXT:        %[[S:.*]] = "loop.scalar"(%[[P]], %[[Q]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:        "loop.store"(%[[S]], %[[OUT]],
// CHECK:           }) {lower = 0 : i64, parallel = true, step = 1 : i64, upper = 6 : i64} : () -> ()
// CHECK-NOT:     lf.matmul_fusion
func.func @batched_bias(%x: tensor<2x3x5xf32>, %w: tensor<5x4xf32>, %b: tensor<4xf32>) -> tensor<2x3x4xf32> {
  %p = "lf.matmul"(%x, %w) {transpose_a = false, transpose_b = false} : (tensor<2x3x5xf32>, tensor<5x4xf32>) -> tensor<2x3x4xf32>
  %a = "lf.add"(%p, %b) : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  "func.return"(%a) : (tensor<2x3x4xf32>) -> ()
}

// -----

// A convolution is one call of its implicit GEMM, with the op's geometry.
// CHECK-LABEL: func.func @conv
// CHECK:           "loop.call_kernel"(%{{.*}}, %{{.*}}, %{{.*}}) {dilations = [1 : i64, 1 : i64, 1 : i64, 1 : i64], explicit_paddings = [0 : i64, 0 : i64, 1 : i64, 1 : i64, 1 : i64, 1 : i64, 0 : i64, 0 : i64], name = "conv2d", strides = [1 : i64, 1 : i64, 1 : i64, 1 : i64]} : (memref<2x5x5x4xf32>, memref<2x5x5x3xf32>, memref<3x3x3x4xf32>) -> ()
// CHECK-NOT:     lf.conv2d
func.func @conv(%x: tensor<2x5x5x3xf32>, %w: tensor<3x3x3x4xf32>) -> tensor<2x5x5x4xf32> {
  %p = "lf.conv2d"(%x, %w) {strides = [1, 1, 1, 1], dilations = [1, 1, 1, 1], explicit_paddings = [0, 0, 1, 1, 1, 1, 0, 0]} : (tensor<2x5x5x3xf32>, tensor<3x3x3x4xf32>) -> tensor<2x5x5x4xf32>
  "func.return"(%p) : (tensor<2x5x5x4xf32>) -> ()
}

// -----

// A conv2d fusion: one "loop.call_fused", its region the epilogue on one element of the
// product and one of the bias, applied by the kernel to each block of rows it computes.
// CHECK-LABEL: func.func @conv_bias_relu
// CHECK:         ^bb0(%[[Y:.*]]: memref<2x5x5x4xf32>, %[[X:.*]]: memref<2x5x5x3xf32>, %[[F:.*]]: memref<3x3x3x4xf32>, %[[BIAS:.*]]: memref<4xf32>):
// CHECK-NEXT:      "loop.call_fused"(%[[Y]], %[[X]], %[[F]], %[[BIAS]]) ({
// CHECK-NEXT:      ^bb0(%[[P:.*]]: f32, %[[B:.*]]: f32):
// CHECK-NEXT:        %[[S:.*]] = "loop.scalar"(%[[P]], %[[B]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:        %[[R:.*]] = "loop.scalar"(%[[S]]) {op = "lf.relu"} : (f32) -> f32
// CHECK-NEXT:        "lf.yield"(%[[R]]) : (f32) -> ()
// CHECK-NEXT:      }) {{{.*}}inputs = 2 : i64, name = "conv2d"{{.*}}} : (memref<2x5x5x4xf32>, memref<2x5x5x3xf32>, memref<3x3x3x4xf32>, memref<4xf32>) -> ()
// CHECK-NEXT:      "lf.yield"() : () -> ()
// CHECK-NOT:     lf.conv2d_fusion
func.func @conv_bias_relu(%x: tensor<2x5x5x3xf32>, %w: tensor<3x3x3x4xf32>, %b: tensor<4xf32>) -> tensor<2x5x5x4xf32> {
  %p = "lf.conv2d"(%x, %w) {strides = [1, 1, 1, 1], dilations = [1, 1, 1, 1], explicit_paddings = [0, 0, 1, 1, 1, 1, 0, 0]} : (tensor<2x5x5x3xf32>, tensor<3x3x3x4xf32>) -> tensor<2x5x5x4xf32>
  %a = "lf.add"(%p, %b) : (tensor<2x5x5x4xf32>, tensor<4xf32>) -> tensor<2x5x5x4xf32>
  %r = "lf.relu"(%a) : (tensor<2x5x5x4xf32>) -> tensor<2x5x5x4xf32>
  "func.return"(%r) : (tensor<2x5x5x4xf32>) -> ()
}

// -----

// The gradients: the input gradient's call takes the forward input's buffer (for its
// shape), the filter gradient's carries filter_sizes.
// CHECK-LABEL: func.func @conv_grads
// CHECK:           "loop.call_kernel"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) {{{.*}}name = "conv2d_backprop_input", strides = [1 : i64, 2 : i64, 2 : i64, 1 : i64]} : (memref<2x6x6x3xf32>, memref<2x6x6x3xf32>, memref<3x3x3x4xf32>, memref<2x3x3x4xf32>) -> ()
// CHECK:           "loop.call_kernel"(%{{.*}}, %{{.*}}, %{{.*}}) {{{.*}}filter_sizes = [3 : i64, 3 : i64, 3 : i64, 4 : i64], name = "conv2d_backprop_filter"{{.*}}} : (memref<3x3x3x4xf32>, memref<2x6x6x3xf32>, memref<2x3x3x4xf32>) -> ()
// CHECK-NOT:     lf.conv2d_backprop
func.func @conv_grads(%x: tensor<2x6x6x3xf32>, %w: tensor<3x3x3x4xf32>, %dy: tensor<2x3x3x4xf32>) -> (tensor<2x6x6x3xf32>, tensor<3x3x3x4xf32>) {
  %dx = "lf.conv2d_backprop_input"(%x, %w, %dy) {strides = [1, 2, 2, 1], dilations = [1, 1, 1, 1], explicit_paddings = [0, 0, 0, 1, 0, 1, 0, 0]} : (tensor<2x6x6x3xf32>, tensor<3x3x3x4xf32>, tensor<2x3x3x4xf32>) -> tensor<2x6x6x3xf32>
  %df = "lf.conv2d_backprop_filter"(%x, %dy) {strides = [1, 2, 2, 1], dilations = [1, 1, 1, 1], explicit_paddings = [0, 0, 0, 1, 0, 1, 0, 0], filter_sizes = [3, 3, 3, 4]} : (tensor<2x6x6x3xf32>, tensor<2x3x3x4xf32>) -> tensor<3x3x3x4xf32>
  "func.return"(%dx, %df) : (tensor<2x6x6x3xf32>, tensor<3x3x3x4xf32>) -> ()
}

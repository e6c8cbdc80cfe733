// RUN: lowerflow-opt %s -p fuse --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p fuse --split-input-file | lowerflow-opt - --split-input-file | filecheck %s

// Grappler's _FusedConv2D: the bias add and relu become the convolution's epilogue, applied
// to each block of output rows as the kernel computes it; the product is no value of the
// function any more.
// CHECK-LABEL: func.func @conv_bias_relu
// CHECK-NEXT:    %[[F:.*]] = "lf.conv2d_fusion"(%arg0, %arg1, %arg2) ({
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<2x5x5x3xf32>, %[[W:.*]]: tensor<3x3x3x4xf32>, %[[B:.*]]: tensor<4xf32>):
// CHECK-NEXT:      %[[P:.*]] = "lf.conv2d"(%[[X]], %[[W]]) {dilations = [1 : i64, 1 : i64, 1 : i64, 1 : i64], explicit_paddings = [0 : i64, 0 : i64, 1 : i64, 1 : i64, 1 : i64, 1 : i64, 0 : i64, 0 : i64], strides = [1 : i64, 1 : i64, 1 : i64, 1 : i64]}
// CHECK-NEXT:      %[[A:.*]] = "lf.add"(%[[P]], %[[B]])
// CHECK-NEXT:      %[[R:.*]] = "lf.relu"(%[[A]])
// CHECK-NEXT:      "lf.yield"(%[[R]])
// CHECK-NEXT:    }) : (tensor<2x5x5x3xf32>, tensor<3x3x3x4xf32>, tensor<4xf32>) -> tensor<2x5x5x4xf32>
// CHECK-NEXT:    "func.return"(%[[F]])
func.func @conv_bias_relu(%x: tensor<2x5x5x3xf32>, %w: tensor<3x3x3x4xf32>, %b: tensor<4xf32>) -> tensor<2x5x5x4xf32> {
  %p = "lf.conv2d"(%x, %w) {strides = [1, 1, 1, 1], dilations = [1, 1, 1, 1], explicit_paddings = [0, 0, 1, 1, 1, 1, 0, 0]} : (tensor<2x5x5x3xf32>, tensor<3x3x3x4xf32>) -> tensor<2x5x5x4xf32>
  %a = "lf.add"(%p, %b) : (tensor<2x5x5x4xf32>, tensor<4xf32>) -> tensor<2x5x5x4xf32>
  %r = "lf.relu"(%a) : (tensor<2x5x5x4xf32>) -> tensor<2x5x5x4xf32>
  "func.return"(%r) : (tensor<2x5x5x4xf32>) -> ()
}

// -----

// Not fused: the convolution's result is also returned (a gradient reads it).
// CHECK-LABEL: func.func @conv_used_twice
// CHECK-NEXT:    %[[P:.*]] = "lf.conv2d"(%arg0, %arg1)
// CHECK-NEXT:    %[[R:.*]] = "lf.relu"(%[[P]])
// CHECK-NEXT:    "func.return"(%[[R]], %[[P]])
func.func @conv_used_twice(%x: tensor<1x4x4x2xf32>, %w: tensor<2x2x2x3xf32>) -> (tensor<1x3x3x3xf32>, tensor<1x3x3x3xf32>) {
  %p = "lf.conv2d"(%x, %w) {strides = [1, 1, 1, 1], dilations = [1, 1, 1, 1], explicit_paddings = [0, 0, 0, 0, 0, 0, 0, 0]} : (tensor<1x4x4x2xf32>, tensor<2x2x2x3xf32>) -> tensor<1x3x3x3xf32>
  %r = "lf.relu"(%p) : (tensor<1x3x3x3xf32>) -> tensor<1x3x3x3xf32>
  "func.return"(%r, %p) : (tensor<1x3x3x3xf32>, tensor<1x3x3x3xf32>) -> ()
}

// RUN: lowerflow-opt %s -p fuse --split-input-file | filecheck %s

// Epilogue fusion: bias add and relu are applied to the product in its output buffer,
// the product is no value of the function any more.
// CHECK-LABEL: func.func @dense_relu
// CHECK-NEXT:    %[[F:.*]] = "lf.matmul_fusion"(%arg0, %arg1, %arg2) ({
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<3x5xf32>, %[[W:.*]]: tensor<5x4xf32>, %[[B:.*]]: tensor<4xf32>):
// CHECK-NEXT:      %[[P:.*]] = "lf.matmul"(%[[X]], %[[W]])
// CHECK-NEXT:      %[[A:.*]] = "lf.add"(%[[P]], %[[B]])
// CHECK-NEXT:      %[[R:.*]] = "lf.relu"(%[[A]])
// CHECK-NEXT:      "lf.yield"(%[[R]])
// CHECK-NEXT:    }) : (tensor<3x5xf32>, tensor<5x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
// CHECK-NEXT:    "func.return"(%[[F]])
func.func @dense_relu(%x: tensor<3x5xf32>, %w: tensor<5x4xf32>, %b: tensor<4xf32>) -> tensor<3x4xf32> {
  %p = "lf.matmul"(%x, %w) {transpose_a = false, transpose_b = false} : (tensor<3x5xf32>, tensor<5x4xf32>) -> tensor<3x4xf32>
  %a = "lf.add"(%p, %b) : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %r = "lf.relu"(%a) : (tensor<3x4xf32>) -> tensor<3x4xf32>
  "func.return"(%r) : (tensor<3x4xf32>) -> ()
}

// -----

// Values of the epilogue used outside are yielded (all have the product's type).
// CHECK-LABEL: func.func @two_results
// CHECK-NEXT:    %[[F:.*]]:2 = "lf.matmul_fusion"(%arg0, %arg1, %arg2)
// CHECK:           "lf.yield"
// CHECK-NEXT:    }) : ({{.*}}) -> (tensor<2x2xf32>, tensor<2x2xf32>)
// CHECK-NEXT:    "func.return"(%[[F]]#1, %[[F]]#0)
func.func @two_results(%x: tensor<2x3xf32>, %w: tensor<2x3xf32>, %b: tensor<2x2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %p = "lf.matmul"(%x, %w) {transpose_a = false, transpose_b = true} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
  %a = "lf.sub"(%p, %b) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %t = "lf.tanh"(%a) : (tensor<2x2xf32>) -> tensor<2x2xf32>
  "func.return"(%t, %a) : (tensor<2x2xf32>, tensor<2x2xf32>) -> ()
}

// -----

// Not fused: the product is also returned, and a comparison changes the dtype.
// CHECK-LABEL: func.func @not_fused
// CHECK-NEXT:    %[[P:.*]] = "lf.matmul"(%arg0, %arg1)
// CHECK-NEXT:    %[[E:.*]] = "lf.exp"(%[[P]])
// CHECK-NEXT:    %[[Q:.*]] = "lf.matmul"(%arg0, %arg1)
// CHECK-NEXT:    %[[F:.*]] = "lf.fusion"(%[[Q]])
// CHECK:           "lf.lt"
// CHECK-NOT:     "lf.matmul_fusion"
// CHECK:         "func.return"(%[[E]], %[[P]], %[[F]])
func.func @not_fused(%x: tensor<2x3xf32>, %w: tensor<3x2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xi1>) {
  %p = "lf.matmul"(%x, %w) {transpose_a = false, transpose_b = false} : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  %e = "lf.exp"(%p) : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %q = "lf.matmul"(%x, %w) {transpose_a = false, transpose_b = false} : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  %n = "lf.neg"(%q) : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %c = "lf.lt"(%n, %q) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xi1>
  "func.return"(%e, %p, %c) : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xi1>) -> ()
}

// -----

// Two matmuls read by one epilogue: the first joins it, the second stays a plain matmul.
// CHECK-LABEL: func.func @two_products
// CHECK: "lf.matmul_fusion"
// CHECK: "lf.matmul"(
// CHECK-NOT: "lf.matmul_fusion"
func.func @two_products(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> (tensor<2x4xf32>) {
  %0 = "lf.matmul"(%a, %b) {transpose_a = false, transpose_b = false} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %1 = "lf.matmul"(%a, %c) {transpose_a = false, transpose_b = false} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %2 = "lf.add"(%0, %1) : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  "func.return"(%2) : (tensor<2x4xf32>) -> ()
}

// RUN: lowerflow-opt %s -p sum-products,cse,dce --split-input-file | filecheck %s

// A shared weight's gradient: three products A_t^T B_t summed, plus a term that is no
// product; the products become one over the rows stacked, the other term is added after.
// CHECK-LABEL: func.func @kernel_grad
// CHECK-DAG:     %[[A:.*]] = "lf.concat"(%arg0, %arg1, %arg2) {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<6x3xf32>
// CHECK-DAG:     %[[B:.*]] = "lf.concat"(%arg3, %arg4, %arg5) {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<6x4xf32>
// CHECK:         %[[M:.*]] = "lf.matmul"(%[[A]], %[[B]]) {transpose_a = true, transpose_b = false} : (tensor<6x3xf32>, tensor<6x4xf32>) -> tensor<3x4xf32>
// CHECK-NEXT:    %[[S:.*]] = "lf.add"(%[[M]], %arg6)
// CHECK-NEXT:    "func.return"(%[[S]])
func.func @kernel_grad(%a0: tensor<2x3xf32>, %a1: tensor<2x3xf32>, %a2: tensor<2x3xf32>, %b0: tensor<2x4xf32>, %b1: tensor<2x4xf32>, %b2: tensor<2x4xf32>, %c: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %m0 = "lf.matmul"(%a0, %b0) {transpose_a = true, transpose_b = false} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
  %m1 = "lf.matmul"(%a1, %b1) {transpose_a = true, transpose_b = false} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
  %m2 = "lf.matmul"(%a2, %b2) {transpose_a = true, transpose_b = false} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
  %s0 = "lf.add"(%m0, %m1) : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %s1 = "lf.add"(%c, %m2) : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %s2 = "lf.add"(%s0, %s1) : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  "func.return"(%s2) : (tensor<3x4xf32>) -> ()
}

// -----

// The bias's gradient: column sums of the same rows, as ones[1, K] @ rows stacked.
// CHECK-LABEL: func.func @bias_grad
// CHECK:         %[[R:.*]] = "lf.concat"(%arg0, %arg1) {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<4x4xf32>
// CHECK:         %[[O:.*]] = "lf.constant"() {value = dense<1.0> : tensor<1x4xf32>}
// CHECK:         %[[M:.*]] = "lf.matmul"(%[[O]], %[[R]]) {transpose_a = false, transpose_b = false} : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
// CHECK:         %[[S:.*]] = "lf.reshape"(%[[M]]) {shape = [4 : i64]} : (tensor<1x4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    "func.return"(%[[S]])
func.func @bias_grad(%b0: tensor<2x4xf32>, %b1: tensor<2x4xf32>) -> tensor<4xf32> {
  %r0 = "lf.reduce_sum"(%b0) {axes = [0 : i64], keepdims = false} : (tensor<2x4xf32>) -> tensor<4xf32>
  %r1 = "lf.reduce_sum"(%b1) {axes = [0 : i64], keepdims = false} : (tensor<2x4xf32>) -> tensor<4xf32>
  %s = "lf.add"(%r0, %r1) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  "func.return"(%s) : (tensor<4xf32>) -> ()
}

// -----

// Left alone: a product used twice, products of different transposes, an integer sum,
// and a sum that broadcasts.
// CHECK-LABEL: func.func @kept
// CHECK-NOT:     "lf.concat"
func.func @kept(%a: tensor<2x2xf32>, %i: tensor<2x2xi32>, %v: tensor<2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xi32>, tensor<2x2xf32>) {
  %m0 = "lf.matmul"(%a, %a) {transpose_a = false, transpose_b = false} : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %m1 = "lf.matmul"(%a, %a) {transpose_a = true, transpose_b = false} : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %s = "lf.add"(%m0, %m1) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %m2 = "lf.matmul"(%a, %a) {transpose_a = true, transpose_b = true} : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %t = "lf.add"(%m2, %m0) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %j0 = "lf.matmul"(%i, %i) {transpose_a = false, transpose_b = false} : (tensor<2x2xi32>, tensor<2x2xi32>) -> tensor<2x2xi32>
  %j1 = "lf.matmul"(%i, %i) {transpose_a = false, transpose_b = false} : (tensor<2x2xi32>, tensor<2x2xi32>) -> tensor<2x2xi32>
  %j = "lf.add"(%j0, %j1) : (tensor<2x2xi32>, tensor<2x2xi32>) -> tensor<2x2xi32>
  %n0 = "lf.reduce_sum"(%a) {axes = [0 : i64], keepdims = false} : (tensor<2x2xf32>) -> tensor<2xf32>
  %n1 = "lf.add"(%n0, %v) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %b = "lf.add"(%a, %n1) : (tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  "func.return"(%s, %t, %j, %b) : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xi32>, tensor<2x2xf32>) -> ()
}

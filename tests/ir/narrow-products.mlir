// RUN: lowerflow-opt %s -p narrow-products,cse,dce --split-input-file | filecheck %s

// An input gradient of concat([x, h]) @ w where only h's part is used: the product takes
// w's rows for h (one split of w, shared by both steps after cse).
// CHECK-LABEL: func.func @columns
// CHECK:         %[[W:.*]]:2 = "lf.split"(%arg2) {axis = 0 : i64, num_split = 2 : i64, size_splits = [2 : i64, 3 : i64]} : (tensor<5x4xf32>) -> (tensor<2x4xf32>, tensor<3x4xf32>)
// CHECK-NEXT:    %[[A:.*]] = "lf.matmul"(%arg0, %[[W]]#1) {transpose_a = false, transpose_b = true} : (tensor<6x4xf32>, tensor<3x4xf32>) -> tensor<6x3xf32>
// CHECK-NEXT:    %[[B:.*]] = "lf.matmul"(%arg1, %[[W]]#1) {transpose_a = false, transpose_b = true} : (tensor<6x4xf32>, tensor<3x4xf32>) -> tensor<6x3xf32>
// CHECK-NEXT:    "func.return"(%[[A]], %[[B]])
func.func @columns(%g0: tensor<6x4xf32>, %g1: tensor<6x4xf32>, %w: tensor<5x4xf32>) -> (tensor<6x3xf32>, tensor<6x3xf32>) {
  %m0 = "lf.matmul"(%g0, %w) {transpose_a = false, transpose_b = true} : (tensor<6x4xf32>, tensor<5x4xf32>) -> tensor<6x5xf32>
  %s0:2 = "lf.split"(%m0) {axis = 1 : i64, num_split = 2 : i64, size_splits = [2 : i64, 3 : i64]} : (tensor<6x5xf32>) -> (tensor<6x2xf32>, tensor<6x3xf32>)
  %m1 = "lf.matmul"(%g1, %w) {transpose_a = false, transpose_b = true} : (tensor<6x4xf32>, tensor<5x4xf32>) -> tensor<6x5xf32>
  %s1:2 = "lf.split"(%m1) {axis = -1 : i64, num_split = 2 : i64, size_splits = [2 : i64, 3 : i64]} : (tensor<6x5xf32>) -> (tensor<6x2xf32>, tensor<6x3xf32>)
  "func.return"(%s0#1, %s1#1) : (tensor<6x3xf32>, tensor<6x3xf32>) -> ()
}

// -----

// Rows come from A (here transposed: its columns); a split with both parts used stays.
// CHECK-LABEL: func.func @rows
// CHECK:         %[[P:.*]]:2 = "lf.split"(%arg0) {axis = 1 : i64, num_split = 2 : i64} : (tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>)
// CHECK-NEXT:    %[[M:.*]] = "lf.matmul"(%[[P]]#0, %arg1) {transpose_a = true, transpose_b = false} : (tensor<3x2xf32>, tensor<3x5xf32>) -> tensor<2x5xf32>
// CHECK:         %[[K:.*]] = "lf.matmul"(%arg0, %arg2)
// CHECK-NEXT:    "lf.split"(%[[K]])
func.func @rows(%a: tensor<3x4xf32>, %b: tensor<3x5xf32>, %c: tensor<3x5xf32>) -> (tensor<2x5xf32>, tensor<4x2xf32>, tensor<4x3xf32>) {
  %m = "lf.matmul"(%a, %b) {transpose_a = true, transpose_b = false} : (tensor<3x4xf32>, tensor<3x5xf32>) -> tensor<4x5xf32>
  %s:2 = "lf.split"(%m) {axis = 0 : i64, num_split = 2 : i64} : (tensor<4x5xf32>) -> (tensor<2x5xf32>, tensor<2x5xf32>)
  %k = "lf.matmul"(%a, %c) {transpose_a = true, transpose_b = false} : (tensor<3x4xf32>, tensor<3x5xf32>) -> tensor<4x5xf32>
  %t:2 = "lf.split"(%k) {axis = 1 : i64, num_split = 2 : i64, size_splits = [2 : i64, 3 : i64]} : (tensor<4x5xf32>) -> (tensor<4x2xf32>, tensor<4x3xf32>)
  "func.return"(%s#0, %t#0, %t#1) : (tensor<2x5xf32>, tensor<4x2xf32>, tensor<4x3xf32>) -> ()
}

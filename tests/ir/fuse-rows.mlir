// RUN: lowerflow-opt %s -p "fuse-rows{min-row=2}" --split-input-file | filecheck %s

// Softmax as tf.nn.softmax builds it: one row fusion; the max, the sum and the reciprocal
// are row scalars inside it, and only the result leaves it.
// CHECK-LABEL: func.func @softmax
// CHECK-NEXT:    %[[F:.*]] = "lf.row_fusion"(%arg0) ({
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<8x16xf32>):
// CHECK-NEXT:      %[[M:.*]] = "lf.reduce_max"(%[[X]])
// CHECK-NEXT:      %[[D:.*]] = "lf.sub"(%[[X]], %[[M]])
// CHECK-NEXT:      %[[E:.*]] = "lf.exp"(%[[D]])
// CHECK-NEXT:      %[[S:.*]] = "lf.reduce_sum"(%[[E]])
// CHECK-NEXT:      %[[R:.*]] = "lf.reciprocal"(%[[S]])
// CHECK-NEXT:      %[[Y:.*]] = "lf.mul"(%[[E]], %[[R]])
// CHECK-NEXT:      "lf.yield"(%[[Y]])
// CHECK-NEXT:    }) : (tensor<8x16xf32>) -> tensor<8x16xf32>
// CHECK-NEXT:    "func.return"(%[[F]])
func.func @softmax(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %m = "lf.reduce_max"(%x) {axes = [-1 : i64], keepdims = true} : (tensor<8x16xf32>) -> tensor<8x1xf32>
  %d = "lf.sub"(%x, %m) : (tensor<8x16xf32>, tensor<8x1xf32>) -> tensor<8x16xf32>
  %e = "lf.exp"(%d) : (tensor<8x16xf32>) -> tensor<8x16xf32>
  %s = "lf.reduce_sum"(%e) {axes = [-1 : i64], keepdims = true} : (tensor<8x16xf32>) -> tensor<8x1xf32>
  %r = "lf.reciprocal"(%s) : (tensor<8x1xf32>) -> tensor<8x1xf32>
  %y = "lf.mul"(%e, %r) : (tensor<8x16xf32>, tensor<8x1xf32>) -> tensor<8x16xf32>
  "func.return"(%y) : (tensor<8x16xf32>) -> ()
}

// -----

// A bias add before the softmax joins it (its (C,) operand is read per column); the
// logits, also returned, leave the fusion as a second result.
// CHECK-LABEL: func.func @biased_log_softmax
// CHECK-NEXT:    %[[F:.*]]:2 = "lf.row_fusion"(%arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%{{.*}}: tensor<4x3x10xf32>, %{{.*}}: tensor<10xf32>):
// CHECK-NEXT:      %[[L:.*]] = "lf.add"
// CHECK-NEXT:      "lf.reduce_max"
// CHECK-NEXT:      "lf.sub"
// CHECK-NEXT:      "lf.exp"
// CHECK-NEXT:      "lf.reduce_sum"
// CHECK-NEXT:      "lf.log"
// CHECK-NEXT:      %[[Y:.*]] = "lf.sub"
// CHECK-NEXT:      "lf.yield"(%[[L]], %[[Y]])
// CHECK-NEXT:    }) : (tensor<4x3x10xf32>, tensor<10xf32>) -> (tensor<4x3x10xf32>, tensor<4x3x10xf32>)
// CHECK-NEXT:    "func.return"(%[[F]]#1, %[[F]]#0)
func.func @biased_log_softmax(%x: tensor<4x3x10xf32>, %b: tensor<10xf32>) -> (tensor<4x3x10xf32>, tensor<4x3x10xf32>) {
  %l = "lf.add"(%x, %b) : (tensor<4x3x10xf32>, tensor<10xf32>) -> tensor<4x3x10xf32>
  %m = "lf.reduce_max"(%l) {axes = [2 : i64], keepdims = true} : (tensor<4x3x10xf32>) -> tensor<4x3x1xf32>
  %d = "lf.sub"(%l, %m) : (tensor<4x3x10xf32>, tensor<4x3x1xf32>) -> tensor<4x3x10xf32>
  %e = "lf.exp"(%d) : (tensor<4x3x10xf32>) -> tensor<4x3x10xf32>
  %s = "lf.reduce_sum"(%e) {axes = [-1 : i64], keepdims = true} : (tensor<4x3x10xf32>) -> tensor<4x3x1xf32>
  %g = "lf.log"(%s) : (tensor<4x3x1xf32>) -> tensor<4x3x1xf32>
  %y = "lf.sub"(%d, %g) : (tensor<4x3x10xf32>, tensor<4x3x1xf32>) -> tensor<4x3x10xf32>
  "func.return"(%y, %l) : (tensor<4x3x10xf32>, tensor<4x3x10xf32>) -> ()
}

// -----

// Not fused: no reduction result comes back to the row (fuse's reduce fusion serves).
// CHECK-LABEL: func.func @row_sums
// CHECK-NOT:     lf.row_fusion
// CHECK:         "lf.reduce_sum"
func.func @row_sums(%x: tensor<8x16xf32>) -> tensor<8x1xf32> {
  %e = "lf.exp"(%x) : (tensor<8x16xf32>) -> tensor<8x16xf32>
  %s = "lf.reduce_sum"(%e) {axes = [-1 : i64], keepdims = true} : (tensor<8x16xf32>) -> tensor<8x1xf32>
  "func.return"(%s) : (tensor<8x1xf32>) -> ()
}

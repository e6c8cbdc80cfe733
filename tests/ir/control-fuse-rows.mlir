// RUN: lowerflow-opt %s -p "fuse-rows{min-row=2}" | filecheck %s

// A softmax in a branch becomes a row fusion inside that branch.
// CHECK-LABEL: func.func @softmax_in_branch
// CHECK-NEXT:    %[[R:.*]] = "lf.if"(%arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<8x16xf32>):
// CHECK-NEXT:      %[[F:.*]] = "lf.row_fusion"(%[[X]]) ({
// CHECK:             "lf.reduce_max"
// CHECK:             "lf.reduce_sum"
// CHECK:           }) : (tensor<8x16xf32>) -> tensor<8x16xf32>
// CHECK-NEXT:      "lf.yield"(%[[F]])
// CHECK-NEXT:    }, {
func.func @softmax_in_branch(%p: tensor<i1>, %x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %out = "lf.if"(%p, %x) ({
  ^bb0(%a: tensor<8x16xf32>):
    %m = "lf.reduce_max"(%a) {axes = [-1 : i64], keepdims = true} : (tensor<8x16xf32>) -> tensor<8x1xf32>
    %d = "lf.sub"(%a, %m) : (tensor<8x16xf32>, tensor<8x1xf32>) -> tensor<8x16xf32>
    %e = "lf.exp"(%d) : (tensor<8x16xf32>) -> tensor<8x16xf32>
    %s = "lf.reduce_sum"(%e) {axes = [-1 : i64], keepdims = true} : (tensor<8x16xf32>) -> tensor<8x1xf32>
    %r = "lf.reciprocal"(%s) : (tensor<8x1xf32>) -> tensor<8x1xf32>
    %y = "lf.mul"(%e, %r) : (tensor<8x16xf32>, tensor<8x1xf32>) -> tensor<8x16xf32>
    "lf.yield"(%y) : (tensor<8x16xf32>) -> ()
  }, {
  ^bb0(%a: tensor<8x16xf32>):
    "lf.yield"(%a) : (tensor<8x16xf32>) -> ()
  }) : (tensor<i1>, tensor<8x16xf32>) -> tensor<8x16xf32>
  "func.return"(%out) : (tensor<8x16xf32>) -> ()
}

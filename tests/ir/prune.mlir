// RUN: lowerflow-opt %s -p prune | filecheck %s

// Only what the return needs survives; the signature (unused argument, names) stays.
// CHECK-LABEL: func.func @step
// CHECK-SAME:    (%arg0: tensor<4xf32> {lf.name = "x:0"}, %arg1: tensor<4xf32> {lf.name = "unused:0"})
// CHECK-SAME:    -> (tensor<4xf32> {lf.name = "y:0"})
// CHECK-NEXT:    %[[E:.*]] = "lf.exp"(%arg0)
// CHECK-NEXT:    %[[S:.*]] = "lf.sqrt"(%[[E]])
// CHECK-NEXT:    "func.return"(%[[S]])
// CHECK-NEXT:  }
func.func @step(%x: tensor<4xf32> {lf.name = "x:0"}, %unused: tensor<4xf32> {lf.name = "unused:0"})
    -> (tensor<4xf32> {lf.name = "y:0"}) {
  %e = "lf.exp"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %n = "lf.neg"(%unused) : (tensor<4xf32>) -> tensor<4xf32>
  %t = "lf.tanh"(%n) : (tensor<4xf32>) -> tensor<4xf32>
  %s = "lf.sqrt"(%e) : (tensor<4xf32>) -> tensor<4xf32>
  %side = "lf.add"(%s, %t) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  "func.return"(%s) : (tensor<4xf32>) -> ()
}

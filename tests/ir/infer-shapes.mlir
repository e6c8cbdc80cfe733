// RUN: lowerflow-opt %s -p infer-shapes --split-input-file | filecheck %s

// The arguments were `tensor<?x3xf32>` and were edited to concrete shapes: every result
// type, the fusion's block arguments and the function's result types follow.
// CHECK-LABEL: func.func @step(%arg0: tensor<2x3xf32>, %arg1: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xi1>)
// CHECK-NEXT:    %[[A:.*]] = "lf.add"(%arg0, %arg1) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %[[F:.*]] = "lf.fusion"(%[[A]]) ({
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<2x3xf32>):
// CHECK-NEXT:      %[[E:.*]] = "lf.exp"(%[[X]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:      "lf.yield"(%[[E]]) : (tensor<2x3xf32>) -> ()
// CHECK-NEXT:    }) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %[[L:.*]] = "lf.lt"(%[[F]], %arg1) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// CHECK-NEXT:    "func.return"(%[[F]], %[[L]]) : (tensor<2x3xf32>, tensor<2x3xi1>) -> ()
func.func @step(%x: tensor<2x3xf32>, %v: tensor<3xf32>) -> (tensor<?x3xf32>, tensor<?x3xi1>) {
  %a = "lf.add"(%x, %v) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %f = "lf.fusion"(%a) ({
  ^bb0(%y: tensor<?x3xf32>):
    %e = "lf.exp"(%y) : (tensor<?x3xf32>) -> tensor<?x3xf32>
    "lf.yield"(%e) : (tensor<?x3xf32>) -> ()
  }) : (tensor<?x3xf32>) -> tensor<?x3xf32>
  %l = "lf.lt"(%f, %v) : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xi1>
  "func.return"(%f, %l) : (tensor<?x3xf32>, tensor<?x3xi1>) -> ()
}

// -----

// Broadcasting against a known dim makes it known; a dim neither side knows stays `?`,
// and one already written is kept.
// CHECK-LABEL: func.func @partial
// CHECK-NEXT:    "lf.mul"(%arg0, %arg1) : (tensor<?x3xf32>, tensor<4x1xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    "lf.neg"(%arg0) : (tensor<?x3xf32>) -> tensor<?x3xf32>
// CHECK-NEXT:    "lf.abs"(%arg0) : (tensor<?x3xf32>) -> tensor<5x3xf32>
func.func @partial(%x: tensor<?x3xf32>, %c: tensor<4x1xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>, tensor<5x3xf32>) {
  %m = "lf.mul"(%x, %c) : (tensor<?x3xf32>, tensor<4x1xf32>) -> tensor<?x3xf32>
  %n = "lf.neg"(%x) : (tensor<?x3xf32>) -> tensor<?x3xf32>
  %a = "lf.abs"(%x) : (tensor<?x3xf32>) -> tensor<5x3xf32>
  "func.return"(%m, %n, %a) : (tensor<?x3xf32>, tensor<?x3xf32>, tensor<5x3xf32>) -> ()
}

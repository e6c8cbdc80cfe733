// RUN: lowerflow-opt %s -p dce --split-input-file | filecheck %s

// A dead chain goes in one run.
// CHECK-LABEL: func.func @chain
// CHECK-NEXT:    %[[A:.*]] = "lf.abs"(%arg0)
// CHECK-NEXT:    "func.return"(%[[A]])
func.func @chain(%x: tensor<2xf32>) -> tensor<2xf32> {
  %e = "lf.exp"(%x) : (tensor<2xf32>) -> tensor<2xf32>
  %t = "lf.tanh"(%e) : (tensor<2xf32>) -> tensor<2xf32>
  %a = "lf.abs"(%x) : (tensor<2xf32>) -> tensor<2xf32>
  %n = "lf.neg"(%t) : (tensor<2xf32>) -> tensor<2xf32>
  "func.return"(%a) : (tensor<2xf32>) -> ()
}

// -----

// A fusion keeps only its used result, the body ops feeding it, and the arguments they read.
// CHECK-LABEL: func.func @fusion
// CHECK-NEXT:    %[[F:.*]] = "lf.fusion"(%arg0) ({
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<4xf32>):
// CHECK-NEXT:      %[[E:.*]] = "lf.exp"(%[[X]])
// CHECK-NEXT:      %[[S:.*]] = "lf.add"(%[[E]], %[[E]])
// CHECK-NEXT:      "lf.yield"(%[[S]]) : (tensor<4xf32>) -> ()
// CHECK-NEXT:    }) : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    "func.return"(%[[F]])
func.func @fusion(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %f:3 = "lf.fusion"(%a, %b) ({
  ^bb0(%x: tensor<4xf32>, %y: tensor<4xf32>):
    %e = "lf.exp"(%x) : (tensor<4xf32>) -> tensor<4xf32>
    %n = "lf.neg"(%y) : (tensor<4xf32>) -> tensor<4xf32>
    %s = "lf.add"(%e, %e) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %dead = "lf.tanh"(%s) : (tensor<4xf32>) -> tensor<4xf32>
    "lf.yield"(%e, %n, %s) : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> ()
  }) : (tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  "func.return"(%f#2) : (tensor<4xf32>) -> ()
}

// -----

// A fusion nobody reads disappears.
// CHECK-LABEL: func.func @unused_fusion
// CHECK-NOT:     lf.fusion
// CHECK:         "func.return"(%arg0)
func.func @unused_fusion(%a: tensor<4xf32>) -> tensor<4xf32> {
  %f = "lf.fusion"(%a) ({
  ^bb0(%x: tensor<4xf32>):
    %e = "lf.exp"(%x) : (tensor<4xf32>) -> tensor<4xf32>
    "lf.yield"(%e) : (tensor<4xf32>) -> ()
  }) : (tensor<4xf32>) -> tensor<4xf32>
  "func.return"(%a) : (tensor<4xf32>) -> ()
}

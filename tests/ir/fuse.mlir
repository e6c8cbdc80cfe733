// RUN: lowerflow-opt %s -p fuse --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p "fuse{max-ops=2}" --split-input-file | filecheck %s --check-prefix=TWO

// A chain with a broadcast operand becomes one fusion; values used outside are yielded.
// CHECK-LABEL: func.func @chain
// CHECK-NEXT:    %[[F:.*]]:2 = "lf.fusion"(%arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<3x4xf32>, %[[V:.*]]: tensor<4xf32>):
// CHECK-NEXT:      %[[A:.*]] = "lf.add"(%[[X]], %[[V]])
// CHECK-NEXT:      %[[M:.*]] = "lf.mul"(%[[A]], %[[A]])
// CHECK-NEXT:      %[[E:.*]] = "lf.exp"(%[[M]])
// CHECK-NEXT:      "lf.yield"(%[[A]], %[[E]])
// CHECK-NEXT:    }) : (tensor<3x4xf32>, tensor<4xf32>) -> (tensor<3x4xf32>, tensor<3x4xf32>)
// CHECK-NEXT:    "func.return"(%[[F]]#1, %[[F]]#0)

// TWO-LABEL: func.func @chain
// TWO:         "lf.fusion"(%arg0, %arg1)
// TWO:           "lf.add"
// TWO-NEXT:      "lf.mul"
// TWO-NEXT:      "lf.yield"
// TWO:         "lf.exp"
func.func @chain(%x: tensor<3x4xf32>, %v: tensor<4xf32>) -> (tensor<3x4xf32>, tensor<3x4xf32>) {
  %a = "lf.add"(%x, %v) : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %m = "lf.mul"(%a, %a) : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %e = "lf.exp"(%m) : (tensor<3x4xf32>) -> tensor<3x4xf32>
  "func.return"(%e, %a) : (tensor<3x4xf32>, tensor<3x4xf32>) -> ()
}

// -----

// An op of another shape, and a constant, stay outside; a lone elementwise op is not wrapped.
// CHECK-LABEL: func.func @shapes
// CHECK-NEXT:    %[[T:.*]] = "lf.tanh"(%arg1)
// CHECK-NEXT:    %[[F:.*]] = "lf.fusion"(%arg0, %[[T]]) ({
// CHECK:           "lf.exp"
// CHECK-NEXT:      "lf.neg"
// CHECK-NEXT:      "lf.add"
// CHECK-NEXT:      "lf.yield"
// CHECK:         %[[C:.*]] = "lf.constant"
// CHECK-NEXT:    %[[S:.*]] = "lf.sub"(%[[C]], %arg1)
// CHECK-NEXT:    "func.return"(%[[F]], %[[S]])
func.func @shapes(%x: tensor<3x4xf32>, %v: tensor<4xf32>) -> (tensor<3x4xf32>, tensor<4xf32>) {
  %0 = "lf.exp"(%x) : (tensor<3x4xf32>) -> tensor<3x4xf32>
  %1 = "lf.neg"(%0) : (tensor<3x4xf32>) -> tensor<3x4xf32>
  %2 = "lf.tanh"(%v) : (tensor<4xf32>) -> tensor<4xf32>
  %3 = "lf.add"(%1, %2) : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %4 = "lf.constant"() {value = dense<1.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %5 = "lf.sub"(%4, %v) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  "func.return"(%3, %5) : (tensor<3x4xf32>, tensor<4xf32>) -> ()
}

// TWO-LABEL: func.func @shapes
// TWO:         "lf.fusion"
// TWO-NOT:     "lf.fusion"
// TWO:         "func.return"

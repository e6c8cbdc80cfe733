// RUN: lowerflow-opt %s -p infer-shapes --split-input-file | filecheck %s

// Known argument shapes flow into both regions (through the operands their arguments stand
// for) and out through the yields to the op's results and the function's.
// CHECK-LABEL: func.func @step(%arg0: tensor<i1>, %arg1: tensor<2x3xf32>) -> (tensor<2x3xf32>)
// CHECK-NEXT:    %[[R:.*]] = "lf.if"(%arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%[[A:.*]]: tensor<2x3xf32>):
// CHECK-NEXT:      %{{.*}} = "lf.exp"(%[[A]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK:         }, {
// CHECK-NEXT:    ^bb0(%[[B:.*]]: tensor<2x3xf32>):
// CHECK:         }) : (tensor<i1>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    "func.return"(%[[R]]) : (tensor<2x3xf32>) -> ()
func.func @step(%p: tensor<i1>, %x: tensor<2x3xf32>) -> tensor<?x3xf32> {
  %r = "lf.if"(%p, %x) ({
  ^bb0(%a: tensor<?x3xf32>):
    %e = "lf.exp"(%a) : (tensor<?x3xf32>) -> tensor<?x3xf32>
    "lf.yield"(%e) : (tensor<?x3xf32>) -> ()
  }, {
  ^bb0(%a: tensor<?x3xf32>):
    "lf.yield"(%a) : (tensor<?x3xf32>) -> ()
  }) : (tensor<i1>, tensor<2x3xf32>) -> tensor<?x3xf32>
  "func.return"(%r) : (tensor<?x3xf32>) -> ()
}

// -----

// A loop's carried values take their initial values' shapes, its results the body's.
// CHECK-LABEL: func.func @loop
// CHECK:         ^bb0(%{{.*}}: tensor<4xf32>, %{{.*}}: tensor<i1>):
// CHECK:         ^bb0(%[[X:.*]]: tensor<4xf32>, %{{.*}}: tensor<i1>):
// CHECK-NEXT:      %{{.*}} = "lf.neg"(%[[X]]) : (tensor<4xf32>) -> tensor<4xf32>
// CHECK:         }) : (tensor<4xf32>, tensor<i1>) -> tensor<4xf32>
func.func @loop(%x: tensor<4xf32>, %p: tensor<i1>) -> tensor<?xf32> {
  %r = "lf.while"(%x, %p) ({
  ^bb0(%a: tensor<?xf32>, %q: tensor<i1>):
    "lf.yield"(%q) : (tensor<i1>) -> ()
  }, {
  ^bb0(%a: tensor<?xf32>, %q: tensor<i1>):
    %n = "lf.neg"(%a) : (tensor<?xf32>) -> tensor<?xf32>
    "lf.yield"(%n) : (tensor<?xf32>) -> ()
  }) : (tensor<4xf32>, tensor<i1>) -> tensor<?xf32>
  "func.return"(%r) : (tensor<?xf32>) -> ()
}

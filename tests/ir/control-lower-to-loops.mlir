// RUN: lowerflow-opt %s -p lower-to-loops | filecheck %s

// Elementwise ops inside a loop body become loop kernels there; the loop stays a
// tensor-level op around them.
// CHECK-LABEL: func.func @step
// CHECK:         "lf.while"(%arg0, %arg1) ({
// CHECK:           "lf.yield"(%{{.*}}) : (tensor<i1>) -> ()
// CHECK-NEXT:    }, {
// CHECK-NEXT:    ^bb0(%[[A:.*]]: tensor<4xf32>, %{{.*}}: tensor<i1>):
// CHECK-NEXT:      %[[K:.*]] = "loop.kernel"(%[[A]]) ({
// CHECK-NEXT:      ^bb0(%[[OUT:.*]]: memref<4xf32>, %[[IN:.*]]: memref<4xf32>):
// CHECK-NEXT:        "loop.for"() ({
// CHECK:               "loop.scalar"(%{{.*}}) {op = "lf.exp"} : (f32) -> f32
// CHECK:           "lf.yield"(%[[K]]) : (tensor<4xf32>) -> ()
func.func @step(%x: tensor<4xf32>, %p: tensor<i1>) -> tensor<4xf32> {
  %w = "lf.while"(%x, %p) ({
  ^bb0(%a: tensor<4xf32>, %q: tensor<i1>):
    "lf.yield"(%q) : (tensor<i1>) -> ()
  }, {
  ^bb0(%a: tensor<4xf32>, %q: tensor<i1>):
    %e = "lf.exp"(%a) : (tensor<4xf32>) -> tensor<4xf32>
    "lf.yield"(%e) : (tensor<4xf32>) -> ()
  }) : (tensor<4xf32>, tensor<i1>) -> tensor<4xf32>
  "func.return"(%w) : (tensor<4xf32>) -> ()
}

// RUN: lowerflow-opt %s -p plan-buffers | filecheck %s

// A control op is planned as one kernel of the step: its results get buffers (here the
// loop's carried value is returned, so it lives in the output slot, and the if's result
// is a temporary); the ops inside regions are left to the backend, which plans each
// region where its op runs.
// CHECK-LABEL: func.func @step
// CHECK:         "lf.if"(%arg0, %arg1) ({
// CHECK:           "lf.neg"(%{{.*}}) : (tensor<16xf32>) -> tensor<16xf32>
// CHECK:         }) {lf.offset = [0 : i64]}
// CHECK:           "lf.exp"(%{{.*}}) : (tensor<16xf32>) -> tensor<16xf32>
// CHECK:         }) {lf.offset = [-1 : i64]}
// CHECK:         "func.return"(%{{.*}}) {lf.arena_size = 64 : i64}
func.func @step(%p: tensor<i1>, %x: tensor<16xf32>) -> tensor<16xf32> {
  %r = "lf.if"(%p, %x) ({
  ^bb0(%a: tensor<16xf32>):
    %n = "lf.neg"(%a) : (tensor<16xf32>) -> tensor<16xf32>
    "lf.yield"(%n) : (tensor<16xf32>) -> ()
  }, {
  ^bb0(%a: tensor<16xf32>):
    "lf.yield"(%a) : (tensor<16xf32>) -> ()
  }) : (tensor<i1>, tensor<16xf32>) -> tensor<16xf32>
  %w = "lf.while"(%r, %p) ({
  ^bb0(%a: tensor<16xf32>, %q: tensor<i1>):
    "lf.yield"(%q) : (tensor<i1>) -> ()
  }, {
  ^bb0(%a: tensor<16xf32>, %q: tensor<i1>):
    %e = "lf.exp"(%a) : (tensor<16xf32>) -> tensor<16xf32>
    "lf.yield"(%e) : (tensor<16xf32>) -> ()
  }) : (tensor<16xf32>, tensor<i1>) -> tensor<16xf32>
  "func.return"(%w) : (tensor<16xf32>) -> ()
}

// RUN: lowerflow-opt %s -p canonicalize,dce --split-input-file | filecheck %s

// Algebra is simplified inside branches and loop bodies as at the top level (x * 1 -> x,
// --x -> x), and the region yields the simplified values.
// CHECK-LABEL: func.func @inside
// CHECK:         "lf.while"(%arg0, %arg1) ({
// CHECK:         }, {
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<3xf32>, %{{.*}}: tensor<i1>):
// CHECK-NEXT:      %[[E:.*]] = "lf.exp"(%[[X]])
// CHECK-NEXT:      "lf.yield"(%[[E]])
// CHECK-NEXT:    })
func.func @inside(%x: tensor<3xf32>, %p: tensor<i1>) -> tensor<3xf32> {
  %r = "lf.while"(%x, %p) ({
  ^bb0(%a: tensor<3xf32>, %q: tensor<i1>):
    "lf.yield"(%q) : (tensor<i1>) -> ()
  }, {
  ^bb0(%a: tensor<3xf32>, %q: tensor<i1>):
    %one = "lf.constant"() {value = dense<1.0> : tensor<f32>} : () -> tensor<f32>
    %m = "lf.mul"(%a, %one) : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
    %n = "lf.neg"(%m) : (tensor<3xf32>) -> tensor<3xf32>
    %nn = "lf.neg"(%n) : (tensor<3xf32>) -> tensor<3xf32>
    %e = "lf.exp"(%nn) : (tensor<3xf32>) -> tensor<3xf32>
    "lf.yield"(%e) : (tensor<3xf32>) -> ()
  }) : (tensor<3xf32>, tensor<i1>) -> tensor<3xf32>
  "func.return"(%r) : (tensor<3xf32>) -> ()
}

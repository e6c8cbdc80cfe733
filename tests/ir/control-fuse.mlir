// RUN: lowerflow-opt %s -p fuse --split-input-file | filecheck %s

// Elementwise chains inside a branch and inside a loop body fuse there, as at the top
// level; the control op itself never joins a fusion, nor do ops across its boundary.
// CHECK-LABEL: func.func @inside
// CHECK-NEXT:    %[[E:.*]] = "lf.exp"(%arg1)
// CHECK-NEXT:    %[[R:.*]] = "lf.if"(%arg0, %[[E]]) ({
// CHECK-NEXT:    ^bb0(%[[A:.*]]: tensor<8xf32>):
// CHECK-NEXT:      %[[F:.*]] = "lf.fusion"(%[[A]]) ({
// CHECK-NEXT:      ^bb0(%[[X:.*]]: tensor<8xf32>):
// CHECK-NEXT:        %[[T:.*]] = "lf.tanh"(%[[X]])
// CHECK-NEXT:        %[[N:.*]] = "lf.neg"(%[[T]])
// CHECK-NEXT:        "lf.yield"(%[[N]])
// CHECK-NEXT:      })
// CHECK-NEXT:      "lf.yield"(%[[F]])
// CHECK-NEXT:    }, {
// CHECK:         "lf.while"(%[[R]], %arg0) ({
// CHECK:         }, {
// CHECK-NEXT:    ^bb0(%[[B:.*]]: tensor<8xf32>, %{{.*}}: tensor<i1>):
// CHECK-NEXT:      %[[G:.*]] = "lf.fusion"(%[[B]]) ({
// CHECK:             "lf.mul"
// CHECK-NEXT:        "lf.add"
// CHECK:           "lf.yield"(%[[G]])
// CHECK:         %[[S:.*]] = "lf.sqrt"
func.func @inside(%p: tensor<i1>, %x: tensor<8xf32>) -> tensor<8xf32> {
  %e = "lf.exp"(%x) : (tensor<8xf32>) -> tensor<8xf32>
  %r = "lf.if"(%p, %e) ({
  ^bb0(%a: tensor<8xf32>):
    %t = "lf.tanh"(%a) : (tensor<8xf32>) -> tensor<8xf32>
    %n = "lf.neg"(%t) : (tensor<8xf32>) -> tensor<8xf32>
    "lf.yield"(%n) : (tensor<8xf32>) -> ()
  }, {
  ^bb0(%a: tensor<8xf32>):
    "lf.yield"(%a) : (tensor<8xf32>) -> ()
  }) : (tensor<i1>, tensor<8xf32>) -> tensor<8xf32>
  %w = "lf.while"(%r, %p) ({
  ^bb0(%a: tensor<8xf32>, %q: tensor<i1>):
    "lf.yield"(%q) : (tensor<i1>) -> ()
  }, {
  ^bb0(%a: tensor<8xf32>, %q: tensor<i1>):
    %m = "lf.mul"(%a, %a) : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
    %s = "lf.add"(%m, %a) : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
    "lf.yield"(%s) : (tensor<8xf32>) -> ()
  }) : (tensor<8xf32>, tensor<i1>) -> tensor<8xf32>
  %q = "lf.sqrt"(%w) : (tensor<8xf32>) -> tensor<8xf32>
  "func.return"(%q) : (tensor<8xf32>) -> ()
}

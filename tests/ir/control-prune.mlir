// RUN: lowerflow-opt %s -p prune --split-input-file | filecheck %s

// Inside a region, as in a function, what does not reach the yield goes (random draws
// included); an op used only inside a region is kept outside (it is a capture).
// CHECK-LABEL: func.func @region
// CHECK-NEXT:    %[[E:.*]] = "lf.exp"(%arg1)
// CHECK-NEXT:    %[[R:.*]] = "lf.if"(%arg0, %[[E]]) ({
// CHECK-NEXT:    ^bb0(%[[A:.*]]: tensor<3xf32>):
// CHECK-NEXT:      "lf.yield"(%[[A]])
// CHECK-NEXT:    }, {
// CHECK-NEXT:    ^bb0(%[[B:.*]]: tensor<3xf32>):
// CHECK-NEXT:      %[[N:.*]] = "lf.neg"(%[[B]])
// CHECK-NEXT:      "lf.yield"(%[[N]])
// CHECK-NEXT:    })
// CHECK-NEXT:    "func.return"(%[[R]])
func.func @region(%p: tensor<i1>, %x: tensor<3xf32>) -> tensor<3xf32> {
  %e = "lf.exp"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %unused = "lf.tanh"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %r = "lf.if"(%p, %e) ({
  ^bb0(%a: tensor<3xf32>):
    %t = "lf.tanh"(%a) : (tensor<3xf32>) -> tensor<3xf32>
    "lf.yield"(%a) : (tensor<3xf32>) -> ()
  }, {
  ^bb0(%a: tensor<3xf32>):
    %n = "lf.neg"(%a) : (tensor<3xf32>) -> tensor<3xf32>
    "lf.yield"(%n) : (tensor<3xf32>) -> ()
  }) : (tensor<i1>, tensor<3xf32>) -> tensor<3xf32>
  "func.return"(%r) : (tensor<3xf32>) -> ()
}

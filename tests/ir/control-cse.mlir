// RUN: lowerflow-opt %s -p cse --split-input-file | filecheck %s

// Each region is its own scope: an op inside is never replaced by an equal op outside
// (the region reads its captures, not the outer values), nor by one in the other region.
// Equal ops inside one region merge; a value captured twice becomes one capture.
// CHECK-LABEL: func.func @scopes
// CHECK-NEXT:    %[[E:.*]] = "lf.exp"(%arg1)
// CHECK-NEXT:    %[[R:.*]] = "lf.if"(%arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%[[A:.*]]: tensor<3xf32>):
// CHECK-NEXT:      %[[X:.*]] = "lf.exp"(%[[A]])
// CHECK-NEXT:      %[[S:.*]] = "lf.add"(%[[X]], %[[X]])
// CHECK-NEXT:      "lf.yield"(%[[S]])
// CHECK-NEXT:    }, {
// CHECK-NEXT:    ^bb0(%[[B:.*]]: tensor<3xf32>):
// CHECK-NEXT:      %[[Y:.*]] = "lf.exp"(%[[B]])
// CHECK-NEXT:      "lf.yield"(%[[Y]])
// CHECK-NEXT:    }) : (tensor<i1>, tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[T:.*]] = "lf.add"(%[[E]], %[[R]])
func.func @scopes(%p: tensor<i1>, %x: tensor<3xf32>) -> tensor<3xf32> {
  %e = "lf.exp"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %r = "lf.if"(%p, %x, %x) ({
  ^bb0(%a: tensor<3xf32>, %b: tensor<3xf32>):
    %ea = "lf.exp"(%a) : (tensor<3xf32>) -> tensor<3xf32>
    %eb = "lf.exp"(%b) : (tensor<3xf32>) -> tensor<3xf32>
    %s = "lf.add"(%ea, %eb) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    "lf.yield"(%s) : (tensor<3xf32>) -> ()
  }, {
  ^bb0(%a: tensor<3xf32>, %b: tensor<3xf32>):
    %eb = "lf.exp"(%b) : (tensor<3xf32>) -> tensor<3xf32>
    "lf.yield"(%eb) : (tensor<3xf32>) -> ()
  }) : (tensor<i1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %t = "lf.add"(%e, %r) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  "func.return"(%t) : (tensor<3xf32>) -> ()
}

// -----

// Two carried values with the same initial value stay two (they differ from the first
// iteration on); only captures merge. Two equal loops are not merged (region ops never are).
// CHECK-LABEL: func.func @carried
// CHECK-NEXT:    %[[W:.*]]:2 = "lf.while"(%arg0, %arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%{{.*}}: tensor<f32>, %{{.*}}: tensor<f32>, %[[Q:.*]]: tensor<i1>):
// CHECK-NEXT:      "lf.yield"(%[[Q]])
// CHECK:         "lf.while"(%arg0, %arg0, %arg1)
func.func @carried(%a: tensor<f32>, %p: tensor<i1>) -> (tensor<f32>, tensor<f32>) {
  %r:2 = "lf.while"(%a, %a, %p, %p) ({
  ^bb0(%x: tensor<f32>, %y: tensor<f32>, %q: tensor<i1>, %q2: tensor<i1>):
    "lf.yield"(%q) : (tensor<i1>) -> ()
  }, {
  ^bb0(%x: tensor<f32>, %y: tensor<f32>, %q: tensor<i1>, %q2: tensor<i1>):
    %x1 = "lf.exp"(%x) : (tensor<f32>) -> tensor<f32>
    "lf.yield"(%x1, %y) : (tensor<f32>, tensor<f32>) -> ()
  }) : (tensor<f32>, tensor<f32>, tensor<i1>, tensor<i1>) -> (tensor<f32>, tensor<f32>)
  %s:2 = "lf.while"(%a, %a, %p, %p) ({
  ^bb0(%x: tensor<f32>, %y: tensor<f32>, %q: tensor<i1>, %q2: tensor<i1>):
    "lf.yield"(%q2) : (tensor<i1>) -> ()
  }, {
  ^bb0(%x: tensor<f32>, %y: tensor<f32>, %q: tensor<i1>, %q2: tensor<i1>):
    %x1 = "lf.exp"(%x) : (tensor<f32>) -> tensor<f32>
    "lf.yield"(%x1, %y) : (tensor<f32>, tensor<f32>) -> ()
  }) : (tensor<f32>, tensor<f32>, tensor<i1>, tensor<i1>) -> (tensor<f32>, tensor<f32>)
  "func.return"(%r#1, %s#0) : (tensor<f32>, tensor<f32>) -> ()
}

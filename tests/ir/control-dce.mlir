// RUN: lowerflow-opt %s -p dce --split-input-file | filecheck %s

// An lf.if keeps only its used results (both yields shrink), the ops inside that feed
// them, and the captures a region still reads.
// CHECK-LABEL: func.func @if_results
// CHECK-NEXT:    %[[R:.*]] = "lf.if"(%arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%[[A:.*]]: tensor<3xf32>):
// CHECK-NEXT:      %[[E:.*]] = "lf.exp"(%[[A]])
// CHECK-NEXT:      "lf.yield"(%[[E]]) : (tensor<3xf32>) -> ()
// CHECK-NEXT:    }, {
// CHECK-NEXT:    ^bb0(%[[B:.*]]: tensor<3xf32>):
// CHECK-NEXT:      "lf.yield"(%[[B]]) : (tensor<3xf32>) -> ()
// CHECK-NEXT:    }) : (tensor<i1>, tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    "func.return"(%[[R]])
func.func @if_results(%p: tensor<i1>, %x: tensor<3xf32>, %y: tensor<3xf32>) -> tensor<3xf32> {
  %r:2 = "lf.if"(%p, %x, %y) ({
  ^bb0(%a: tensor<3xf32>, %b: tensor<3xf32>):
    %e = "lf.exp"(%a) : (tensor<3xf32>) -> tensor<3xf32>
    %dead = "lf.tanh"(%e) : (tensor<3xf32>) -> tensor<3xf32>
    %n = "lf.neg"(%b) : (tensor<3xf32>) -> tensor<3xf32>
    "lf.yield"(%e, %n) : (tensor<3xf32>, tensor<3xf32>) -> ()
  }, {
  ^bb0(%a: tensor<3xf32>, %b: tensor<3xf32>):
    "lf.yield"(%a, %b) : (tensor<3xf32>, tensor<3xf32>) -> ()
  }) : (tensor<i1>, tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  "func.return"(%r#0) : (tensor<3xf32>) -> ()
}

// -----

// An lf.if nobody reads goes away, and so does what only it read.
// CHECK-LABEL: func.func @if_unused
// CHECK-NEXT:    "func.return"(%arg1)
func.func @if_unused(%p: tensor<i1>, %x: tensor<3xf32>) -> tensor<3xf32> {
  %e = "lf.exp"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %r = "lf.if"(%p, %e) ({
  ^bb0(%a: tensor<3xf32>):
    "lf.yield"(%a) : (tensor<3xf32>) -> ()
  }, {
  ^bb0(%a: tensor<3xf32>):
    "lf.yield"(%a) : (tensor<3xf32>) -> ()
  }) : (tensor<i1>, tensor<3xf32>) -> tensor<3xf32>
  "func.return"(%x) : (tensor<3xf32>) -> ()
}

// -----

// A carried value that only computes its own next value (a loop counter nobody reads) is
// dropped with its computation; one that cond reads stays; so does one whose next value
// feeds another's. The capture only the dropped value read goes too.
// CHECK-LABEL: func.func @carried
// CHECK-NEXT:    %[[W:.*]]:2 = "lf.while"(%arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%[[I:.*]]: tensor<i32>, %[[S:.*]]: tensor<f32>):
// CHECK-NEXT:      %[[C:.*]] = "lf.lt"(%[[I]], %[[I]])
// CHECK-NEXT:      "lf.yield"(%[[C]])
// CHECK-NEXT:    }, {
// CHECK-NEXT:    ^bb0(%[[J:.*]]: tensor<i32>, %[[T:.*]]: tensor<f32>):
// CHECK-NEXT:      %[[N:.*]] = "lf.add"(%[[J]], %[[J]])
// CHECK-NEXT:      %[[U:.*]] = "lf.mul"(%[[T]], %[[T]])
// CHECK-NEXT:      "lf.yield"(%[[N]], %[[U]]) : (tensor<i32>, tensor<f32>) -> ()
// CHECK-NEXT:    }) : (tensor<i32>, tensor<f32>) -> (tensor<i32>, tensor<f32>)
// CHECK-NEXT:    "func.return"(%[[W]]#1)
func.func @carried(%i0: tensor<i32>, %s0: tensor<f32>, %k: tensor<i32>) -> tensor<f32> {
  %r:3 = "lf.while"(%i0, %i0, %s0, %k) ({
  ^bb0(%c: tensor<i32>, %i: tensor<i32>, %s: tensor<f32>, %kk: tensor<i32>):
    %lt = "lf.lt"(%i, %i) : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "lf.yield"(%lt) : (tensor<i1>) -> ()
  }, {
  ^bb0(%c: tensor<i32>, %i: tensor<i32>, %s: tensor<f32>, %kk: tensor<i32>):
    %c1 = "lf.add"(%c, %kk) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %i1 = "lf.add"(%i, %i) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %s1 = "lf.mul"(%s, %s) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    "lf.yield"(%c1, %i1, %s1) : (tensor<i32>, tensor<i32>, tensor<f32>) -> ()
  }) : (tensor<i32>, tensor<i32>, tensor<f32>, tensor<i32>) -> (tensor<i32>, tensor<i32>, tensor<f32>)
  "func.return"(%r#2) : (tensor<f32>) -> ()
}

// -----

// A carried value whose next value another carried value reads is kept, unused or not.
// CHECK-LABEL: func.func @feeds_another
// CHECK:         "lf.yield"(%{{.*}}, %{{.*}}) : (tensor<f32>, tensor<f32>) -> ()
// CHECK-NEXT:    }) : (tensor<f32>, tensor<f32>, tensor<i1>) -> (tensor<f32>, tensor<f32>)
func.func @feeds_another(%a0: tensor<f32>, %p: tensor<i1>) -> tensor<f32> {
  %r:2 = "lf.while"(%a0, %a0, %p) ({
  ^bb0(%a: tensor<f32>, %b: tensor<f32>, %q: tensor<i1>):
    "lf.yield"(%q) : (tensor<i1>) -> ()
  }, {
  ^bb0(%a: tensor<f32>, %b: tensor<f32>, %q: tensor<i1>):
    %a1 = "lf.exp"(%a) : (tensor<f32>) -> tensor<f32>
    %b1 = "lf.add"(%b, %a) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    "lf.yield"(%a1, %b1) : (tensor<f32>, tensor<f32>) -> ()
  }) : (tensor<f32>, tensor<f32>, tensor<i1>) -> (tensor<f32>, tensor<f32>)
  "func.return"(%r#1) : (tensor<f32>) -> ()
}

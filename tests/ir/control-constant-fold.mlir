// RUN: lowerflow-opt %s -p constant-fold,dce --split-input-file | filecheck %s

// A constant true predicate: the then region takes the op's place, its arguments replaced by
// the captures; the constant it captured was sunk into it and folds there (2 * 2 = 4).
// CHECK-LABEL: func.func @taken_then
// CHECK-NEXT:    %[[C:.*]] = "lf.constant"() {value = dense<2.0> : tensor<f32>}
// CHECK-NEXT:    %[[M:.*]] = "lf.mul"(%arg0, %[[C]])
// CHECK-NEXT:    %[[F:.*]] = "lf.constant"() {value = dense<4.0> : tensor<f32>}
// CHECK-NEXT:    %[[N:.*]] = "lf.add"(%[[M]], %[[F]])
// CHECK-NEXT:    "func.return"(%[[N]])
func.func @taken_then(%x: tensor<3xf32>) -> tensor<3xf32> {
  %t = "lf.constant"() {value = dense<true> : tensor<i1>} : () -> tensor<i1>
  %c = "lf.constant"() {value = dense<2.0> : tensor<f32>} : () -> tensor<f32>
  %r = "lf.if"(%t, %x, %c) ({
  ^bb0(%a: tensor<3xf32>, %b: tensor<f32>):
    %m = "lf.mul"(%a, %b) : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
    %e = "lf.mul"(%b, %b) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %n = "lf.add"(%m, %e) : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
    "lf.yield"(%n) : (tensor<3xf32>) -> ()
  }, {
  ^bb0(%a: tensor<3xf32>, %b: tensor<f32>):
    "lf.yield"(%a) : (tensor<3xf32>) -> ()
  }) : (tensor<i1>, tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  "func.return"(%r) : (tensor<3xf32>) -> ()
}

// -----

// A constant false predicate takes the else region; one that yields its argument leaves
// nothing behind.
// CHECK-LABEL: func.func @taken_else
// CHECK-NEXT:    "func.return"(%arg0)
func.func @taken_else(%x: tensor<3xf32>) -> tensor<3xf32> {
  %f = "lf.constant"() {value = dense<false> : tensor<i1>} : () -> tensor<i1>
  %r = "lf.if"(%f, %x) ({
  ^bb0(%a: tensor<3xf32>):
    %n = "lf.neg"(%a) : (tensor<3xf32>) -> tensor<3xf32>
    "lf.yield"(%n) : (tensor<3xf32>) -> ()
  }, {
  ^bb0(%a: tensor<3xf32>):
    "lf.yield"(%a) : (tensor<3xf32>) -> ()
  }) : (tensor<i1>, tensor<3xf32>) -> tensor<3xf32>
  "func.return"(%r) : (tensor<3xf32>) -> ()
}

// -----

// A predicate that folds to a constant (1 < 2) selects the region in the same sweep.
// CHECK-LABEL: func.func @folded_predicate
// CHECK-NEXT:    %[[N:.*]] = "lf.neg"(%arg0)
// CHECK-NEXT:    "func.return"(%[[N]])
func.func @folded_predicate(%x: tensor<3xf32>) -> tensor<3xf32> {
  %one = "lf.constant"() {value = dense<1> : tensor<i32>} : () -> tensor<i32>
  %two = "lf.constant"() {value = dense<2> : tensor<i32>} : () -> tensor<i32>
  %p = "lf.lt"(%one, %two) : (tensor<i32>, tensor<i32>) -> tensor<i1>
  %r = "lf.if"(%p, %x) ({
  ^bb0(%a: tensor<3xf32>):
    %n = "lf.neg"(%a) : (tensor<3xf32>) -> tensor<3xf32>
    "lf.yield"(%n) : (tensor<3xf32>) -> ()
  }, {
  ^bb0(%a: tensor<3xf32>):
    "lf.yield"(%a) : (tensor<3xf32>) -> ()
  }) : (tensor<i1>, tensor<3xf32>) -> tensor<3xf32>
  "func.return"(%r) : (tensor<3xf32>) -> ()
}

// -----

// An unknown predicate keeps the op; constants inside each region fold there, and the
// captured constant is copied into both loop regions (no operand for it any more).
// CHECK-LABEL: func.func @inside
// CHECK:         "lf.while"(%arg0) ({
// CHECK-NEXT:    ^bb0(%[[I:.*]]: tensor<i32>):
// CHECK-NEXT:      %[[L:.*]] = "lf.constant"() {value = dense<10> : tensor<i32>}
// CHECK-NEXT:      %[[C:.*]] = "lf.lt"(%[[I]], %[[L]])
// CHECK-NEXT:      "lf.yield"(%[[C]])
// CHECK-NEXT:    }, {
// CHECK-NEXT:    ^bb0(%[[J:.*]]: tensor<i32>):
// CHECK-NEXT:      %[[S:.*]] = "lf.constant"() {value = dense<3> : tensor<i32>}
// CHECK-NEXT:      %[[N:.*]] = "lf.add"(%[[J]], %[[S]])
// CHECK-NEXT:      "lf.yield"(%[[N]])
// CHECK-NEXT:    }) : (tensor<i32>) -> tensor<i32>
func.func @inside(%x: tensor<i32>) -> tensor<i32> {
  %ten = "lf.constant"() {value = dense<10> : tensor<i32>} : () -> tensor<i32>
  %r = "lf.while"(%x, %ten) ({
  ^bb0(%i: tensor<i32>, %n: tensor<i32>):
    %c = "lf.lt"(%i, %n) : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "lf.yield"(%c) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %n: tensor<i32>):
    %one = "lf.constant"() {value = dense<1> : tensor<i32>} : () -> tensor<i32>
    %two = "lf.constant"() {value = dense<2> : tensor<i32>} : () -> tensor<i32>
    %s = "lf.add"(%one, %two) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %j = "lf.add"(%i, %s) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    "lf.yield"(%j) : (tensor<i32>) -> ()
  }) : (tensor<i32>, tensor<i32>) -> tensor<i32>
  "func.return"(%r) : (tensor<i32>) -> ()
}

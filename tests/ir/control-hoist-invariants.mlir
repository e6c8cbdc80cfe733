// RUN: lowerflow-opt %s -p hoist-invariants --split-input-file | filecheck %s

// A split and a transpose of a capture (a chain) move before the loop and become captures;
// the op reading a carried value, the constant and the integer counter's ops stay.
// CHECK-LABEL: func.func @chain
// CHECK-NEXT:    %[[S:.*]]:2 = "lf.split"(%arg1) {axis = 0 : i64, num_split = 2 : i64}
// CHECK-NEXT:    %[[T:.*]] = "lf.transpose"(%[[S]]#1)
// CHECK-NEXT:    %[[W:.*]]:2 = "lf.while"(%arg2, %arg0, %arg1, %[[S]]#0, %[[S]]#1, %[[T]]) ({
// CHECK-NEXT:    ^bb0(%{{.*}}: tensor<i32>, %{{.*}}: tensor<2x4xf32>, %{{.*}}: tensor<8x2xf32>, %{{.*}}: tensor<4x2xf32>, %{{.*}}: tensor<4x2xf32>, %{{.*}}: tensor<2x4xf32>):
// CHECK:         ^bb0(%[[I:.*]]: tensor<i32>, %[[A:.*]]: tensor<2x4xf32>, %{{.*}}: tensor<8x2xf32>, %{{.*}}: tensor<4x2xf32>, %{{.*}}: tensor<4x2xf32>, %[[BT:.*]]: tensor<2x4xf32>):
// CHECK-NEXT:      %[[ONE:.*]] = "lf.constant"()
// CHECK-NEXT:      %[[N:.*]] = "lf.sub"(%[[I]], %[[ONE]])
// CHECK-NEXT:      %[[M:.*]] = "lf.mul"(%[[A]], %[[BT]])
// CHECK-NEXT:      "lf.yield"(%[[N]], %[[M]])
// CHECK:         "func.return"(%[[W]]#1)
func.func @chain(%x: tensor<2x4xf32>, %k: tensor<8x2xf32>, %n: tensor<i32>) -> tensor<2x4xf32> {
  %r:2 = "lf.while"(%n, %x, %k) ({
  ^bb0(%i: tensor<i32>, %a: tensor<2x4xf32>, %kk: tensor<8x2xf32>):
    %z = "lf.constant"() {value = dense<0> : tensor<i32>} : () -> tensor<i32>
    %c = "lf.gt"(%i, %z) : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "lf.yield"(%c) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %a: tensor<2x4xf32>, %kk: tensor<8x2xf32>):
    %one = "lf.constant"() {value = dense<1> : tensor<i32>} : () -> tensor<i32>
    %next = "lf.sub"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %s:2 = "lf.split"(%kk) {axis = 0 : i64, num_split = 2 : i64} : (tensor<8x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>)
    %t = "lf.transpose"(%s#1) {perm = [1 : i64, 0 : i64]} : (tensor<4x2xf32>) -> tensor<2x4xf32>
    %m = "lf.mul"(%a, %t) : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
    "lf.yield"(%next, %m) : (tensor<i32>, tensor<2x4xf32>) -> ()
  }) : (tensor<i32>, tensor<2x4xf32>, tensor<8x2xf32>) -> (tensor<i32>, tensor<2x4xf32>)
  "func.return"(%r#1) : (tensor<2x4xf32>) -> ()
}

// -----

// An op reading an integer capture (a gather could fail on its index) stays in the body,
// even though its value does not change: a loop that runs no iteration must not fail.
// CHECK-LABEL: func.func @integer_operand
// CHECK-NEXT:    %[[W:.*]]:2 = "lf.while"(%arg2, %arg0, %arg1, %arg2) ({
// CHECK:           "lf.gather"
// CHECK:         "func.return"(%[[W]]#1)
func.func @integer_operand(%x: tensor<4xf32>, %t: tensor<3x4xf32>, %n: tensor<i32>) -> tensor<4xf32> {
  %r:2 = "lf.while"(%n, %x, %t, %n) ({
  ^bb0(%i: tensor<i32>, %a: tensor<4xf32>, %tt: tensor<3x4xf32>, %j: tensor<i32>):
    %z = "lf.constant"() {value = dense<0> : tensor<i32>} : () -> tensor<i32>
    %c = "lf.gt"(%i, %z) : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "lf.yield"(%c) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %a: tensor<4xf32>, %tt: tensor<3x4xf32>, %j: tensor<i32>):
    %one = "lf.constant"() {value = dense<1> : tensor<i32>} : () -> tensor<i32>
    %next = "lf.sub"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %row = "lf.gather"(%tt, %j) {axis = 0 : i64} : (tensor<3x4xf32>, tensor<i32>) -> tensor<4xf32>
    %m = "lf.add"(%a, %row) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    "lf.yield"(%next, %m) : (tensor<i32>, tensor<4xf32>) -> ()
  }) : (tensor<i32>, tensor<4xf32>, tensor<3x4xf32>, tensor<i32>) -> (tensor<i32>, tensor<4xf32>)
  "func.return"(%r#1) : (tensor<4xf32>) -> ()
}

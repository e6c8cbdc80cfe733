// RUN: lowerflow-opt %s -p "prune,constant-fold,cse,canonicalize,dce,fuse-rows{min-row=2},fuse,plan-buffers" | filecheck %s

// What tf.while_loop lowers to (TF's loop counter and maximum_iterations carried first, a
// constant captured) after the default pipeline: the counter and the limit are gone, the
// constant lives in the body, the body's elementwise chain is one fusion, and the loop's
// result is written in its output slot.
// CHECK-LABEL: func.func @loop
// CHECK-NEXT:    %[[Z:.*]] = "lf.constant"() {value = dense<0> : tensor<i32>}
// CHECK-NEXT:    %[[W:.*]]:2 = "lf.while"(%[[Z]], %arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%[[I:.*]]: tensor<i32>, %{{.*}}: tensor<4xf32>, %[[N:.*]]: tensor<i32>):
// CHECK-NEXT:      %[[C:.*]] = "lf.lt"(%[[I]], %[[N]])
// CHECK-NEXT:      "lf.yield"(%[[C]])
// CHECK-NEXT:    }, {
// CHECK-NEXT:    ^bb0(%[[J:.*]]: tensor<i32>, %[[A:.*]]: tensor<4xf32>, %{{.*}}: tensor<i32>):
// CHECK:           "lf.fusion"
// CHECK:             "lf.mul"
// CHECK-NEXT:        "lf.add"
// CHECK:         }) {lf.offset = [{{[0-9]+}} : i64, -1 : i64]}
// CHECK-NEXT:    "func.return"(%[[W]]#1)
func.func @loop(%x: tensor<4xf32>, %n: tensor<i32>) -> tensor<4xf32> {
  %zero = "lf.constant"() {value = dense<0> : tensor<i32>} : () -> tensor<i32>
  %limit = "lf.constant"() {value = dense<-1> : tensor<i32>} : () -> tensor<i32>
  %half = "lf.constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %r:4 = "lf.while"(%zero, %limit, %zero, %x, %n, %half) ({
  ^bb0(%c: tensor<i32>, %m: tensor<i32>, %i: tensor<i32>, %a: tensor<4xf32>, %nn: tensor<i32>, %h: tensor<f32>):
    %lt = "lf.lt"(%i, %nn) : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "lf.yield"(%lt) : (tensor<i1>) -> ()
  }, {
  ^bb0(%c: tensor<i32>, %m: tensor<i32>, %i: tensor<i32>, %a: tensor<4xf32>, %nn: tensor<i32>, %h: tensor<f32>):
    %one = "lf.constant"() {value = dense<1> : tensor<i32>} : () -> tensor<i32>
    %c1 = "lf.add"(%c, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %i1 = "lf.add"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %s = "lf.mul"(%a, %h) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
    %t = "lf.add"(%s, %a) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    "lf.yield"(%c1, %m, %i1, %t) : (tensor<i32>, tensor<i32>, tensor<i32>, tensor<4xf32>) -> ()
  }) : (tensor<i32>, tensor<i32>, tensor<i32>, tensor<4xf32>, tensor<i32>, tensor<f32>) -> (tensor<i32>, tensor<i32>, tensor<i32>, tensor<4xf32>)
  "func.return"(%r#3) : (tensor<4xf32>) -> ()
}

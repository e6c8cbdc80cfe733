// RUN: lowerflow-opt %s -p fuse --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p "fuse{max-ops=2}" --split-input-file | filecheck %s --check-prefix=TWO

// Input fusion: the elementwise chain feeding the reduction is computed inside its loop,
// the reduced tensor is no value of the function any more.
// CHECK-LABEL: func.func @input_chain
// CHECK-NEXT:    %[[F:.*]] = "lf.reduce_fusion"(%arg0, %arg1) ({
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<3x5xf32>, %[[V:.*]]: tensor<5xf32>):
// CHECK-NEXT:      %[[E:.*]] = "lf.exp"(%[[X]])
// CHECK-NEXT:      %[[M:.*]] = "lf.mul"(%[[E]], %[[V]])
// CHECK-NEXT:      %[[S:.*]] = "lf.reduce_sum"(%[[M]]) {axes = [1 : i64], keepdims = false}
// CHECK-NEXT:      "lf.yield"(%[[S]])
// CHECK-NEXT:    }) : (tensor<3x5xf32>, tensor<5xf32>) -> tensor<3xf32>
// CHECK-NEXT:    "func.return"(%[[F]])

// TWO-LABEL: func.func @input_chain
// TWO-NEXT:    "lf.fusion"
// TWO:         "lf.reduce_sum"
// TWO-NOT:     "lf.reduce_fusion"
func.func @input_chain(%x: tensor<3x5xf32>, %v: tensor<5xf32>) -> tensor<3xf32> {
  %e = "lf.exp"(%x) : (tensor<3x5xf32>) -> tensor<3x5xf32>
  %m = "lf.mul"(%e, %v) : (tensor<3x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>
  %s = "lf.reduce_sum"(%m) {axes = [1], keepdims = false} : (tensor<3x5xf32>) -> tensor<3xf32>
  "func.return"(%s) : (tensor<3xf32>) -> ()
}

// -----

// A lone elementwise producer fuses too (max-ops=2 allows it).
// CHECK-LABEL: func.func @lone_producer
// CHECK-NEXT:    "lf.reduce_fusion"(%arg0)
// CHECK:           "lf.square"
// CHECK-NEXT:      "lf.reduce_mean"
// CHECK-NEXT:      "lf.yield"

// TWO-LABEL: func.func @lone_producer
// TWO-NEXT:    "lf.reduce_fusion"(%arg0)
func.func @lone_producer(%x: tensor<4x6xf32>) -> tensor<1x6xf32> {
  %q = "lf.square"(%x) : (tensor<4x6xf32>) -> tensor<4x6xf32>
  %r = "lf.reduce_mean"(%q) {axes = [0], keepdims = true} : (tensor<4x6xf32>) -> tensor<1x6xf32>
  "func.return"(%r) : (tensor<1x6xf32>) -> ()
}

// -----

// Not fused: the producer's value is also returned, so it must be stored anyway; the
// elementwise group stays an lf.fusion and the reduction reads its result.
// CHECK-LABEL: func.func @shared_producer
// CHECK-NEXT:    %[[F:.*]] = "lf.fusion"(%arg0)
// CHECK:         "lf.yield"
// CHECK:         %[[R:.*]] = "lf.reduce_max"(%[[F]])
// CHECK-NOT:     "lf.reduce_fusion"
// CHECK:         "func.return"(%[[R]], %[[F]])
func.func @shared_producer(%x: tensor<3x5xf32>) -> (tensor<3xf32>, tensor<3x5xf32>) {
  %a = "lf.abs"(%x) : (tensor<3x5xf32>) -> tensor<3x5xf32>
  %n = "lf.neg"(%a) : (tensor<3x5xf32>) -> tensor<3x5xf32>
  %r = "lf.reduce_max"(%n) {axes = [1], keepdims = false} : (tensor<3x5xf32>) -> tensor<3xf32>
  "func.return"(%r, %n) : (tensor<3xf32>, tensor<3x5xf32>) -> ()
}

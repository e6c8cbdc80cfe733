// RUN: lowerflow-opt %s -p pretranspose --split-input-file | filecheck %s

// Two products reading %arg1 transposed share one transposed copy, made before the first;
// a product reading its B transposed alone keeps the flag.
// CHECK-LABEL: func.func @shared
// CHECK-NEXT:    %[[T:.*]] = "lf.transpose"(%arg1) {perm = [1 : i64, 0 : i64]} : (tensor<3x8xf32>) -> tensor<8x3xf32>
// CHECK-NEXT:    %[[P:.*]] = "lf.matmul"(%arg0, %[[T]]) {transpose_a = false, transpose_b = false}
// CHECK-NEXT:    %[[Q:.*]] = "lf.matmul"(%[[P]], %arg2) {transpose_a = false, transpose_b = true}
// CHECK-NEXT:    %[[R:.*]] = "lf.matmul"(%arg0, %[[T]]) {transpose_a = false, transpose_b = false}
func.func @shared(%a: tensor<2x8xf32>, %b: tensor<3x8xf32>, %c: tensor<4x3xf32>) -> (tensor<2x4xf32>, tensor<2x3xf32>) {
  %p = "lf.matmul"(%a, %b) {transpose_a = false, transpose_b = true} : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<2x3xf32>
  %q = "lf.matmul"(%p, %c) {transpose_a = false, transpose_b = true} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %r = "lf.matmul"(%a, %b) {transpose_a = false, transpose_b = true} : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<2x3xf32>
  "func.return"(%q, %r) : (tensor<2x4xf32>, tensor<2x3xf32>) -> ()
}

// -----

// In a loop body, a captured B read transposed is transposed at the body's start (for
// hoist-invariants to move out); one computed per iteration (a carried value) is not.
// CHECK-LABEL: func.func @loop
// CHECK:         }, {
// CHECK-NEXT:    ^bb0(%{{.*}}: tensor<i32>, %[[A:.*]]: tensor<2x8xf32>, %{{.*}}: tensor<2x2xf32>, %[[K:.*]]: tensor<3x8xf32>):
// CHECK-NEXT:      %[[T:.*]] = "lf.transpose"(%[[K]]) {perm = [1 : i64, 0 : i64]}
// CHECK-NEXT:      %{{.*}} = "lf.constant"()
// CHECK-NEXT:      %{{.*}} = "lf.sub"
// CHECK-NEXT:      %[[P:.*]] = "lf.matmul"(%[[A]], %[[T]]) {transpose_a = false, transpose_b = false}
// CHECK-NEXT:      %{{.*}} = "lf.matmul"(%[[P]], %[[P]]) {transpose_a = false, transpose_b = true}
func.func @loop(%x: tensor<2x8xf32>, %k: tensor<3x8xf32>, %n: tensor<i32>) -> tensor<2x2xf32> {
  %z2 = "lf.constant"() {value = dense<0.0> : tensor<2x2xf32>} : () -> tensor<2x2xf32>
  %r:3 = "lf.while"(%n, %x, %z2, %k) ({
  ^bb0(%i: tensor<i32>, %a: tensor<2x8xf32>, %s: tensor<2x2xf32>, %kk: tensor<3x8xf32>):
    %z = "lf.constant"() {value = dense<0> : tensor<i32>} : () -> tensor<i32>
    %c = "lf.gt"(%i, %z) : (tensor<i32>, tensor<i32>) -> tensor<i1>
    "lf.yield"(%c) : (tensor<i1>) -> ()
  }, {
  ^bb0(%i: tensor<i32>, %a: tensor<2x8xf32>, %s: tensor<2x2xf32>, %kk: tensor<3x8xf32>):
    %one = "lf.constant"() {value = dense<1> : tensor<i32>} : () -> tensor<i32>
    %next = "lf.sub"(%i, %one) : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %p = "lf.matmul"(%a, %kk) {transpose_a = false, transpose_b = true} : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<2x3xf32>
    %q = "lf.matmul"(%p, %p) {transpose_a = false, transpose_b = true} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
    "lf.yield"(%next, %a, %q) : (tensor<i32>, tensor<2x8xf32>, tensor<2x2xf32>) -> ()
  }) : (tensor<i32>, tensor<2x8xf32>, tensor<2x2xf32>, tensor<3x8xf32>) -> (tensor<i32>, tensor<2x8xf32>, tensor<2x2xf32>)
  "func.return"(%r#2) : (tensor<2x2xf32>) -> ()
}

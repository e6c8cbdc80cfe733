// RUN: lowerflow-opt %s -p "prune,constant-fold,cse,canonicalize,dce,fuse-rows{min-row=2},fuse,plan-buffers" | filecheck %s

// What `tf.reduce_sum(tf.boolean_mask(x, m), 0)` lowers to for x: [8, 4] (frontend/
// dynamic_lowering.py): the count pass, a gather of the bound's rows, and the sum over rows
// below the run-time count (padding = the identity). Everything is static, so the default
// pipeline plans it as any step: the two masks of rows below the count merge, the masked sum
// is one reduce fusion, and the count pass gets arena offsets like any kernel.
// CHECK-LABEL: func.func @step
// CHECK:         %[[P:.*]]:2 = "lf.mask_positions"(%arg1) {lf.offset = [0 : i64, 64 : i64]}
// CHECK:         "lf.fusion"(%{{.*}}, %[[P]]#1, %{{.*}}, %{{.*}})
// CHECK:           "lf.lt"
// CHECK:           "lf.select"
// CHECK:         "lf.gather"(%arg0, %{{.*}}#1)
// CHECK:         "lf.reduce_fusion"
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      "lf.select"
// CHECK-NEXT:      "lf.reduce_sum"({{.*}}) {axes = [0 : i64], keepdims = false}
// CHECK-NOT:     "lf.reduce_sum"
// CHECK:         "func.return"
func.func @step(%arg0: tensor<8x4xf32>, %arg1: tensor<8xi1>) -> (tensor<4xf32>) {
  %0:2 = "lf.mask_positions"(%arg1) : (tensor<8xi1>) -> (tensor<8xi64>, tensor<i64>)
  %1 = "lf.reshape"(%0#0) {shape = [8 : i64, 1 : i64]} : (tensor<8xi64>) -> tensor<8x1xi64>
  %2 = "lf.squeeze"(%1) {squeeze_dims = [1 : i64]} : (tensor<8x1xi64>) -> tensor<8xi64>
  %3 = "lf.range"() {delta = 1 : i64, dtype = i64, limit = 8 : i64, start = 0 : i64} : () -> tensor<8xi64>
  %4 = "lf.lt"(%3, %0#1) : (tensor<8xi64>, tensor<i64>) -> tensor<8xi1>
  %5 = "lf.constant"() {value = dense<0> : tensor<i64>} : () -> tensor<i64>
  %6 = "lf.select"(%4, %2, %5) : (tensor<8xi1>, tensor<8xi64>, tensor<i64>) -> tensor<8xi64>
  %7 = "lf.gather"(%arg0, %6) {axis = 0 : i64} : (tensor<8x4xf32>, tensor<8xi64>) -> tensor<8x4xf32>
  %8 = "lf.range"() {delta = 1 : i64, dtype = i64, limit = 8 : i64, start = 0 : i64} : () -> tensor<8xi64>
  %9 = "lf.lt"(%8, %0#1) : (tensor<8xi64>, tensor<i64>) -> tensor<8xi1>
  %10 = "lf.reshape"(%9) {shape = [8 : i64, 1 : i64]} : (tensor<8xi1>) -> tensor<8x1xi1>
  %11 = "lf.constant"() {value = dense<0.0> : tensor<f32>} : () -> tensor<f32>
  %12 = "lf.select"(%10, %7, %11) : (tensor<8x1xi1>, tensor<8x4xf32>, tensor<f32>) -> tensor<8x4xf32>
  %13 = "lf.reduce_sum"(%12) {axes = [0 : i64], keepdims = false} : (tensor<8x4xf32>) -> tensor<4xf32>
  "func.return"(%13) : (tensor<4xf32>) -> ()
}

// RUN: lowerflow-opt %s -p constant-fold,dce | filecheck %s
// RUN: lowerflow-opt %s -p "constant-fold{max-size=1},dce" | filecheck %s --check-prefix=SMALL

// A constant subgraph folds in one sweep; ops reading an argument stay.
// CHECK-LABEL: func.func @step
// CHECK-NEXT:    %[[C:.*]] = "lf.constant"() {value = dense<[3.0, 6.0]> : tensor<2xf32>}
// CHECK-NEXT:    %[[B:.*]] = "lf.constant"() {value = dense<[true, false]> : tensor<2xi1>}
// CHECK-NEXT:    %[[M:.*]] = "lf.add"(%[[C]], %arg0)
// CHECK-NEXT:    "func.return"(%[[C]], %[[B]], %[[M]])

// With max-size=1 only the scalar product folds.
// SMALL-LABEL: func.func @step
// SMALL:         "lf.constant"() {value = dense<3.0> : tensor<f32>}
// SMALL:         "lf.sqrt"
// SMALL:         "lf.mul"
func.func @step(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xi1>, tensor<2xf32>) {
  %a = "lf.constant"() {value = dense<[1.0, 4.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %one = "lf.constant"() {value = dense<1.5> : tensor<f32>} : () -> tensor<f32>
  %two = "lf.constant"() {value = dense<2.0> : tensor<f32>} : () -> tensor<f32>
  %three = "lf.mul"(%one, %two) : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %b = "lf.sqrt"(%a) : (tensor<2xf32>) -> tensor<2xf32>
  %c = "lf.mul"(%b, %three) : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
  %four = "lf.constant"() {value = dense<4.0> : tensor<f32>} : () -> tensor<f32>
  %less = "lf.lt"(%c, %four) : (tensor<2xf32>, tensor<f32>) -> tensor<2xi1>
  %m = "lf.add"(%c, %x) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  "func.return"(%c, %less, %m) : (tensor<2xf32>, tensor<2xi1>, tensor<2xf32>) -> ()
}

// RUN: lowerflow-opt %s -p cse --split-input-file | filecheck %s

// Repeated expressions merge, chains too; a commutative op matches its operands swapped.
// CHECK-LABEL: func.func @chain
// CHECK-NEXT:    %[[A:.*]] = "lf.add"(%arg0, %arg1)
// CHECK-NEXT:    %[[E:.*]] = "lf.exp"(%[[A]])
// CHECK-NEXT:    %[[M:.*]] = "lf.mul"(%[[E]], %[[E]])
// CHECK-NEXT:    "func.return"(%[[M]], %[[E]])
func.func @chain(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %a = "lf.add"(%x, %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %e = "lf.exp"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  %b = "lf.add"(%y, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %f = "lf.exp"(%b) : (tensor<4xf32>) -> tensor<4xf32>
  %m = "lf.mul"(%e, %f) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  "func.return"(%m, %f) : (tensor<4xf32>, tensor<4xf32>) -> ()
}

// -----

// Order matters for a non-commutative op; constants merge only with equal bits and dtype.
// CHECK-LABEL: func.func @keep
// CHECK-NEXT:    "lf.sub"(%arg0, %arg1)
// CHECK-NEXT:    "lf.sub"(%arg1, %arg0)
// CHECK-NEXT:    %[[Z:.*]] = "lf.constant"() {value = dense<0.0> : tensor<4xf32>}
// CHECK-NEXT:    "lf.constant"() {value = dense<-0.0> : tensor<4xf32>}
// CHECK-NEXT:    "lf.constant"() {value = dense<0.0> : tensor<4xf64>}
// CHECK-NEXT:    "func.return"(%{{.*}}, %{{.*}}, %[[Z]], %[[Z]],
func.func @keep(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf64>) {
  %a = "lf.sub"(%x, %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %b = "lf.sub"(%y, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %z = "lf.constant"() {value = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %z2 = "lf.constant"() {value = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %nz = "lf.constant"() {value = dense<-0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %d = "lf.constant"() {value = dense<0.0> : tensor<4xf64>} : () -> tensor<4xf64>
  "func.return"(%a, %b, %z, %z2, %nz, %d) : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf64>) -> ()
}

// -----

// Inside a fusion body too; a fusion reading one value twice gets one argument for it.
// CHECK-LABEL: func.func @fusion
// CHECK-NEXT:    %[[F:.*]]:2 = "lf.fusion"(%arg0) ({
// CHECK-NEXT:    ^bb0(%[[X:.*]]: tensor<4xf32>):
// CHECK-NEXT:      %[[T:.*]] = "lf.tanh"(%[[X]])
// CHECK-NEXT:      "lf.yield"(%[[T]], %[[T]])
// CHECK-NEXT:    })
func.func @fusion(%a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %f:2 = "lf.fusion"(%a, %a) ({
  ^bb0(%x: tensor<4xf32>, %y: tensor<4xf32>):
    %t = "lf.tanh"(%x) : (tensor<4xf32>) -> tensor<4xf32>
    %u = "lf.tanh"(%y) : (tensor<4xf32>) -> tensor<4xf32>
    "lf.yield"(%t, %u) : (tensor<4xf32>, tensor<4xf32>) -> ()
  }) : (tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  "func.return"(%f#0, %f#1) : (tensor<4xf32>, tensor<4xf32>) -> ()
}

// -----

// Casts to different types stay apart.
// CHECK-LABEL: func.func @attrs
// CHECK-NEXT:    "lf.cast"(%arg0) {to = f32}
// CHECK-NEXT:    "lf.cast"(%arg0) {to = f64}
// CHECK-NEXT:    "func.return"
func.func @attrs(%b: tensor<4xi1>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf64>) {
  %a = "lf.cast"(%b) {to = f32} : (tensor<4xi1>) -> tensor<4xf32>
  %c = "lf.cast"(%b) {to = f32} : (tensor<4xi1>) -> tensor<4xf32>
  %d = "lf.cast"(%b) {to = f64} : (tensor<4xi1>) -> tensor<4xf64>
  "func.return"(%a, %c, %d) : (tensor<4xf32>, tensor<4xf32>, tensor<4xf64>) -> ()
}

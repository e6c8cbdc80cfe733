// RUN: lowerflow-opt %s -p canonicalize,dce --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p "canonicalize{fast-math=true},dce" --split-input-file | filecheck %s --check-prefix=FAST
// RUN: lowerflow-opt %s -p canonicalize --split-input-file --print-rewrites 2>&1 >/dev/null | filecheck %s --check-prefix=LOG

// Exact identities hold for every float, -0.0 and NaN included; x + 0.0 is not one
// (-0.0 + 0.0 is +0.0), so only fast-math drops it. The constant moves right first.
// CHECK-LABEL: func.func @zeros
// CHECK:         %[[Z:.*]] = "lf.constant"() {value = dense<0.0> : tensor<4xf32>}
// CHECK-NEXT:    %[[A:.*]] = "lf.add"(%arg0, %[[Z]])
// CHECK-NEXT:    "func.return"(%[[A]], %arg0, %arg0, %arg1)
// FAST-LABEL: func.func @zeros
// FAST-NEXT:    "func.return"(%arg0, %arg0, %arg0, %arg1)
// LOG: // rewrite constant-right: lf.add %3 in @zeros
// LOG: // rewrite add-neg-zero: lf.add %4 in @zeros
// LOG: // rewrite sub-zero: lf.sub %5 in @zeros
// LOG: // rewrite constant-right: lf.add %6 in @zeros
// LOG: // rewrite add-zero-int: lf.add %6 in @zeros
func.func @zeros(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi32>) {
  %z = "lf.constant"() {value = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %nz = "lf.constant"() {value = dense<-0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %zi = "lf.constant"() {value = dense<0> : tensor<4xi32>} : () -> tensor<4xi32>
  %0 = "lf.add"(%z, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = "lf.add"(%x, %nz) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %2 = "lf.sub"(%x, %z) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %3 = "lf.add"(%zi, %i) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  "func.return"(%0, %1, %2, %3) : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi32>) -> ()
}

// -----

// No rule changes a type: adding zeros of a larger shape broadcasts, so it stays.
// CHECK-LABEL: func.func @broadcast
// CHECK:         "lf.add"(%arg0, %{{.*}}) : (tensor<4xi32>, tensor<3x4xi32>) -> tensor<3x4xi32>
// CHECK:         "lf.mul"(%arg0, %{{.*}}) : (tensor<4xi32>, tensor<3x4xi32>) -> tensor<3x4xi32>
func.func @broadcast(%x: tensor<4xi32>) -> (tensor<3x4xi32>, tensor<3x4xi32>) {
  %z = "lf.constant"() {value = dense<0> : tensor<3x4xi32>} : () -> tensor<3x4xi32>
  %o = "lf.constant"() {value = dense<1> : tensor<3x4xi32>} : () -> tensor<3x4xi32>
  %0 = "lf.add"(%x, %z) : (tensor<4xi32>, tensor<3x4xi32>) -> tensor<3x4xi32>
  %1 = "lf.mul"(%x, %o) : (tensor<4xi32>, tensor<3x4xi32>) -> tensor<3x4xi32>
  "func.return"(%0, %1) : (tensor<3x4xi32>, tensor<3x4xi32>) -> ()
}

// -----

// Ones, negations, abs, identities and a cast to the same dtype disappear.
// CHECK-LABEL: func.func @identities
// CHECK-NEXT:    %[[A:.*]] = "lf.abs"(%arg0)
// CHECK-NEXT:    %[[C:.*]] = "lf.cast"(%arg1) {to = f32}
// CHECK-NEXT:    "func.return"(%arg0, %arg0, %arg0, %[[A]], %arg0, %arg1, %arg0, %arg1, %[[C]])
func.func @identities(%x: tensor<4xf32>, %b: tensor<4xi1>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi1>, tensor<4xf32>, tensor<4xi1>, tensor<4xf32>) {
  %one = "lf.constant"() {value = dense<1.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %0 = "lf.mul"(%one, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = "lf.div"(%x, %one) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %n = "lf.neg"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %2 = "lf.neg"(%n) : (tensor<4xf32>) -> tensor<4xf32>
  %a = "lf.abs"(%n) : (tensor<4xf32>) -> tensor<4xf32>
  %3 = "lf.abs"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  %4 = "lf.identity"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %nb = "lf.not"(%b) : (tensor<4xi1>) -> tensor<4xi1>
  %5 = "lf.not"(%nb) : (tensor<4xi1>) -> tensor<4xi1>
  %6 = "lf.select"(%b, %x, %x) : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %7 = "lf.cast"(%b) {to = i1} : (tensor<4xi1>) -> tensor<4xi1>
  %8 = "lf.cast"(%b) {to = f32} : (tensor<4xi1>) -> tensor<4xf32>
  "func.return"(%0, %1, %2, %3, %4, %5, %6, %7, %8) : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi1>, tensor<4xf32>, tensor<4xi1>, tensor<4xf32>) -> ()
}

// -----

// Squares: x*x is square(x), signs inside a square go. sqrt(square(x)) is |x| only under
// fast-math (square overflows), and so are x - x and x * 0 for floats; integers are exact.
// CHECK-LABEL: func.func @squares
// CHECK-NEXT:    %[[S:.*]] = "lf.square"(%arg0)
// CHECK-NEXT:    %[[R:.*]] = "lf.sqrt"(%[[S]])
// CHECK-NEXT:    %[[D:.*]] = "lf.sub"(%arg0, %arg0)
// CHECK-NEXT:    %[[Z:.*]] = "lf.constant"() {value = dense<0> : tensor<4xi32>}
// CHECK-NEXT:    "func.return"(%[[S]], %[[R]], %[[D]], %[[Z]])
// FAST-LABEL: func.func @squares
// FAST-NEXT:    %[[S:.*]] = "lf.square"(%arg0)
// FAST-NEXT:    %[[A:.*]] = "lf.abs"(%arg0)
// FAST-NEXT:    %[[Z:.*]] = "lf.constant"() {value = dense<0.0> : tensor<4xf32>}
// FAST-NEXT:    %[[ZI:.*]] = "lf.constant"() {value = dense<0> : tensor<4xi32>}
// FAST-NEXT:    "func.return"(%[[S]], %[[A]], %[[Z]], %[[ZI]])
func.func @squares(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi32>) {
  %n = "lf.neg"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %0 = "lf.mul"(%n, %n) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = "lf.sqrt"(%0) : (tensor<4xf32>) -> tensor<4xf32>
  %2 = "lf.sub"(%x, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %3 = "lf.sub"(%i, %i) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  "func.return"(%0, %1, %2, %3) : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi32>) -> ()
}

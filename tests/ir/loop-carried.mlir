// RUN: lowerflow-opt %s | filecheck %s
// RUN: lowerflow-opt %s | lowerflow-opt - | filecheck %s

// A hand-written loop carrying two values (a running sum and a running max of the
// elements) parses, verifies and prints back; the results are the last yielded values.
// CHECK-LABEL: func.func @two_carried
// CHECK:         %[[Z:.*]] = "loop.constant"() {type = f32, value = 0.0 : f64} : () -> f32
// CHECK-NEXT:    %[[L:.*]] = "loop.constant"() {type = f32, value = 0xFFF0000000000000 : f64} : () -> f32
// CHECK-NEXT:    %[[R:.*]]:2 = "loop.for"(%[[Z]], %[[L]]) ({
// CHECK-NEXT:    ^bb0(%[[I:.*]]: index, %[[S:.*]]: f32, %[[M:.*]]: f32):
// CHECK-NEXT:      %[[X:.*]] = "loop.load"(%{{.*}}, %[[I]]) : (memref<8xf32>, index) -> f32
// CHECK-NEXT:      %[[S2:.*]] = "loop.fold"(%[[S]], %[[X]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:      %[[M2:.*]] = "loop.fold"(%[[M]], %[[X]]) {op = "lf.max"} : (f32, f32) -> f32
// CHECK-NEXT:      "lf.yield"(%[[S2]], %[[M2]]) : (f32, f32) -> ()
// CHECK-NEXT:    }) {lower = 0 : i64, step = 2 : i64, upper = 8 : i64} : (f32, f32) -> (f32, f32)
// CHECK:         "loop.store"(%[[R]]#0, %{{.*}}, %{{.*}})
// CHECK-NEXT:    "loop.store"(%[[R]]#1, %{{.*}}, %{{.*}})
func.func @two_carried(%x: tensor<8xf32>) -> tensor<2xf32> {
  %0 = "loop.kernel"(%x) ({
  ^bb0(%out: memref<2xf32>, %in: memref<8xf32>):
    %zero = "loop.constant"() {type = f32, value = 0.0} : () -> f32
    %low = "loop.constant"() {type = f32, value = 0xFFF0000000000000 : f64} : () -> f32
    %r:2 = "loop.for"(%zero, %low) ({
    ^bb0(%i: index, %s: f32, %m: f32):
      %v = "loop.load"(%in, %i) : (memref<8xf32>, index) -> f32
      %s2 = "loop.fold"(%s, %v) {op = "lf.add"} : (f32, f32) -> f32
      %m2 = "loop.fold"(%m, %v) {op = "lf.max"} : (f32, f32) -> f32
      "lf.yield"(%s2, %m2) : (f32, f32) -> ()
    }) {lower = 0, step = 2, upper = 8} : (f32, f32) -> (f32, f32)
    %c0 = "loop.const_index"() {value = 0} : () -> index
    %c1 = "loop.const_index"() {value = 1} : () -> index
    "loop.store"(%r#0, %out, %c0) : (f32, memref<2xf32>, index) -> ()
    "loop.store"(%r#1, %out, %c1) : (f32, memref<2xf32>, index) -> ()
    "lf.yield"() : () -> ()
  }) : (tensor<8xf32>) -> tensor<2xf32>
  "func.return"(%0) : (tensor<2xf32>) -> ()
}

// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | lowerflow-opt - --split-input-file | filecheck %s

// RandomUniform: the stream key mix(mix(mix(seed) + seed2) + counter) once, then per element
// n the bits mix(key + (n + 1) * GOLDEN), their top 24 bits (// 2**40) times 2**-24.
// CHECK-LABEL: func.func @uniform
// CHECK:         ^bb0(%[[OUT:.*]]: memref<2x3xf32>, %[[C:.*]]: memref<i64>):
// CHECK-NEXT:      %[[ONE:.*]] = "loop.constant"() {type = ui64, value = 1 : i64} : () -> ui64
// CHECK-NEXT:      %[[G:.*]] = "loop.constant"() {type = ui64, value = 11400714819323198485 : i64} : () -> ui64
// CHECK-NEXT:      %[[CNT:.*]] = "loop.load"(%[[C]]) : (memref<i64>) -> i64
// CHECK-NEXT:      %[[CU:.*]] = "loop.scalar"(%[[CNT]]) {op = "lf.cast", to = ui64} : (i64) -> ui64
// CHECK-NEXT:      %[[S:.*]] = "loop.constant"() {type = ui64, value = 1 : i64} : () -> ui64
// CHECK-NEXT:      %[[M1:.*]] = "loop.mix"(%[[S]]) : (ui64) -> ui64
// CHECK-NEXT:      %[[S2:.*]] = "loop.constant"() {type = ui64, value = 2 : i64} : () -> ui64
// CHECK-NEXT:      %[[A1:.*]] = "loop.scalar"(%[[M1]], %[[S2]]) {op = "lf.add"} : (ui64, ui64) -> ui64
// CHECK-NEXT:      %[[M2:.*]] = "loop.mix"(%[[A1]]) : (ui64) -> ui64
// CHECK-NEXT:      %[[A2:.*]] = "loop.scalar"(%[[M2]], %[[CU]]) {op = "lf.add"} : (ui64, ui64) -> ui64
// CHECK-NEXT:      %[[KEY:.*]] = "loop.mix"(%[[A2]]) : (ui64) -> ui64
// CHECK-NEXT:      %[[DIV:.*]] = "loop.constant"() {type = ui64, value = 1099511627776 : i64} : () -> ui64
// CHECK-NEXT:      %[[SC:.*]] = "loop.constant"() {type = f32, value = 5.960464477539063e-08 : f64} : () -> f32
// CHECK-NEXT:      %[[V:.*]] = "loop.view"(%[[OUT]]) {shape = [6 : i64], strides = [1 : i64]} : (memref<2x3xf32>) -> memref<6xf32>
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:        %[[N:.*]] = "loop.index_cast"(%[[I]]) {type = ui64} : (index) -> ui64
// CHECK-NEXT:        %[[N1:.*]] = "loop.scalar"(%[[N]], %[[ONE]]) {op = "lf.add"} : (ui64, ui64) -> ui64
// CHECK-NEXT:        %[[NG:.*]] = "loop.scalar"(%[[N1]], %[[G]]) {op = "lf.mul"} : (ui64, ui64) -> ui64
// CHECK-NEXT:        %[[KN:.*]] = "loop.scalar"(%[[KEY]], %[[NG]]) {op = "lf.add"} : (ui64, ui64) -> ui64
// CHECK-NEXT:        %[[BITS:.*]] = "loop.mix"(%[[KN]]) : (ui64) -> ui64
// CHECK-NEXT:        %[[TOP:.*]] = "loop.scalar"(%[[BITS]], %[[DIV]]) {op = "lf.floordiv"} : (ui64, ui64) -> ui64
// CHECK-NEXT:        %[[F:.*]] = "loop.scalar"(%[[TOP]]) {op = "lf.cast", to = f32} : (ui64) -> f32
// CHECK-NEXT:        %[[U:.*]] = "loop.scalar"(%[[F]], %[[SC]]) {op = "lf.mul"} : (f32, f32) -> f32
// CHECK-NEXT:        "loop.store"(%[[U]], %[[V]], %[[I]]) : (f32, memref<6xf32>, index) -> ()
// CHECK-NEXT:        "lf.yield"() : () -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 6 : i64, vector = true} : () -> ()
func.func @uniform(%c: tensor<i64>) -> tensor<2x3xf32> {
  %0 = "lf.random_uniform"(%c) {seed = 1, seed2 = 2, shape = [2, 3], dtype = f32} : (tensor<i64>) -> tensor<2x3xf32>
  "func.return"(%0) : (tensor<2x3xf32>) -> ()
}

// -----

// RandomUniformInt: minval >= maxval fails the step (checked once); the span is kept
// non-zero, then minval + bits mod span in 64 bits, truncated to int32.
// CHECK-LABEL: func.func @ints
// CHECK:           %[[EMPTY:.*]] = "loop.scalar"(%{{.*}}, %{{.*}}) {op = "lf.ge"} : (i64, i64) -> i1
// CHECK-NEXT:      "loop.check"(%[[EMPTY]]) {error = "empty_range"} : (i1) -> ()
// CHECK:           %[[SPAN:.*]] = "loop.scalar"(%{{.*}}) {op = "lf.cast", to = ui64} : (i64) -> ui64
// CHECK-NEXT:      "loop.for"() ({
// CHECK:             %[[BITS:.*]] = "loop.mix"
// CHECK-NEXT:        %{{.*}} = "loop.scalar"(%[[BITS]], %[[SPAN]]) {op = "lf.mod"} : (ui64, ui64) -> ui64
// CHECK:             "loop.scalar"(%{{.*}}) {op = "lf.cast", to = i32} : (i64) -> i32
func.func @ints(%c: tensor<i64>, %lo: tensor<i32>, %hi: tensor<i32>) -> tensor<4xi32> {
  %0 = "lf.random_uniform_int"(%c, %lo, %hi) {seed = 5, seed2 = 6, shape = [4], dtype = i32} : (tensor<i64>, tensor<i32>, tensor<i32>) -> tensor<4xi32>
  "func.return"(%0) : (tensor<4xi32>) -> ()
}

// -----

// TruncatedNormal: per element a "loop.retry" whose attempt t draws the Box-Muller normal of
// element n + t * size and is accepted when |z| <= 2 (at most 100 attempts); the float64
// draw is cast to the dtype. The element loop carries no vector hint.
// CHECK-LABEL: func.func @truncated
// CHECK:           %[[SIZE:.*]] = "loop.constant"() {type = ui64, value = 5 : i64} : () -> ui64
// CHECK-NEXT:      %[[TWO:.*]] = "loop.constant"() {type = f64, value = 2.0 : f64} : () -> f64
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:        %[[N:.*]] = "loop.index_cast"(%[[I]]) {type = ui64} : (index) -> ui64
// CHECK-NEXT:        %[[Z:.*]] = "loop.retry"() ({
// CHECK-NEXT:        ^bb0(%[[T:.*]]: index):
// CHECK-NEXT:          %[[TU:.*]] = "loop.index_cast"(%[[T]]) {type = ui64} : (index) -> ui64
// CHECK-NEXT:          %[[OFF:.*]] = "loop.scalar"(%[[TU]], %[[SIZE]]) {op = "lf.mul"} : (ui64, ui64) -> ui64
// CHECK-NEXT:          %[[M:.*]] = "loop.scalar"(%[[N]], %[[OFF]]) {op = "lf.add"} : (ui64, ui64) -> ui64
// CHECK-NEXT:          %{{.*}} = "loop.scalar"(%[[M]], %[[M]]) {op = "lf.add"} : (ui64, ui64) -> ui64
// CHECK:               %[[COS:.*]] = "loop.scalar"(%{{.*}}) {op = "lf.cos"} : (f64) -> f64
// CHECK-NEXT:          %[[DRAW:.*]] = "loop.scalar"(%{{.*}}, %[[COS]]) {op = "lf.mul"} : (f64, f64) -> f64
// CHECK-NEXT:          %[[ABS:.*]] = "loop.scalar"(%[[DRAW]]) {op = "lf.abs"} : (f64) -> f64
// CHECK-NEXT:          %[[OK:.*]] = "loop.scalar"(%[[ABS]], %[[TWO]]) {op = "lf.le"} : (f64, f64) -> i1
// CHECK-NEXT:          "lf.yield"(%[[OK]], %[[DRAW]]) : (i1, f64) -> ()
// CHECK-NEXT:        }) {limit = 100 : i64} : () -> f64
// CHECK-NEXT:        %[[H:.*]] = "loop.scalar"(%[[Z]]) {op = "lf.cast", to = f16} : (f64) -> f16
// CHECK-NEXT:        "loop.store"(%[[H]], %{{.*}}, %[[I]]) : (f16, memref<5xf16>, index) -> ()
// CHECK-NEXT:        "lf.yield"() : () -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 5 : i64} : () -> ()
func.func @truncated(%c: tensor<i64>) -> tensor<5xf16> {
  %0 = "lf.truncated_normal"(%c) {seed = 3, seed2 = 4, shape = [5], dtype = f16} : (tensor<i64>) -> tensor<5xf16>
  "func.return"(%0) : (tensor<5xf16>) -> ()
}

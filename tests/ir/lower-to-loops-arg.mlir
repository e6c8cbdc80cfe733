// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | lowerflow-opt - --split-input-file | filecheck %s

// ArgMax over the last axis: for each row, a loop carrying the best value (from -inf) and
// its index (from 0); a strictly greater element moves both (lf.gt is ordered: NaN never
// wins), so the first index of the maximum stays; the index is stored as i64.
// CHECK-LABEL: func.func @argmax_last
// CHECK-NEXT:    %[[K:.*]] = "loop.kernel"(%arg0) ({
// CHECK-NEXT:    ^bb0(%[[OUT:.*]]: memref<3xi64>, %[[IN:.*]]: memref<3x5xf32>):
// CHECK-NEXT:      %[[NEG:.*]] = "loop.constant"() {type = f32, value = 0xFFF0000000000000 : f64} : () -> f32
// CHECK-NEXT:      %[[Z:.*]] = "loop.const_index"() {value = 0 : i64} : () -> index
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:        %[[R:.*]]:2 = "loop.for"(%[[NEG]], %[[Z]]) ({
// CHECK-NEXT:        ^bb0(%[[J:.*]]: index, %[[B:.*]]: f32, %[[BJ:.*]]: index):
// CHECK-NEXT:          %[[V:.*]] = "loop.load"(%[[IN]], %[[I]], %[[J]]) : (memref<3x5xf32>, index, index) -> f32
// CHECK-NEXT:          %[[W:.*]] = "loop.scalar"(%[[V]], %[[B]]) {op = "lf.gt"} : (f32, f32) -> i1
// CHECK-NEXT:          %[[NB:.*]] = "loop.scalar"(%[[W]], %[[V]], %[[B]]) {op = "lf.select"} : (i1, f32, f32) -> f32
// CHECK-NEXT:          %[[NJ:.*]] = "loop.index_select"(%[[W]], %[[J]], %[[BJ]]) : (i1, index, index) -> index
// CHECK-NEXT:          "lf.yield"(%[[NB]], %[[NJ]]) : (f32, index) -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 5 : i64} : (f32, index) -> (f32, index)
// CHECK-NEXT:        %[[C:.*]] = "loop.index_cast"(%[[R]]#1) {type = i64} : (index) -> i64
// CHECK-NEXT:        "loop.store"(%[[C]], %[[OUT]], %[[I]]) : (i64, memref<3xi64>, index) -> ()
// CHECK-NEXT:        "lf.yield"() : () -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 3 : i64} : () -> ()
// CHECK-NEXT:      "lf.yield"() : () -> ()
// CHECK-NEXT:    }) {lf.offset = [-1 : i64]} : (tensor<3x5xf32>) -> tensor<3xi64>
func.func @argmax_last(%x: tensor<3x5xf32>) -> tensor<3xi64> {
  %0 = "lf.argmax"(%x) {axis = 1, output_type = i64} : (tensor<3x5xf32>) -> tensor<3xi64>
  "func.return"(%0) : (tensor<3xi64>) -> ()
}

// -----

// ArgMin of integers over a middle axis: the kept dims' loops (the size-1 dim dropped), a
// strided view putting the reduced axis last, the fold starting from the first element, and
// the index truncated to i32.
// CHECK-LABEL: func.func @argmin_middle
// CHECK:         ^bb0(%[[OUT:.*]]: memref<2x1x4xi32>, %[[IN:.*]]: memref<2x3x1x4xi32>):
// CHECK-NEXT:      %[[SRC:.*]] = "loop.view"(%[[IN]]) {shape = [2 : i64, 4 : i64, 3 : i64], strides = [12 : i64, 1 : i64, 4 : i64]}
// CHECK-NEXT:      %[[DST:.*]] = "loop.view"(%[[OUT]]) {shape = [2 : i64, 4 : i64], strides = [4 : i64, 1 : i64]}
// CHECK-NEXT:      %[[Z:.*]] = "loop.const_index"() {value = 0 : i64} : () -> index
// CHECK:           %[[F:.*]] = "loop.load"(%[[SRC]], %{{.*}}, %{{.*}}, %[[Z]])
// CHECK-NEXT:      %{{.*}}:2 = "loop.for"(%[[F]], %[[Z]])
// CHECK:             "loop.scalar"(%{{.*}}, %{{.*}}) {op = "lf.lt"} : (i32, i32) -> i1
// CHECK:           "loop.index_cast"(%{{.*}}#1) {type = i32} : (index) -> i32
// CHECK-NOT:     lf.argmin
func.func @argmin_middle(%x: tensor<2x3x1x4xi32>) -> tensor<2x1x4xi32> {
  %0 = "lf.argmin"(%x) {axis = 1, output_type = i32} : (tensor<2x3x1x4xi32>) -> tensor<2x1x4xi32>
  "func.return"(%0) : (tensor<2x1x4xi32>) -> ()
}

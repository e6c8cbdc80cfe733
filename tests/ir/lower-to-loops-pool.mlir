// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | lowerflow-opt - --split-input-file | filecheck %s

// Average pooling, 2x2 windows by 2 over 3x3 (SAME: nothing before, one row and col after):
// a parallel batch loop, then one nest per span pair (interior, last col, last row, corner),
// each with its window's static bounds, the window unrolled and folded from -0.0, divided
// by its count of input elements (4, 2, 2, 1); the channel loop is the vector loop.
// CHECK-LABEL: func.func @avg_same
// CHECK:         ^bb0(%[[OUT:.*]]: memref<1x2x2x2xf32>, %[[IN:.*]]: memref<1x3x3x2xf32>):
// CHECK-NEXT:      %[[TWO:.*]] = "loop.const_index"() {value = 2 : i64} : () -> index
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[N:.*]]: index):
// CHECK-NEXT:        %[[Z:.*]] = "loop.constant"() {type = f32, value = -0.0 : f64} : () -> f32
// CHECK-NEXT:        %[[C4:.*]] = "loop.constant"() {type = f32, value = 4.0 : f64} : () -> f32
// CHECK-NEXT:        "loop.for"() ({
// CHECK-NEXT:        ^bb0(%[[OH:.*]]: index):
// CHECK-NEXT:          %[[BH:.*]] = "loop.index_arith"(%[[OH]], %[[TWO]]) {op = "mul"}
// CHECK-NEXT:          "loop.for"() ({
// CHECK-NEXT:          ^bb0(%[[OW:.*]]: index):
// CHECK-NEXT:            %[[BW:.*]] = "loop.index_arith"(%[[OW]], %[[TWO]]) {op = "mul"}
// CHECK-NEXT:            "loop.for"() ({
// CHECK-NEXT:            ^bb0(%[[C:.*]]: index):
// CHECK-NEXT:              %[[S:.*]] = "loop.for"(%[[Z]]) ({
// CHECK-NEXT:              ^bb0(%[[DH:.*]]: index, %[[A:.*]]: f32):
// CHECK-NEXT:                %[[H:.*]] = "loop.index_arith"(%[[BH]], %[[DH]]) {op = "add"}
// CHECK-NEXT:                %[[S2:.*]] = "loop.for"(%[[A]]) ({
// CHECK-NEXT:                ^bb0(%[[DW:.*]]: index, %[[A2:.*]]: f32):
// CHECK-NEXT:                  %[[W:.*]] = "loop.index_arith"(%[[BW]], %[[DW]]) {op = "add"}
// CHECK-NEXT:                  %[[V:.*]] = "loop.load"(%[[IN]], %[[N]], %[[H]], %[[W]], %[[C]])
// CHECK-NEXT:                  %[[F:.*]] = "loop.fold"(%[[A2]], %[[V]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:                  "lf.yield"(%[[F]]) : (f32) -> ()
// CHECK-NEXT:                }) {lower = 0 : i64, step = 1 : i64, unroll = true, upper = 2 : i64} : (f32) -> f32
// CHECK-NEXT:                "lf.yield"(%[[S2]]) : (f32) -> ()
// CHECK-NEXT:              }) {lower = 0 : i64, step = 1 : i64, unroll = true, upper = 2 : i64} : (f32) -> f32
// CHECK-NEXT:              %[[M:.*]] = "loop.scalar"(%[[S]], %[[C4]]) {op = "lf.div"} : (f32, f32) -> f32
// CHECK-NEXT:              "loop.store"(%[[M]], %[[OUT]], %[[N]], %[[OH]], %[[OW]], %[[C]])
// CHECK-NEXT:              "lf.yield"() : () -> ()
// CHECK-NEXT:            }) {lower = 0 : i64, step = 1 : i64, upper = 2 : i64, vector = true} : () -> ()
// CHECK-NEXT:            "lf.yield"() : () -> ()
// CHECK-NEXT:          }) {lower = 0 : i64, step = 1 : i64, upper = 1 : i64} : () -> ()
// CHECK-NEXT:          "lf.yield"() : () -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 1 : i64} : () -> ()
// CHECK:             {type = f32, value = 2.0 : f64}
// CHECK:             unroll = true, upper = 1 : i64
// CHECK:             }) {lower = 1 : i64, step = 1 : i64, upper = 2 : i64} : () -> ()
// CHECK:             {type = f32, value = 2.0 : f64}
// CHECK:             {type = f32, value = 1.0 : f64}
// CHECK:           }) {lower = 0 : i64, parallel = true, step = 1 : i64, upper = 1 : i64} : () -> ()
// CHECK-NOT:     lf.avg_pool
func.func @avg_same(%x: tensor<1x3x3x2xf32>) -> tensor<1x2x2x2xf32> {
  %0 = "lf.avg_pool"(%x) {ksize = [1, 2, 2, 1], strides = [1, 2, 2, 1], padding = "SAME"} : (tensor<1x3x3x2xf32>) -> tensor<1x2x2x2xf32>
  "func.return"(%0) : (tensor<1x2x2x2xf32>) -> ()
}

// -----

// Max pooling as TF's reducer: from the lowest finite float, a strictly greater element
// (lf.gt, ordered: NaN and -inf never) moves it; VALID 3x3 by 1 over 4x5 is one span pair.
// CHECK-LABEL: func.func @max_valid
// CHECK:           %[[LOW:.*]] = "loop.constant"() {type = f32, value = -3.4028234663852886e+38 : f64} : () -> f32
// CHECK:           "loop.for"(%[[LOW]])
// CHECK:           %[[V:.*]] = "loop.load"(
// CHECK-NEXT:      %[[W:.*]] = "loop.scalar"(%[[V]], %[[B:.*]]) {op = "lf.gt"} : (f32, f32) -> i1
// CHECK-NEXT:      "loop.scalar"(%[[W]], %[[V]], %[[B]]) {op = "lf.select"} : (i1, f32, f32) -> f32
// CHECK:           unroll = true, upper = 3 : i64
// CHECK:           }) {lower = 0 : i64, step = 1 : i64, upper = 2 : i64} : () -> ()
// CHECK-NOT:       "loop.for"(%[[LOW]])
func.func @max_valid(%x: tensor<2x4x5x3xf32>) -> tensor<2x2x3x3xf32> {
  %0 = "lf.max_pool"(%x) {ksize = [1, 3, 3, 1], strides = [1, 1, 1, 1], padding = "VALID"} : (tensor<2x4x5x3xf32>) -> tensor<2x2x3x3xf32>
  "func.return"(%0) : (tensor<2x2x3x3xf32>) -> ()
}

// -----

// MaxPoolGrad, 2x2 windows by 2 over 3x3 (VALID: the last row and col in no window): the
// batch element's dx zeroed (one unit-stride loop over a flat view), then per window the
// maximum as the forward finds it, whether nothing beat the start, and a second pass
// carrying "found": the first element equal to it (or the first element, if nothing beat
// the start) gets g, the others 0, stored (windows do not overlap: nothing to add to).
// CHECK-LABEL: func.func @max_grad
// CHECK:         ^bb0(%[[DX:.*]]: memref<1x3x3x2xf32>, %[[X:.*]]: memref<1x3x3x2xf32>, %{{.*}}: memref<1x1x1x2xf32>, %[[G:.*]]: memref<1x1x1x2xf32>):
// CHECK:           %[[FLAT:.*]] = "loop.view"(%[[DX]]) {shape = [1 : i64, 18 : i64], strides = [18 : i64, 1 : i64]}
// CHECK-NEXT:      %[[Z:.*]] = "loop.constant"() {type = f32, value = 0.0 : f64} : () -> f32
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[J:.*]]: index):
// CHECK-NEXT:        "loop.store"(%[[Z]], %[[FLAT]], %{{.*}}, %[[J]])
// CHECK:           }) {lower = 0 : i64, step = 1 : i64, upper = 18 : i64, vector = true} : () -> ()
// CHECK:           %[[LOW:.*]] = "loop.constant"() {type = f32, value = -3.4028234663852886e+38 : f64} : () -> f32
// CHECK:           %[[BEST:.*]] = "loop.for"(%[[LOW]]) ({
// CHECK:             "loop.scalar"(%{{.*}}, %{{.*}}) {op = "lf.gt"} : (f32, f32) -> i1
// CHECK-NEXT:        "loop.scalar"(%{{.*}}, %{{.*}}, %{{.*}}) {op = "lf.select"} : (i1, f32, f32) -> f32
// CHECK:           %[[NONE:.*]] = "loop.scalar"(%[[BEST]], %[[LOW]]) {op = "lf.eq"} : (f32, f32) -> i1
// CHECK-NEXT:      %[[GV:.*]] = "loop.load"(%[[G]],
// CHECK-NEXT:      "loop.for"(%{{.*}}) ({
// CHECK:             %[[V:.*]] = "loop.load"(%[[X]],
// CHECK-NEXT:        %[[EQ:.*]] = "loop.scalar"(%[[V]], %[[BEST]]) {op = "lf.eq"} : (f32, f32) -> i1
// CHECK-NEXT:        %[[HIT:.*]] = "loop.scalar"(%[[EQ]], %[[NONE]]) {op = "lf.or"} : (i1, i1) -> i1
// CHECK-NEXT:        %[[NOT:.*]] = "loop.scalar"(%[[FOUND:.*]]) {op = "lf.not"} : (i1) -> i1
// CHECK-NEXT:        %[[FH:.*]] = "loop.scalar"(%[[HIT]], %[[NOT]]) {op = "lf.and"} : (i1, i1) -> i1
// CHECK-NEXT:        %[[PART:.*]] = "loop.scalar"(%[[FH]], %[[GV]], %{{.*}}) {op = "lf.select"} : (i1, f32, f32) -> f32
// CHECK-NEXT:        "loop.store"(%[[PART]], %[[DX]],
// CHECK-NEXT:        "loop.scalar"(%[[FOUND]], %[[HIT]]) {op = "lf.or"} : (i1, i1) -> i1
func.func @max_grad(%x: tensor<1x3x3x2xf32>, %y: tensor<1x1x1x2xf32>, %g: tensor<1x1x1x2xf32>) -> tensor<1x3x3x2xf32> {
  %0 = "lf.max_pool_grad"(%x, %y, %g) {ksize = [1, 2, 2, 1], strides = [1, 2, 2, 1], padding = "VALID"} : (tensor<1x3x3x2xf32>, tensor<1x1x1x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x3x3x2xf32>
  "func.return"(%0) : (tensor<1x3x3x2xf32>) -> ()
}

// -----

// AvgPoolGrad, 2x2 windows by 1 (they overlap): dx zeroed, then for each window element
// the channel loop adds g / count (g times the constant 1/count, as TF's kernel).
// CHECK-LABEL: func.func @avg_grad
// CHECK:           "loop.store"(%{{.*}}) : (f32, memref<1x32xf32>, index, index) -> ()
// CHECK:           "loop.constant"() {type = f32, value = 0.25 : f64} : () -> f32
// CHECK:           "loop.for"() ({
// CHECK:             %[[GV:.*]] = "loop.load"(
// CHECK-NEXT:        %[[P:.*]] = "loop.scalar"(%[[GV]], %{{.*}}) {op = "lf.mul"} : (f32, f32) -> f32
// CHECK-NEXT:        %[[OLD:.*]] = "loop.load"(
// CHECK-NEXT:        %[[NEW:.*]] = "loop.scalar"(%[[OLD]], %[[P]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:        "loop.store"(%[[NEW]],
// CHECK:           }) {lower = 0 : i64, step = 1 : i64, upper = 2 : i64, vector = true} : () -> ()
// CHECK-NOT:     lf.avg_pool_grad
func.func @avg_grad(%x: tensor<1x4x4x2xf32>, %g: tensor<1x3x3x2xf32>) -> tensor<1x4x4x2xf32> {
  %0 = "lf.avg_pool_grad"(%x, %g) {ksize = [1, 2, 2, 1], strides = [1, 1, 1, 1], padding = "VALID"} : (tensor<1x4x4x2xf32>, tensor<1x3x3x2xf32>) -> tensor<1x4x4x2xf32>
  "func.return"(%0) : (tensor<1x4x4x2xf32>) -> ()
}

// -----

// Windows that tile the input (2x2 by 2 over 4x4): each dx element is stored once, so
// nothing is zeroed and nothing loaded back.
// CHECK-LABEL: func.func @avg_grad_tiles
// CHECK-NOT:       "loop.view"
// CHECK:           %[[P:.*]] = "loop.scalar"(%{{.*}}, %{{.*}}) {op = "lf.mul"} : (f32, f32) -> f32
// CHECK-NEXT:      "loop.store"(%[[P]],
func.func @avg_grad_tiles(%x: tensor<1x4x4x2xf32>, %g: tensor<1x2x2x2xf32>) -> tensor<1x4x4x2xf32> {
  %0 = "lf.avg_pool_grad"(%x, %g) {ksize = [1, 2, 2, 1], strides = [1, 2, 2, 1], padding = "VALID"} : (tensor<1x4x4x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x4x4x2xf32>
  "func.return"(%0) : (tensor<1x4x4x2xf32>) -> ()
}

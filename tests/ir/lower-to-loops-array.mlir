// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | lowerflow-opt - --split-input-file | filecheck %s

// GatherV2: every index checked first (as ui64, so a negative one is out of range too), then
// per index one inner row copied, read through the index kept in bounds by a select.
// CHECK-LABEL: func.func @gather
// CHECK:         ^bb0(%[[OUT:.*]]: memref<4x3xf32>, %[[P:.*]]: memref<5x3xf32>, %[[I:.*]]: memref<4xi32>):
// CHECK-NEXT:      %[[ZERO:.*]] = "loop.constant"() {type = ui64, value = 0 : i64} : () -> ui64
// CHECK-NEXT:      %[[N:.*]] = "loop.constant"() {type = ui64, value = 5 : i64} : () -> ui64
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[J:.*]]: index):
// CHECK-NEXT:        %[[K:.*]] = "loop.load"(%[[I]], %[[J]]) : (memref<4xi32>, index) -> i32
// CHECK-NEXT:        %[[KU:.*]] = "loop.scalar"(%[[K]]) {op = "lf.cast", to = ui64} : (i32) -> ui64
// CHECK-NEXT:        %[[BAD:.*]] = "loop.scalar"(%[[KU]], %[[N]]) {op = "lf.ge"} : (ui64, ui64) -> i1
// CHECK-NEXT:        "loop.check"(%[[BAD]]) {error = "index_range"} : (i1) -> ()
// CHECK-NEXT:        "lf.yield"() : () -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 4 : i64} : () -> ()
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[J2:.*]]: index):
// CHECK-NEXT:        %[[K2:.*]] = "loop.load"(%[[I]], %[[J2]]) : (memref<4xi32>, index) -> i32
// CHECK-NEXT:        %[[KU2:.*]] = "loop.scalar"(%[[K2]]) {op = "lf.cast", to = ui64} : (i32) -> ui64
// CHECK-NEXT:        %[[BAD2:.*]] = "loop.scalar"(%[[KU2]], %[[N]]) {op = "lf.ge"} : (ui64, ui64) -> i1
// CHECK-NEXT:        %[[SAFE:.*]] = "loop.scalar"(%[[BAD2]], %[[ZERO]], %[[KU2]]) {op = "lf.select"} : (i1, ui64, ui64) -> ui64
// CHECK-NEXT:        %[[ROW:.*]] = "loop.to_index"(%[[SAFE]]) : (ui64) -> index
// CHECK-NEXT:        "loop.for"() ({
// CHECK-NEXT:        ^bb0(%[[C:.*]]: index):
// CHECK-NEXT:          %[[V:.*]] = "loop.load"(%[[P]], %[[ROW]], %[[C]]) : (memref<5x3xf32>, index, index) -> f32
// CHECK-NEXT:          "loop.store"(%[[V]], %[[OUT]], %[[J2]], %[[C]]) : (f32, memref<4x3xf32>, index, index) -> ()
// CHECK-NEXT:          "lf.yield"() : () -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 3 : i64, vector = true} : () -> ()
func.func @gather(%p: tensor<5x3xf32>, %i: tensor<4xi32>) -> tensor<4x3xf32> {
  %0 = "lf.gather"(%p, %i) {axis = 0} : (tensor<5x3xf32>, tensor<4xi32>) -> tensor<4x3xf32>
  "func.return"(%0) : (tensor<4x3xf32>) -> ()
}

// -----

// A middle axis: the outer dim is a loop of its own, params seen as [outer, n, inner].
// CHECK-LABEL: func.func @gather_axis1
// CHECK:           %{{.*}} = "loop.view"(%{{.*}}) {shape = [2 : i64, 6 : i64, 4 : i64], strides = [24 : i64, 4 : i64, 1 : i64]} : (memref<2x3x2x4xf64>) -> memref<2x6x4xf64>
// CHECK:           "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[O:.*]]: index):
// CHECK-NEXT:        "loop.for"() ({
// CHECK-NEXT:        ^bb0(%[[J:.*]]: index):
// CHECK:               "loop.load"(%{{.*}}, %[[O]], %{{.*}}, %{{.*}}) : (memref<2x5x4xf64>, index, index, index) -> f64
func.func @gather_axis1(%p: tensor<2x5x4xf64>, %i: tensor<3x2xi64>) -> tensor<2x3x2x4xf64> {
  %0 = "lf.gather"(%p, %i) {axis = 1} : (tensor<2x5x4xf64>, tensor<3x2xi64>) -> tensor<2x3x2x4xf64>
  "func.return"(%0) : (tensor<2x3x2x4xf64>) -> ()
}

// -----

// UnsortedSegmentSum: the result zeroed, ids at or past num_segments fail the step (a
// negative id is dropped: its row adds nothing), then each row added into its segment.
// CHECK-LABEL: func.func @segment_sum
// CHECK:           %[[Z:.*]] = "loop.constant"() {type = f32, value = 0.0 : f64} : () -> f32
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[E:.*]]: index):
// CHECK-NEXT:        "loop.store"(%[[Z]], %{{.*}}, %[[E]]) : (f32, memref<6xf32>, index) -> ()
// CHECK:           %[[LIM:.*]] = "loop.constant"() {type = i64, value = 2 : i64} : () -> i64
// CHECK:             %[[ID:.*]] = "loop.load"
// CHECK-NEXT:        %[[GE:.*]] = "loop.scalar"(%[[ID]], %[[LIM]]) {op = "lf.ge"} : (i64, i64) -> i1
// CHECK-NEXT:        "loop.check"(%[[GE]]) {error = "index_range"} : (i1) -> ()
// CHECK:             %[[DROP:.*]] = "loop.scalar"(%{{.*}}, %{{.*}}) {op = "lf.ge"} : (ui64, ui64) -> i1
// CHECK:             %[[SEG:.*]] = "loop.to_index"
// CHECK:               %[[OLD:.*]] = "loop.load"(%[[OUT:.*]], %[[SEG]], %[[C:.*]]) : (memref<2x3xf32>, index, index) -> f32
// CHECK-NEXT:          %[[X:.*]] = "loop.load"(%{{.*}}, %{{.*}}, %[[C]]) : (memref<4x3xf32>, index, index) -> f32
// CHECK-NEXT:          %[[T:.*]] = "loop.scalar"(%[[OLD]], %[[X]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:          %[[NEW:.*]] = "loop.scalar"(%[[DROP]], %[[OLD]], %[[T]]) {op = "lf.select"} : (i1, f32, f32) -> f32
// CHECK-NEXT:          "loop.store"(%[[NEW]], %[[OUT]], %[[SEG]], %[[C]]) : (f32, memref<2x3xf32>, index, index) -> ()
func.func @segment_sum(%d: tensor<4x3xf32>, %i: tensor<4xi64>) -> tensor<2x3xf32> {
  %0 = "lf.unsorted_segment_sum"(%d, %i) {num_segments = 2} : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<2x3xf32>
  "func.return"(%0) : (tensor<2x3xf32>) -> ()
}

// -----

// OneHot with the depth dim last: the index loaded once per row (widened to i64), then a
// vector loop over the depth stores on or off.
// CHECK-LABEL: func.func @one_hot
// CHECK:         ^bb0(%[[OUT:.*]]: memref<3x4xf32>, %[[I:.*]]: memref<3xi32>):
// CHECK-NEXT:      %[[ON:.*]] = "loop.constant"() {type = f32, value = 2.5 : f64} : () -> f32
// CHECK-NEXT:      %[[OFF:.*]] = "loop.constant"() {type = f32, value = -1.0 : f64} : () -> f32
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[R:.*]]: index):
// CHECK-NEXT:        %[[K:.*]] = "loop.load"(%[[I]], %[[R]]) : (memref<3xi32>, index) -> i32
// CHECK-NEXT:        %[[K64:.*]] = "loop.scalar"(%[[K]]) {op = "lf.cast", to = i64} : (i32) -> i64
// CHECK-NEXT:        "loop.for"() ({
// CHECK-NEXT:        ^bb0(%[[D:.*]]: index):
// CHECK-NEXT:          %[[D64:.*]] = "loop.index_cast"(%[[D]]) {type = i64} : (index) -> i64
// CHECK-NEXT:          %[[HOT:.*]] = "loop.scalar"(%[[K64]], %[[D64]]) {op = "lf.eq"} : (i64, i64) -> i1
// CHECK-NEXT:          %[[V:.*]] = "loop.scalar"(%[[HOT]], %[[ON]], %[[OFF]]) {op = "lf.select"} : (i1, f32, f32) -> f32
// CHECK-NEXT:          "loop.store"(%[[V]], %[[OUT]], %[[R]], %[[D]]) : (f32, memref<3x4xf32>, index, index) -> ()
// CHECK-NEXT:          "lf.yield"() : () -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 4 : i64, vector = true} : () -> ()
func.func @one_hot(%i: tensor<3xi32>) -> tensor<3x4xf32> {
  %0 = "lf.one_hot"(%i) {depth = 4, on_value = 2.5, off_value = -1.0, axis = -1, dtype = f32} : (tensor<3xi32>) -> tensor<3x4xf32>
  "func.return"(%0) : (tensor<3x4xf32>) -> ()
}

// -----

// OneHot with the depth dim in the middle: (outer, depth, inner) loops, bool results.
// CHECK-LABEL: func.func @one_hot_middle
// CHECK:               %[[K:.*]] = "loop.load"(%{{.*}}, %{{.*}}, %{{.*}}) : (memref<2x3xui8>, index, index) -> ui8
// CHECK-NEXT:          %{{.*}} = "loop.scalar"(%[[K]]) {op = "lf.cast", to = i64} : (ui8) -> i64
// CHECK:               "loop.store"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (i1, memref<2x4x3xi1>, index, index, index) -> ()
// CHECK-NEXT:          "lf.yield"() : () -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 3 : i64, vector = true} : () -> ()
// CHECK-NEXT:        "lf.yield"() : () -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 4 : i64} : () -> ()
func.func @one_hot_middle(%i: tensor<2x3xui8>) -> tensor<2x4x3xi1> {
  %0 = "lf.one_hot"(%i) {depth = 4, on_value = true, off_value = false, axis = 1, dtype = i1} : (tensor<2x3xui8>) -> tensor<2x4x3xi1>
  "func.return"(%0) : (tensor<2x4x3xi1>) -> ()
}

// -----

// lf.update_row: the buffer copied, the index checked, the row copied over row i (row 0
// when i is bad: the step fails, and nothing is written outside the buffer).
// CHECK-LABEL: func.func @update_row
// CHECK:           "loop.for"() ({
// CHECK:           }) {lower = 0 : i64, step = 1 : i64, upper = 8 : i64, vector = true} : () -> ()
// CHECK:           %[[I:.*]] = "loop.load"(%{{.*}}) : (memref<i32>) -> i32
// CHECK-NEXT:      %[[IU:.*]] = "loop.scalar"(%[[I]]) {op = "lf.cast", to = ui64} : (i32) -> ui64
// CHECK-NEXT:      %[[BAD:.*]] = "loop.scalar"(%[[IU]], %{{.*}}) {op = "lf.ge"} : (ui64, ui64) -> i1
// CHECK-NEXT:      "loop.check"(%[[BAD]]) {error = "index_range"} : (i1) -> ()
// CHECK:           %[[ROW:.*]] = "loop.to_index"
// CHECK:             "loop.store"(%{{.*}}, %{{.*}}, %[[ROW]], %{{.*}}) : (f32, memref<4x2xf32>, index, index) -> ()
func.func @update_row(%b: tensor<4x2xf32>, %i: tensor<i32>, %r: tensor<2xf32>) -> tensor<4x2xf32> {
  %0 = "lf.update_row"(%b, %i, %r) : (tensor<4x2xf32>, tensor<i32>, tensor<2xf32>) -> tensor<4x2xf32>
  "func.return"(%0) : (tensor<4x2xf32>) -> ()
}

// -----

// lf.full_rows: the buffer copied; a size other than its row count fails the step.
// CHECK-LABEL: func.func @full_rows
// CHECK:           %[[N:.*]] = "loop.load"(%{{.*}}) : (memref<i32>) -> i32
// CHECK-NEXT:      %[[ROWS:.*]] = "loop.constant"() {type = i32, value = 3 : i64} : () -> i32
// CHECK-NEXT:      %[[NE:.*]] = "loop.scalar"(%[[N]], %[[ROWS]]) {op = "lf.ne"} : (i32, i32) -> i1
// CHECK-NEXT:      "loop.check"(%[[NE]]) {error = "partly_filled"} : (i1) -> ()
func.func @full_rows(%b: tensor<3x2xi64>, %n: tensor<i32>) -> tensor<3x2xi64> {
  %0 = "lf.full_rows"(%b, %n) : (tensor<3x2xi64>, tensor<i32>) -> tensor<3x2xi64>
  "func.return"(%0) : (tensor<3x2xi64>) -> ()
}

// -----

// Range: a running value carried by the loop (TF1's kernel adds delta each step);
// LinSpace: start + step * i without FMA contraction, then stop stored exactly.
// CHECK-LABEL: func.func @generated
// CHECK:           %[[STEP:.*]] = "loop.constant"() {type = i32, value = 2 : i64} : () -> i32
// CHECK-NEXT:      %[[START:.*]] = "loop.constant"() {type = i32, value = 1 : i64} : () -> i32
// CHECK-NEXT:      %{{.*}} = "loop.for"(%[[START]]) ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index, %[[V:.*]]: i32):
// CHECK-NEXT:        "loop.store"(%[[V]], %{{.*}}, %[[I]]) : (i32, memref<3xi32>, index) -> ()
// CHECK-NEXT:        %[[NEXT:.*]] = "loop.scalar"(%[[V]], %[[STEP]]) {op = "lf.add"} : (i32, i32) -> i32
// CHECK-NEXT:        "lf.yield"(%[[NEXT]]) : (i32) -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 3 : i64} : (i32) -> i32
// CHECK:           %[[A:.*]] = "loop.constant"() {type = f32, value = 0.0 : f64} : () -> f32
// CHECK-NEXT:      %[[D:.*]] = "loop.constant"() {type = f32, value = 0.25 : f64} : () -> f32
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[J:.*]]: index):
// CHECK-NEXT:        %[[J64:.*]] = "loop.index_cast"(%[[J]]) {type = i64} : (index) -> i64
// CHECK-NEXT:        %[[F:.*]] = "loop.scalar"(%[[J64]]) {op = "lf.cast", to = f32} : (i64) -> f32
// CHECK-NEXT:        %[[M:.*]] = "loop.scalar"(%[[D]], %[[F]]) {contract = false, op = "lf.mul"} : (f32, f32) -> f32
// CHECK-NEXT:        %[[S:.*]] = "loop.scalar"(%[[A]], %[[M]]) {contract = false, op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:        "loop.store"(%[[S]], %{{.*}}, %[[J]]) : (f32, memref<5xf32>, index) -> ()
// CHECK-NEXT:        "lf.yield"() : () -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 4 : i64, vector = true} : () -> ()
// CHECK-NEXT:      %[[LAST:.*]] = "loop.const_index"() {value = 4 : i64} : () -> index
// CHECK-NEXT:      %[[STOP:.*]] = "loop.constant"() {type = f32, value = 1.0 : f64} : () -> f32
// CHECK-NEXT:      "loop.store"(%[[STOP]], %{{.*}}, %[[LAST]]) : (f32, memref<5xf32>, index) -> ()
func.func @generated() -> (tensor<3xi32>, tensor<5xf32>) {
  %0 = "lf.range"() {start = 1, limit = 7, delta = 2, dtype = i32} : () -> tensor<3xi32>
  %1 = "lf.linspace"() {start = 0.0, stop = 1.0, num = 5, dtype = f32} : () -> tensor<5xf32>
  "func.return"(%0, %1) : (tensor<3xi32>, tensor<5xf32>) -> ()
}

// -----

// Shape, Size and Rank store their operand's static dims.
// CHECK-LABEL: func.func @queries
// CHECK:         ^bb0(%[[OUT:.*]]: memref<3xi64>, %{{.*}}: memref<2x4x3xi1>):
// CHECK-NEXT:      %[[K0:.*]] = "loop.const_index"() {value = 0 : i64} : () -> index
// CHECK-NEXT:      %[[D0:.*]] = "loop.constant"() {type = i64, value = 2 : i64} : () -> i64
// CHECK-NEXT:      "loop.store"(%[[D0]], %[[OUT]], %[[K0]]) : (i64, memref<3xi64>, index) -> ()
// CHECK:           %[[D2:.*]] = "loop.constant"() {type = i64, value = 3 : i64} : () -> i64
// CHECK:         ^bb0(%[[SIZE:.*]]: memref<i32>, %{{.*}}: memref<2x4x3xi1>):
// CHECK-NEXT:      %[[N:.*]] = "loop.constant"() {type = i32, value = 24 : i64} : () -> i32
// CHECK-NEXT:      "loop.store"(%[[N]], %[[SIZE]]) : (i32, memref<i32>) -> ()
// CHECK:         ^bb0(%[[RANK:.*]]: memref<i32>, %{{.*}}: memref<2x4x3xi1>):
// CHECK-NEXT:      %[[R:.*]] = "loop.constant"() {type = i32, value = 3 : i64} : () -> i32
// CHECK-NEXT:      "loop.store"(%[[R]], %[[RANK]]) : (i32, memref<i32>) -> ()
func.func @queries(%x: tensor<2x4x3xi1>) -> (tensor<3xi64>, tensor<i32>, tensor<i32>) {
  %0 = "lf.shape"(%x) {out_type = i64} : (tensor<2x4x3xi1>) -> tensor<3xi64>
  %1 = "lf.size"(%x) {out_type = i32} : (tensor<2x4x3xi1>) -> tensor<i32>
  %2 = "lf.rank"(%x) : (tensor<2x4x3xi1>) -> tensor<i32>
  "func.return"(%0, %1, %2) : (tensor<3xi64>, tensor<i32>, tensor<i32>) -> ()
}

// -----

// MaskPositions: one loop carries the count, storing position i at slot count (a later true
// element overwrites what a false one left); a second zeroes the slots from the count on.
// CHECK-LABEL: func.func @mask_positions
// CHECK:         ^bb0(%[[POS:.*]]: memref<5xi64>, %[[COUNT:.*]]: memref<i64>, %[[M:.*]]: memref<5xi1>):
// CHECK-NEXT:      %[[ZERO:.*]] = "loop.constant"() {type = i64, value = 0 : i64} : () -> i64
// CHECK-NEXT:      %[[TOTAL:.*]] = "loop.for"(%[[ZERO]]) ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index, %[[C:.*]]: i64):
// CHECK-NEXT:        %[[SLOT:.*]] = "loop.to_index"(%[[C]]) : (i64) -> index
// CHECK-NEXT:        %[[I64:.*]] = "loop.index_cast"(%[[I]]) {type = i64} : (index) -> i64
// CHECK-NEXT:        "loop.store"(%[[I64]], %[[POS]], %[[SLOT]]) : (i64, memref<5xi64>, index) -> ()
// CHECK-NEXT:        %[[BIT:.*]] = "loop.load"(%[[M]], %[[I]]) : (memref<5xi1>, index) -> i1
// CHECK-NEXT:        %[[ONE:.*]] = "loop.scalar"(%[[BIT]]) {op = "lf.cast", to = i64} : (i1) -> i64
// CHECK-NEXT:        %[[NEXT:.*]] = "loop.scalar"(%[[C]], %[[ONE]]) {op = "lf.add"} : (i64, i64) -> i64
// CHECK-NEXT:        "lf.yield"(%[[NEXT]]) : (i64) -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 5 : i64} : (i64) -> i64
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[J:.*]]: index):
// CHECK-NEXT:        %[[J64:.*]] = "loop.index_cast"(%[[J]]) {type = i64} : (index) -> i64
// CHECK-NEXT:        %[[KEPT:.*]] = "loop.scalar"(%[[J64]], %[[TOTAL]]) {op = "lf.lt"} : (i64, i64) -> i1
// CHECK-NEXT:        %[[OLD:.*]] = "loop.load"(%[[POS]], %[[J]]) : (memref<5xi64>, index) -> i64
// CHECK-NEXT:        %[[NEW:.*]] = "loop.scalar"(%[[KEPT]], %[[OLD]], %[[ZERO]]) {op = "lf.select"} : (i1, i64, i64) -> i64
// CHECK-NEXT:        "loop.store"(%[[NEW]], %[[POS]], %[[J]]) : (i64, memref<5xi64>, index) -> ()
// CHECK:           "loop.store"(%[[TOTAL]], %[[COUNT]]) : (i64, memref<i64>) -> ()
func.func @mask_positions(%m: tensor<5xi1>) -> (tensor<5xi64>, tensor<i64>) {
  %0, %1 = "lf.mask_positions"(%m) : (tensor<5xi1>) -> (tensor<5xi64>, tensor<i64>)
  "func.return"(%0, %1) : (tensor<5xi64>, tensor<i64>) -> ()
}

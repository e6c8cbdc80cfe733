// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | lowerflow-opt - --split-input-file | filecheck %s

// Transpose, tiled (128 source columns of 512 bytes: a power-of-two stride): 16x16 tiles,
// 8 x 8 of them, the destination's rows unit-stride innermost, the source read with its
// permuted strides; then the strip of the 8 columns the tiles leave, from its offset on both
// sides.
// CHECK-LABEL: func.func @transpose
// CHECK:         ^bb0(%[[OUT:.*]]: memref<128x136xf32>, %[[IN:.*]]: memref<136x128xf32>):
// CHECK-NEXT:      %[[D:.*]] = "loop.view"(%[[OUT]]) {shape = [8 : i64, 8 : i64, 16 : i64, 16 : i64], strides = [2176 : i64, 16 : i64, 136 : i64, 1 : i64]}
// CHECK-NEXT:      %[[S:.*]] = "loop.view"(%[[IN]]) {shape = [8 : i64, 8 : i64, 16 : i64, 16 : i64], strides = [16 : i64, 2048 : i64, 1 : i64, 128 : i64]}
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[TI:.*]]: index):
// CHECK-NEXT:        "loop.for"() ({
// CHECK-NEXT:        ^bb0(%[[TJ:.*]]: index):
// CHECK-NEXT:          "loop.for"() ({
// CHECK-NEXT:          ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:            "loop.for"() ({
// CHECK-NEXT:            ^bb0(%[[J:.*]]: index):
// CHECK-NEXT:              %[[V:.*]] = "loop.load"(%[[S]], %[[TI]], %[[TJ]], %[[I]], %[[J]])
// CHECK-NEXT:              "loop.store"(%[[V]], %[[D]], %[[TI]], %[[TJ]], %[[I]], %[[J]])
// CHECK:                 }) {lower = 0 : i64, step = 1 : i64, upper = 16 : i64} : () -> ()
// CHECK:               }) {lower = 0 : i64, step = 1 : i64, upper = 16 : i64} : () -> ()
// CHECK:             }) {lower = 0 : i64, step = 1 : i64, upper = 8 : i64} : () -> ()
// CHECK:           }) {lower = 0 : i64, step = 1 : i64, upper = 8 : i64} : () -> ()
// CHECK-NEXT:      %[[D2:.*]] = "loop.view"(%[[OUT]]) {offset = 128 : i64, shape = [128 : i64, 8 : i64], strides = [136 : i64, 1 : i64]}
// CHECK-NEXT:      %[[S2:.*]] = "loop.view"(%[[IN]]) {offset = 16384 : i64, shape = [128 : i64, 8 : i64], strides = [1 : i64, 128 : i64]}
// CHECK:           }) {lower = 0 : i64, step = 1 : i64, upper = 128 : i64} : () -> ()
// CHECK-NOT:     lf.transpose
func.func @transpose(%x: tensor<136x128xf32>) -> tensor<128x136xf32> {
  %0 = "lf.transpose"(%x) {perm = [1, 0]} : (tensor<136x128xf32>) -> tensor<128x136xf32>
  "func.return"(%0) : (tensor<128x136xf32>) -> ()
}

// -----

// A small transpose is one plain nest over a view with the permuted strides.
// CHECK-LABEL: func.func @transpose_small
// CHECK:         ^bb0(%[[OUT:.*]]: memref<8x4xi1>, %[[IN:.*]]: memref<4x8xi1>):
// CHECK-NEXT:      %[[S:.*]] = "loop.view"(%[[IN]]) {shape = [8 : i64, 4 : i64], strides = [1 : i64, 8 : i64]} : (memref<4x8xi1>) -> memref<8x4xi1, strided<[1, 8]>>
// CHECK:             %[[V:.*]] = "loop.load"(%[[S]], %{{.*}}, %{{.*}}) : (memref<8x4xi1, strided<[1, 8]>>, index, index) -> i1
// CHECK-NEXT:        "loop.store"(%[[V]], %[[OUT]], %{{.*}}, %{{.*}}) : (i1, memref<8x4xi1>, index, index) -> ()
func.func @transpose_small(%x: tensor<4x8xi1>) -> tensor<8x4xi1> {
  %0 = "lf.transpose"(%x) {perm = [1, 0]} : (tensor<4x8xi1>) -> tensor<8x4xi1>
  "func.return"(%0) : (tensor<8x4xi1>) -> ()
}

// -----

// A strided slice with a negative step: one view from the last row read, stride -2 rows.
// CHECK-LABEL: func.func @reverse
// CHECK:         ^bb0(%[[OUT:.*]]: memref<3x5xi32>, %[[IN:.*]]: memref<6x5xi32>):
// CHECK-NEXT:      %[[S:.*]] = "loop.view"(%[[IN]]) {offset = 25 : i64, shape = [3 : i64, 5 : i64], strides = [-10 : i64, 1 : i64]} : (memref<6x5xi32>) -> memref<3x5xi32, strided<[-10, 1], offset: 25>>
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:        "loop.for"() ({
// CHECK-NEXT:        ^bb0(%[[J:.*]]: index):
// CHECK-NEXT:          %[[V:.*]] = "loop.load"(%[[S]], %[[I]], %[[J]])
// CHECK-NEXT:          "loop.store"(%[[V]], %[[OUT]], %[[I]], %[[J]])
// CHECK-NEXT:          "lf.yield"() : () -> ()
// CHECK-NEXT:        }) {lower = 0 : i64, step = 1 : i64, upper = 5 : i64, vector = true} : () -> ()
// CHECK-NEXT:        "lf.yield"() : () -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 3 : i64} : () -> ()
func.func @reverse(%x: tensor<6x5xi32>) -> tensor<3x5xi32> {
  %0 = "lf.strided_slice"(%x) {begin = [5, 0], end = [0, 0], strides = [-2, 1], begin_mask = 0, end_mask = 2, ellipsis_mask = 0, new_axis_mask = 0, shrink_axis_mask = 0} : (tensor<6x5xi32>) -> tensor<3x5xi32>
  "func.return"(%0) : (tensor<3x5xi32>) -> ()
}

// -----

// A slice of whole rows is one flat loop from the first element read.
// CHECK-LABEL: func.func @slice
// CHECK:         ^bb0(%[[OUT:.*]]: memref<2x5xf32>, %[[IN:.*]]: memref<6x5xf32>):
// CHECK-NEXT:      %[[D:.*]] = "loop.view"(%[[OUT]]) {shape = [10 : i64], strides = [1 : i64]} : (memref<2x5xf32>) -> memref<10xf32>
// CHECK-NEXT:      %[[S:.*]] = "loop.view"(%[[IN]]) {offset = 15 : i64, shape = [10 : i64], strides = [1 : i64]} : (memref<6x5xf32>) -> memref<10xf32, strided<[1], offset: 15>>
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:        %[[V:.*]] = "loop.load"(%[[S]], %[[I]])
// CHECK-NEXT:        "loop.store"(%[[V]], %[[D]], %[[I]])
// CHECK-NEXT:        "lf.yield"() : () -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64, upper = 10 : i64, vector = true} : () -> ()
func.func @slice(%x: tensor<6x5xf32>) -> tensor<2x5xf32> {
  %0 = "lf.slice"(%x) {begin = [3, 0], size = [2, -1]} : (tensor<6x5xf32>) -> tensor<2x5xf32>
  "func.return"(%0) : (tensor<2x5xf32>) -> ()
}

// -----

// BroadcastTo reads the broadcast dims with stride 0 (bool elements as i1).
// CHECK-LABEL: func.func @broadcast
// CHECK:         ^bb0(%[[OUT:.*]]: memref<2x3x4xi1>, %[[IN:.*]]: memref<3x1xi1>):
// CHECK-NEXT:      %[[S:.*]] = "loop.view"(%[[IN]]) {shape = [2 : i64, 3 : i64, 4 : i64], strides = [0 : i64, 1 : i64, 0 : i64]}
// CHECK:                 %[[V:.*]] = "loop.load"(%[[S]], %{{.*}}, %{{.*}}, %{{.*}}) : (memref<2x3x4xi1, strided<[0, 1, 0]>>, index, index, index) -> i1
// CHECK-NEXT:            "loop.store"(%[[V]], %[[OUT]], %{{.*}}, %{{.*}}, %{{.*}})
// CHECK:           }) {lower = 0 : i64, step = 1 : i64, upper = 4 : i64, vector = true} : () -> ()
func.func @broadcast(%x: tensor<3x1xi1>) -> tensor<2x3x4xi1> {
  %0 = "lf.broadcast_to"(%x) {shape = [2, 3, 4]} : (tensor<3x1xi1>) -> tensor<2x3x4xi1>
  "func.return"(%0) : (tensor<2x3x4xi1>) -> ()
}

// -----

// OnesLike: the constant stored over one flat loop; the operand is never read.
// CHECK-LABEL: func.func @fill
// CHECK:         ^bb0(%[[OUT:.*]]: memref<3x4xf32>, %{{.*}}: memref<3x4xf32>):
// CHECK-NEXT:      %[[ONE:.*]] = "loop.constant"() {type = f32, value = 1.0 : f64} : () -> f32
// CHECK-NEXT:      %[[D:.*]] = "loop.view"(%[[OUT]]) {shape = [12 : i64], strides = [1 : i64]}
// CHECK-NEXT:      "loop.for"() ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:        "loop.store"(%[[ONE]], %[[D]], %[[I]]) : (f32, memref<12xf32>, index) -> ()
// CHECK-NOT:     loop.load
func.func @fill(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %0 = "lf.fill_like"(%x) {value = 1} : (tensor<3x4xf32>) -> tensor<3x4xf32>
  "func.return"(%0) : (tensor<3x4xf32>) -> ()
}

// -----

// Tile: each dim as (repeat, dim), the repeat read with stride 0.
// CHECK-LABEL: func.func @tile
// CHECK:         ^bb0(%[[OUT:.*]]: memref<4x9xf32>, %[[IN:.*]]: memref<2x3xf32>):
// CHECK-NEXT:      %[[D:.*]] = "loop.view"(%[[OUT]]) {shape = [2 : i64, 2 : i64, 3 : i64, 3 : i64], strides = [18 : i64, 9 : i64, 3 : i64, 1 : i64]}
// CHECK-NEXT:      %[[S:.*]] = "loop.view"(%[[IN]]) {shape = [2 : i64, 2 : i64, 3 : i64, 3 : i64], strides = [0 : i64, 3 : i64, 0 : i64, 1 : i64]}
// CHECK:                 "loop.load"(%[[S]],
// CHECK-NEXT:            "loop.store"(%{{.*}}, %[[D]],
func.func @tile(%x: tensor<2x3xf32>) -> tensor<4x9xf32> {
  %0 = "lf.tile"(%x) {multiples = [2, 3]} : (tensor<2x3xf32>) -> tensor<4x9xf32>
  "func.return"(%0) : (tensor<4x9xf32>) -> ()
}

// -----

// Concat along the last axis: each operand stored through a view of the result from its
// place (offset 3 for the second), rows of 8.
// CHECK-LABEL: func.func @concat
// CHECK:         ^bb0(%[[OUT:.*]]: memref<2x8xf32>, %[[A:.*]]: memref<2x3xf32>, %[[B:.*]]: memref<2x5xf32>):
// CHECK-NEXT:      %[[D1:.*]] = "loop.view"(%[[OUT]]) {shape = [2 : i64, 3 : i64], strides = [8 : i64, 1 : i64]}
// CHECK:               "loop.load"(%[[A]],
// CHECK-NEXT:          "loop.store"(%{{.*}}, %[[D1]],
// CHECK:           %[[D2:.*]] = "loop.view"(%[[OUT]]) {offset = 3 : i64, shape = [2 : i64, 5 : i64], strides = [8 : i64, 1 : i64]} : (memref<2x8xf32>) -> memref<2x5xf32, strided<[8, 1], offset: 3>>
// CHECK:               "loop.load"(%[[B]],
// CHECK-NEXT:          "loop.store"(%{{.*}}, %[[D2]],
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) -> tensor<2x8xf32> {
  %0 = "lf.concat"(%a, %b) {axis = 1} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  "func.return"(%0) : (tensor<2x8xf32>) -> ()
}

// -----

// Stack along a new last axis: each operand a column of the result (stride 2, offset 0 and 1).
// CHECK-LABEL: func.func @stack
// CHECK:         ^bb0(%[[OUT:.*]]: memref<4x2xf32>, %[[A:.*]]: memref<4xf32>, %[[B:.*]]: memref<4xf32>):
// CHECK-NEXT:      %[[D1:.*]] = "loop.view"(%[[OUT]]) {shape = [4 : i64], strides = [2 : i64]}
// CHECK:           "loop.store"(%{{.*}}, %[[D1]],
// CHECK:           %[[D2:.*]] = "loop.view"(%[[OUT]]) {offset = 1 : i64, shape = [4 : i64], strides = [2 : i64]}
// CHECK:           "loop.store"(%{{.*}}, %[[D2]],
func.func @stack(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4x2xf32> {
  %0 = "lf.stack"(%a, %b) {axis = 1} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4x2xf32>
  "func.return"(%0) : (tensor<4x2xf32>) -> ()
}

// -----

// SplitV: one kernel with two results, each piece read from its offset in the operand.
// CHECK-LABEL: func.func @split
// CHECK:         %{{.*}}:2 = "loop.kernel"(%arg0) ({
// CHECK-NEXT:    ^bb0(%[[P:.*]]: memref<4x2xf32>, %[[Q:.*]]: memref<4x4xf32>, %[[IN:.*]]: memref<4x6xf32>):
// CHECK-NEXT:      %[[S1:.*]] = "loop.view"(%[[IN]]) {shape = [4 : i64, 2 : i64], strides = [6 : i64, 1 : i64]}
// CHECK:               "loop.load"(%[[S1]],
// CHECK-NEXT:          "loop.store"(%{{.*}}, %[[P]],
// CHECK:           %[[S2:.*]] = "loop.view"(%[[IN]]) {offset = 2 : i64, shape = [4 : i64, 4 : i64], strides = [6 : i64, 1 : i64]}
// CHECK:               "loop.load"(%[[S2]],
// CHECK-NEXT:          "loop.store"(%{{.*}}, %[[Q]],
func.func @split(%x: tensor<4x6xf32>) -> (tensor<4x2xf32>, tensor<4x4xf32>) {
  %0, %1 = "lf.split"(%x) {axis = 1, num_split = 2, size_splits = [2, -1]} : (tensor<4x6xf32>) -> (tensor<4x2xf32>, tensor<4x4xf32>)
  "func.return"(%0, %1) : (tensor<4x2xf32>, tensor<4x4xf32>) -> ()
}

// -----

// Unstack: each row of the operand one result.
// CHECK-LABEL: func.func @unstack
// CHECK:         ^bb0(%[[P:.*]]: memref<3xf32>, %[[Q:.*]]: memref<3xf32>, %[[IN:.*]]: memref<2x3xf32>):
// CHECK:           "loop.store"(%{{.*}}, %[[P]],
// CHECK:           %[[S2:.*]] = "loop.view"(%[[IN]]) {offset = 3 : i64, shape = [3 : i64], strides = [1 : i64]}
// CHECK:           "loop.store"(%{{.*}}, %[[Q]],
func.func @unstack(%x: tensor<2x3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %0, %1 = "lf.unstack"(%x) {axis = 0, num = 2} : (tensor<2x3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  "func.return"(%0, %1) : (tensor<3xf32>, tensor<3xf32>) -> ()
}

// -----

// Pad with a constant: the padded row stores the constant, the operand's rows are copied
// after it (offset 3).
// CHECK-LABEL: func.func @pad
// CHECK:         ^bb0(%[[OUT:.*]]: memref<3x3xf32>, %[[IN:.*]]: memref<2x3xf32>):
// CHECK-NEXT:      %[[C:.*]] = "loop.constant"() {type = f32, value = 7.0 : f64} : () -> f32
// CHECK-NEXT:      %[[D1:.*]] = "loop.view"(%[[OUT]]) {shape = [3 : i64], strides = [1 : i64]}
// CHECK:             "loop.store"(%[[C]], %[[D1]],
// CHECK:           %[[D2:.*]] = "loop.view"(%[[OUT]]) {offset = 3 : i64, shape = [6 : i64], strides = [1 : i64]}
// CHECK-NEXT:      %[[S2:.*]] = "loop.view"(%[[IN]]) {shape = [6 : i64], strides = [1 : i64]}
func.func @pad(%x: tensor<2x3xf32>) -> tensor<3x3xf32> {
  %0 = "lf.pad"(%x) {paddings = [[1, 0], [0, 0]], mode = "CONSTANT", constant_values = 7} : (tensor<2x3xf32>) -> tensor<3x3xf32>
  "func.return"(%0) : (tensor<3x3xf32>) -> ()
}

// -----

// MirrorPad (REFLECT): the edges read the operand backwards (stride -1), without its edge
// element.
// CHECK-LABEL: func.func @mirror
// CHECK:         ^bb0(%[[OUT:.*]]: memref<7xf32>, %[[IN:.*]]: memref<4xf32>):
// CHECK-NEXT:      %[[D1:.*]] = "loop.view"(%[[OUT]]) {shape = [2 : i64], strides = [1 : i64]}
// CHECK-NEXT:      %[[S1:.*]] = "loop.view"(%[[IN]]) {offset = 2 : i64, shape = [2 : i64], strides = [-1 : i64]} : (memref<4xf32>) -> memref<2xf32, strided<[-1], offset: 2>>
// CHECK:           "loop.view"(%[[OUT]]) {offset = 2 : i64, shape = [4 : i64], strides = [1 : i64]}
// CHECK:           "loop.view"(%[[OUT]]) {offset = 6 : i64, shape = [], strides = []}
// CHECK-NEXT:      "loop.view"(%[[IN]]) {offset = 2 : i64, shape = [], strides = []}
func.func @mirror(%x: tensor<4xf32>) -> tensor<7xf32> {
  %0 = "lf.pad"(%x) {paddings = [[2, 1]], mode = "REFLECT", constant_values = 0} : (tensor<4xf32>) -> tensor<7xf32>
  "func.return"(%0) : (tensor<7xf32>) -> ()
}

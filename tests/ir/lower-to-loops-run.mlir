// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p plan-buffers,lower-to-loops --split-input-file | lowerflow-opt - --split-input-file | filecheck %s

// RunRange: the run-time dims (the last operand) loaded as an index bound the loop, which
// carries the running value (stored, then delta added: TF1's kernel); the result is flat.
// CHECK-LABEL: func.func @range
// CHECK:         ^bb0(%[[OUT:.*]]: memref<?xf32>, %[[S:.*]]: memref<f32>, %[[D:.*]]: memref<f32>, %[[DIMS:.*]]: memref<1xi64>):
// CHECK-NEXT:      %[[C0:.*]] = "loop.const_index"() {value = 0 : i64} : () -> index
// CHECK-NEXT:      %[[K:.*]] = "loop.load"(%[[DIMS]], %[[C0]]) : (memref<1xi64>, index) -> i64
// CHECK-NEXT:      %[[N:.*]] = "loop.to_index"(%[[K]]) : (i64) -> index
// CHECK-NEXT:      %[[FIRST:.*]] = "loop.load"(%[[S]]) : (memref<f32>) -> f32
// CHECK-NEXT:      %[[STEP:.*]] = "loop.load"(%[[D]]) : (memref<f32>) -> f32
// CHECK-NEXT:      "loop.for"(%[[N]], %[[FIRST]]) ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index, %[[V:.*]]: f32):
// CHECK-NEXT:        "loop.store"(%[[V]], %[[OUT]], %[[I]]) : (f32, memref<?xf32>, index) -> ()
// CHECK-NEXT:        %[[NEXT:.*]] = "loop.scalar"(%[[V]], %[[STEP]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:        "lf.yield"(%[[NEXT]]) : (f32) -> ()
// CHECK-NEXT:      }) {lower = 0 : i64, step = 1 : i64} : (index, f32) -> f32
func.func @range(%s: tensor<f32>, %d: tensor<f32>, %n: tensor<1xi64>) -> tensor<?xf32> {
  %0 = "lf.run_range"(%s, %d, %n) : (tensor<f32>, tensor<f32>, tensor<1xi64>) -> tensor<?xf32>
  "func.return"(%0) : (tensor<?xf32>) -> ()
}

// -----

// RunFill: one flat loop over the product of the run-time dims.
// CHECK-LABEL: func.func @fill
// CHECK:         %[[A:.*]] = "loop.to_index"
// CHECK:         %[[B:.*]] = "loop.to_index"
// CHECK-NEXT:    %[[N:.*]] = "loop.index_arith"(%[[A]], %[[B]]) {op = "mul"} : (index, index) -> index
// CHECK-NEXT:    %[[V:.*]] = "loop.load"(%{{.*}}) : (memref<i32>) -> i32
// CHECK-NEXT:    "loop.for"(%[[N]]) ({
// CHECK-NEXT:    ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:      "loop.store"(%[[V]], %{{.*}}, %[[I]]) : (i32, memref<?xi32>, index) -> ()
func.func @fill(%s: tensor<i32>, %k: tensor<2xi64>) -> tensor<?x?xi32> {
  %0 = "lf.run_fill"(%s, %k) : (tensor<i32>, tensor<2xi64>) -> tensor<?x?xi32>
  "func.return"(%0) : (tensor<?x?xi32>) -> ()
}

// -----

// RunOneHot on axis 0: loops over the dims before the axis (none: 1), the run-time depth
// and the dims after it; `on` where the index equals the depth's index; the flat index
// (a * depth + d) * 4 + c.
// CHECK-LABEL: func.func @one_hot
// CHECK:         %[[DEPTH:.*]] = "loop.to_index"
// CHECK-NEXT:    %[[ON:.*]] = "loop.constant"() {type = f32, value = 1.0 : f64} : () -> f32
// CHECK-NEXT:    %[[OFF:.*]] = "loop.constant"() {type = f32, value = 0.0 : f64} : () -> f32
// CHECK-NEXT:    "loop.for"() ({
// CHECK-NEXT:    ^bb0(%[[A:.*]]: index):
// CHECK-NEXT:      "loop.for"(%[[DEPTH]]) ({
// CHECK-NEXT:      ^bb0(%[[D:.*]]: index):
// CHECK-NEXT:        "loop.for"() ({
// CHECK-NEXT:        ^bb0(%[[C:.*]]: index):
// CHECK:               %[[X:.*]] = "loop.load"(%{{.*}}, %{{.*}}) : (memref<4xi64>, index) -> i64
// CHECK-NEXT:          %[[DI:.*]] = "loop.index_cast"(%[[D]]) {type = i64} : (index) -> i64
// CHECK-NEXT:          %[[HOT:.*]] = "loop.scalar"(%[[X]], %[[DI]]) {op = "lf.eq"} : (i64, i64) -> i1
// CHECK-NEXT:          %[[E:.*]] = "loop.scalar"(%[[HOT]], %[[ON]], %[[OFF]]) {op = "lf.select"} : (i1, f32, f32) -> f32
// CHECK-NEXT:          %[[R:.*]] = "loop.index_arith"(%[[A]], %[[DEPTH]]) {op = "mul"}
// CHECK-NEXT:          %[[RD:.*]] = "loop.index_arith"(%[[R]], %[[D]]) {op = "add"}
// CHECK-NEXT:          %[[FOUR:.*]] = "loop.const_index"() {value = 4 : i64}
// CHECK-NEXT:          %[[R4:.*]] = "loop.index_arith"(%[[RD]], %[[FOUR]]) {op = "mul"}
// CHECK-NEXT:          %[[AT:.*]] = "loop.index_arith"(%[[R4]], %[[C]]) {op = "add"}
// CHECK-NEXT:          "loop.store"(%[[E]], %{{.*}}, %[[AT]]) : (f32, memref<?xf32>, index) -> ()
// CHECK:             }) {lower = 0 : i64, step = 1 : i64, upper = 4 : i64} : () -> ()
// CHECK:           }) {lower = 0 : i64, step = 1 : i64} : (index) -> ()
// CHECK:         }) {lower = 0 : i64, step = 1 : i64, upper = 1 : i64} : () -> ()
func.func @one_hot(%i: tensor<4xi64>, %n: tensor<1xi64>) -> tensor<?x4xf32> {
  %0 = "lf.run_one_hot"(%i, %n) {axis = 0 : i64, dtype = f32, off_value = 0.0 : f64, on_value = 1.0 : f64} : (tensor<4xi64>, tensor<1xi64>) -> tensor<?x4xf32>
  "func.return"(%0) : (tensor<?x4xf32>) -> ()
}

// -----

// RunReshape: the operand's 6 elements copied in order by a static loop (the dims are not read).
// CHECK-LABEL: func.func @reshape
// CHECK:         %[[X:.*]] = "loop.view"(%{{.*}}) {shape = [6 : i64], strides = [1 : i64]} : (memref<2x3xi64>) -> memref<6xi64>
// CHECK-NEXT:    "loop.for"() ({
// CHECK-NEXT:    ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:      %[[V:.*]] = "loop.load"(%[[X]], %[[I]]) : (memref<6xi64>, index) -> i64
// CHECK-NEXT:      "loop.store"(%[[V]], %{{.*}}, %[[I]]) : (i64, memref<?xi64>, index) -> ()
// CHECK-NEXT:      "lf.yield"() : () -> ()
// CHECK-NEXT:    }) {lower = 0 : i64, step = 1 : i64, upper = 6 : i64} : () -> ()
// CHECK-NOT:     loop.to_index
func.func @reshape(%x: tensor<2x3xi64>, %k: tensor<2xi64>) -> tensor<?x?xi64> {
  %0 = "lf.run_reshape"(%x, %k) : (tensor<2x3xi64>, tensor<2xi64>) -> tensor<?x?xi64>
  "func.return"(%0) : (tensor<?x?xi64>) -> ()
}

// -----

// RunTile: loops over the result's run-time dims, each index taken modulo the operand's dim.
// CHECK-LABEL: func.func @tile
// CHECK:         %[[R:.*]] = "loop.to_index"
// CHECK:         %[[C:.*]] = "loop.to_index"
// CHECK-NEXT:    "loop.for"(%[[R]]) ({
// CHECK-NEXT:    ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:      "loop.for"(%[[C]]) ({
// CHECK-NEXT:      ^bb0(%[[J:.*]]: index):
// CHECK-NEXT:        %[[TWO:.*]] = "loop.const_index"() {value = 2 : i64}
// CHECK-NEXT:        %{{.*}} = "loop.index_arith"(%[[I]], %[[TWO]]) {op = "mod"}
// CHECK-NEXT:        %[[THREE:.*]] = "loop.const_index"() {value = 3 : i64}
// CHECK-NEXT:        %{{.*}} = "loop.index_arith"(%[[J]], %[[THREE]]) {op = "mod"}
// CHECK:             %[[V:.*]] = "loop.load"(%{{.*}}, %{{.*}}) : (memref<6xi64>, index) -> i64
// CHECK-NEXT:        %[[ROW:.*]] = "loop.index_arith"(%[[I]], %[[C]]) {op = "mul"}
// CHECK-NEXT:        %[[AT:.*]] = "loop.index_arith"(%[[ROW]], %[[J]]) {op = "add"}
// CHECK-NEXT:        "loop.store"(%[[V]], %{{.*}}, %[[AT]]) : (i64, memref<?xi64>, index) -> ()
func.func @tile(%x: tensor<2x3xi64>, %t: tensor<2xi64>) -> tensor<?x?xi64> {
  %0 = "lf.run_tile"(%x, %t) : (tensor<2x3xi64>, tensor<2xi64>) -> tensor<?x?xi64>
  "func.return"(%0) : (tensor<?x?xi64>) -> ()
}

// -----

// RunMap reads its run-time-sized operand at the flat point and the static one (the trailing
// dims) at the point modulo its size; RunReduce of a mean sets the output to 0, folds every
// element into its output element, then divides by the run-time count.
// CHECK-LABEL: func.func @map_reduce
// CHECK:         ^bb0(%[[M:.*]]: memref<?xf32>, %[[H:.*]]: memref<?xf32>, %[[B:.*]]: memref<4xf32>, %{{.*}}: memref<1xi64>):
// CHECK:           %[[N:.*]] = "loop.to_index"
// CHECK-NEXT:      %[[FOUR:.*]] = "loop.const_index"() {value = 4 : i64}
// CHECK-NEXT:      %[[TOTAL:.*]] = "loop.index_arith"(%[[FOUR]], %[[N]]) {op = "mul"}
// CHECK-NEXT:      "loop.for"(%[[TOTAL]]) ({
// CHECK-NEXT:      ^bb0(%[[I:.*]]: index):
// CHECK-NEXT:        %[[X:.*]] = "loop.load"(%[[H]], %[[I]]) : (memref<?xf32>, index) -> f32
// CHECK-NEXT:        %[[F:.*]] = "loop.const_index"() {value = 4 : i64}
// CHECK-NEXT:        %[[J:.*]] = "loop.index_arith"(%[[I]], %[[F]]) {op = "mod"}
// CHECK-NEXT:        %[[Y:.*]] = "loop.load"(%[[B]], %[[J]]) : (memref<4xf32>, index) -> f32
// CHECK-NEXT:        %[[P:.*]] = "loop.scalar"(%[[X]], %[[Y]]) {op = "lf.mul"} : (f32, f32) -> f32
// CHECK-NEXT:        "loop.store"(%[[P]], %[[M]], %[[I]]) : (f32, memref<?xf32>, index) -> ()
// CHECK:         ^bb0(%[[OUT:.*]]: memref<4xf32>, %[[IN:.*]]: memref<?xf32>, %{{.*}}: memref<1xi64>):
// CHECK:           %[[R:.*]] = "loop.to_index"
// CHECK-NEXT:      %[[ZERO:.*]] = "loop.constant"() {type = f32, value = 0.0 : f64} : () -> f32
// CHECK:             "loop.store"(%[[ZERO]], %[[OUT]], %{{.*}}) : (f32, memref<4xf32>, index) -> ()
// CHECK:           "loop.for"(%[[R]]) ({
// CHECK:               %[[ACC:.*]] = "loop.load"(%[[OUT]], %[[C:.*]]) : (memref<4xf32>, index) -> f32
// CHECK:               %[[E:.*]] = "loop.load"(%[[IN]], %{{.*}}) : (memref<?xf32>, index) -> f32
// CHECK-NEXT:          %[[S:.*]] = "loop.fold"(%[[ACC]], %[[E]]) {op = "lf.add"} : (f32, f32) -> f32
// CHECK-NEXT:          "loop.store"(%[[S]], %[[OUT]], %[[C]]) : (f32, memref<4xf32>, index) -> ()
// CHECK:           %[[COUNT:.*]] = "loop.index_cast"(%[[R]]) {type = i64} : (index) -> i64
// CHECK-NEXT:      %[[DIV:.*]] = "loop.scalar"(%[[COUNT]]) {op = "lf.cast", to = f32} : (i64) -> f32
// CHECK:             %[[Q:.*]] = "loop.scalar"(%{{.*}}, %[[DIV]]) {op = "lf.div"} : (f32, f32) -> f32
func.func @map_reduce(%i: tensor<4xi64>, %b: tensor<4xf32>, %n: tensor<1xi64>) -> (tensor<?x4xf32>, tensor<?x4xf32>, tensor<4xf32>) {
  %0 = "lf.run_one_hot"(%i, %n) {axis = 0 : i64, dtype = f32, off_value = 0.0 : f64, on_value = 1.0 : f64} : (tensor<4xi64>, tensor<1xi64>) -> tensor<?x4xf32>
  %1 = "lf.run_map"(%0, %b, %n) {op = "lf.mul"} : (tensor<?x4xf32>, tensor<4xf32>, tensor<1xi64>) -> tensor<?x4xf32>
  %2 = "lf.run_reduce"(%0, %n) {axes = [0], keepdims = false, op = "lf.reduce_mean"} : (tensor<?x4xf32>, tensor<1xi64>) -> tensor<4xf32>
  "func.return"(%0, %1, %2) : (tensor<?x4xf32>, tensor<?x4xf32>, tensor<4xf32>) -> ()
}

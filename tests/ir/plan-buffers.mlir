// RUN: lowerflow-opt %s -p plan-buffers --split-input-file | filecheck %s
// RUN: lowerflow-opt %s -p plan-buffers --split-input-file --print-buffer-plan 2>&1 >/dev/null | filecheck %s --check-prefix=TABLE

// A chain of 2 KiB temporaries needs two arena slots: each op takes the offset of a
// temporary that died before it, never that of its own operand. The returned value
// goes straight to its output slot (-1).
// CHECK-LABEL: func.func @chain
// CHECK-NEXT:    "lf.neg"(%arg0) {lf.offset = [0 : i64]}
// CHECK-NEXT:    "lf.exp"(%{{.*}}) {lf.offset = [2048 : i64]}
// CHECK-NEXT:    "lf.sqrt"(%{{.*}}) {lf.offset = [0 : i64]}
// CHECK-NEXT:    "lf.log"(%{{.*}}) {lf.offset = [2048 : i64]}
// CHECK-NEXT:    "lf.abs"(%{{.*}}) {lf.offset = [-1 : i64]}
// CHECK-NEXT:    "func.return"(%{{.*}}) {lf.arena_size = 4096 : i64}
// TABLE-LABEL: @chain: arena 4096 bytes
// TABLE-NEXT:  value  op       bytes  buffer              live
// TABLE-NEXT:  %0     lf.neg   2048   arena [0, 2048)     0..1
// TABLE-NEXT:  %1     lf.exp   2048   arena [2048, 4096)  1..2
// TABLE-NEXT:  %2     lf.sqrt  2048   arena [0, 2048)     2..3
// TABLE-NEXT:  %3     lf.log   2048   arena [2048, 4096)  3..4
// TABLE-NEXT:  %4     lf.abs   2048   result #0           -
func.func @chain(%x: tensor<256xf64>) -> tensor<256xf64> {
  %0 = "lf.neg"(%x) : (tensor<256xf64>) -> tensor<256xf64>
  %1 = "lf.exp"(%0) : (tensor<256xf64>) -> tensor<256xf64>
  %2 = "lf.sqrt"(%1) : (tensor<256xf64>) -> tensor<256xf64>
  %3 = "lf.log"(%2) : (tensor<256xf64>) -> tensor<256xf64>
  %4 = "lf.abs"(%3) : (tensor<256xf64>) -> tensor<256xf64>
  "func.return"(%4) : (tensor<256xf64>) -> ()
}

// -----

// Constants are views: no buffer. Sizes round up to 64 bytes. A value used late keeps
// its bytes while later temporaries are placed around it; a fusion's results are
// planned one by one.
// CHECK-LABEL: func.func @mixed
// CHECK-NEXT:    "lf.constant"() {value = {{.*}}} :
// CHECK-NEXT:    "lf.add"(%arg0, %{{.*}}) {lf.offset = [0 : i64]}
// CHECK-NEXT:    "lf.mul"(%{{.*}}, %{{.*}}) {lf.offset = [64 : i64]}
// CHECK-NEXT:    "lf.fusion"(%{{.*}}) ({
// CHECK:         }) {lf.offset = [-1 : i64, 128 : i64]}
// CHECK-NEXT:    "lf.sub"(%{{.*}}, %{{.*}}) {lf.offset = [-1 : i64]}
// CHECK-NEXT:    "func.return"(%{{.*}}, %{{.*}}) {lf.arena_size = 192 : i64}
// TABLE-LABEL: @mixed: arena 192 bytes
// TABLE:       %0     lf.constant  12     view              -
// TABLE-NEXT:  %1     lf.add       12     arena [0, 64)     1..4
// TABLE-NEXT:  %2     lf.mul       12     arena [64, 128)   2..3
// TABLE-NEXT:  %3#0   lf.fusion    12     result #0         -
// TABLE-NEXT:  %3#1   lf.fusion    12     arena [128, 192)  3..4
// TABLE-NEXT:  %6     lf.sub       12     result #1         -
func.func @mixed(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %c = "lf.constant"() {value = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>} : () -> tensor<3xf32>
  %a = "lf.add"(%x, %c) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %m = "lf.mul"(%a, %a) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %f:2 = "lf.fusion"(%m) ({
  ^bb0(%y: tensor<3xf32>):
    %e = "lf.exp"(%y) : (tensor<3xf32>) -> tensor<3xf32>
    %t = "lf.tanh"(%y) : (tensor<3xf32>) -> tensor<3xf32>
    "lf.yield"(%e, %t) : (tensor<3xf32>, tensor<3xf32>) -> ()
  }) : (tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  %s = "lf.sub"(%f#1, %a) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  "func.return"(%f#0, %s) : (tensor<3xf32>, tensor<3xf32>) -> ()
}

// -----

// Unknown dims leave a function unplanned (its sizes are unknown).
// CHECK-LABEL: func.func @dynamic
// CHECK-NEXT:    %[[N:.*]] = "lf.neg"(%arg0) : (tensor<?xf32>) -> tensor<?xf32>
// TABLE:       @dynamic: no buffer plan: not every shape is static
func.func @dynamic(%x: tensor<?xf32>) -> tensor<?xf32> {
  %n = "lf.neg"(%x) : (tensor<?xf32>) -> tensor<?xf32>
  %e = "lf.exp"(%n) : (tensor<?xf32>) -> tensor<?xf32>
  "func.return"(%e) : (tensor<?xf32>) -> ()
}

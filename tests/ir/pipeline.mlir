// RUN: lowerflow-opt %s -p prune,constant-fold,dce,fuse | filecheck %s
// RUN: lowerflow-opt %s -p dce,prune,fuse --print-ir-after-change 2>&1 >/dev/null | filecheck %s --check-prefix=CHANGE
// RUN: lowerflow-opt %s -p prune,dce --print-ir-before=dce --print-ir-after-all 2>&1 >/dev/null | filecheck %s --check-prefix=DUMP
// RUN: lowerflow-opt %s | filecheck %s --check-prefix=NOPASS

// The default pipeline: fold 2*2, drop the dead op, fuse the rest.
// CHECK-LABEL: func.func @step
// CHECK-NEXT:    %[[C:.*]] = "lf.constant"() {value = dense<4.0> : tensor<4xf32>}
// CHECK-NEXT:    %[[F:.*]] = "lf.fusion"(%arg0, %[[C]])
// CHECK:         "func.return"(%[[F]])

// After dce, prune has nothing left to do, so its dump is left out.
// CHANGE:      // -----// IR Dump After dce //----- //
// CHANGE-NOT:  IR Dump After prune
// CHANGE:      // -----// IR Dump After fuse //----- //

// DUMP:        // -----// IR Dump After prune //----- //
// DUMP:        // -----// IR Dump Before dce //----- //
// DUMP:        // -----// IR Dump After dce //----- //

// NOPASS:      "lf.mul"
// NOPASS:      "lf.tanh"
func.func @step(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %c = "lf.constant"() {value = dense<2.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %c2 = "lf.mul"(%c, %c) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = "lf.exp"(%x) : (tensor<3x4xf32>) -> tensor<3x4xf32>
  %dead = "lf.tanh"(%0) : (tensor<3x4xf32>) -> tensor<3x4xf32>
  %1 = "lf.add"(%0, %c2) : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  "func.return"(%1) : (tensor<3x4xf32>) -> ()
}

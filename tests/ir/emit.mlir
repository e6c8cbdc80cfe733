// RUN: lowerflow-opt %s -p fuse --emit=llvm | filecheck %s --check-prefix=LLVM
// RUN: lowerflow-opt %s -p fuse --emit=asm | filecheck %s --check-prefix=ASM

// The elementwise step, fused, as optimised LLVM IR: one exported entry, the kernel
// inlined into it, its loop vectorised.
// LLVM: define {{.*}}i32 @step(ptr
// LLVM: fadd {{.*}}<{{[0-9]+}} x float>
// LLVM: fmul {{.*}}<{{[0-9]+}} x float>
// LLVM: ret i32
// ASM: step:
// ASM: {{v?}}addps
// ASM: {{v?}}mulps
func.func @step(%x: tensor<64xf32>, %y: tensor<64xf32>) -> tensor<64xf32> {
  %0 = "lf.add"(%x, %y) : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  %1 = "lf.mul"(%0, %y) : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  "func.return"(%1) : (tensor<64xf32>) -> ()
}

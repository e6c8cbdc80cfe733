/* Calls the MLP that examples/aot_tf_frozen.py trained in TensorFlow, froze and compiled with
 * `lowerflow aot`: reads a batch from x.bin (float32, row-major), prints one row of class
 * probabilities per example. */
#include <stdio.h>
#include "mlp.h"

int main(void) {
    static float x[mlp_ARG0_SIZE], probs[mlp_RESULT0_SIZE];
    FILE *f = fopen("x.bin", "rb");
    if (f == NULL || fread(x, sizeof x[0], mlp_ARG0_SIZE, f) != mlp_ARG0_SIZE) {
        fprintf(stderr, "cannot read %d floats from x.bin\n", mlp_ARG0_SIZE);
        return 1;
    }
    fclose(f);
    int rc = mlp_run(x, probs);
    if (rc != 0) {
        fprintf(stderr, "mlp_run failed: %s\n", mlp_error(rc));
        return 1;
    }
    const long classes = mlp_RESULT0_SHAPE[1];
    for (long i = 0; i < mlp_RESULT0_SHAPE[0]; ++i) {
        for (long j = 0; j < classes; ++j)
            printf("%s%.9g", j ? " " : "", (double)probs[i * classes + j]);
        printf("\n");
    }
    return 0;
}

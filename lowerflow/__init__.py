"""lowerflow: TF1 graphs compiled to native code. `import lowerflow as tf`."""

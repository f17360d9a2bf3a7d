// Package nets builds the workbench's two reference backbones (DESIGN §2) as
// gorgonia graphs: a small residual network ("resnet", the CPU default) and
// a small Swin transformer ("swin", the paper's family). Each of the four
// stages S1..S4 can carry a head: an output processing module (OPM) that
// maps the stage's feature map to a K-dim vector, and an output layer that
// maps that vector to class logits.
//
// A Model owns the parameters (one *tensor.Dense each, in a fixed order) and
// the batch-norm running statistics. Build adds one forward pass of the
// model to a graph; several graphs built from one Model share its parameter
// tensors, so an optimizer that updates the tensors in place updates every
// graph at once. Complexity gives exact parameter counts and forward FLOPs,
// split into the inference part (backbone and S4 head) and the training-only
// extra heads (the paper's Table 7).
//
// This package must not know about schedules, losses, optimizers or data
// sets: it builds forward passes and counts their cost. The resnet's
// convolutions and norms come from internal/ops; everything else is
// composed from gorgonia's built-in operations, whose gradients are checked
// by finite differences in this package's tests.
package nets

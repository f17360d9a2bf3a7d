// Package ops holds the custom gorgonia operations the workbench's networks
// are built from. For the resnet: convolution, batch normalisation
// (training and inference, with an optional fused ReLU), the fused residual
// join relu(a+b), global average pooling. For the swin (linear.go,
// layers.go, window.go): linear layers on sgemm over any rank, LayerNorm,
// GELU (AVX2 kernels in ops/vec), residual sums, the mean over tokens,
// (shifted) window attention with its relative position bias, and patch
// embedding and merging as index maps. And a stop-gradient, plus the BLAS
// set-up they need.
//
// Every op works on float32 (training) or float64 (gradient checks), is
// differentiated symbolically (gorgonia.Grad, then run in order by a
// TapeMachine or the trainer's executor; the LispMachine's DoDiff path is
// not supported), and has a finite-difference
// gradient test in this package.
//
// Memory: the transformer ops can keep their outputs and activation
// gradients in an Arena shared by graphs that run one after the other (the
// trainer's update graphs), instead of one set per graph.
//
// Ownership of values: for speed, an op returns the same output tensor on
// every run instead of allocating a new one. A value read from one of these
// nodes (Node.Value, gorgonia.Read) is therefore overwritten by the next run
// of the machine: copy what must outlive a step.
//
// Threads: importing the package makes OpenBLAS single-threaded
// (openblas_set_num_threads(1), no environment variable needed) and makes
// gorgonia's own matrix products use OpenBLAS. Kernels split their work
// over up to GOMAXPROCS goroutines themselves (the caller and idle helper
// goroutines; parallel.go); two thread pools would fight over the cores.
// Float32 convolutions run on oneDNN, one single-threaded call per fixed
// slot of the batch (dnnl.go). Building needs OpenBLAS and oneDNN (Debian:
// libopenblas-dev, libdnnl-dev).
//
// Each op instance belongs to one node of one graph. Ops keep per-run state
// (saved batch statistics, workspaces, the gradients of secondary inputs), so
// one graph must not be run by two machines at the same time.
//
// This package must not know about networks, schedules, losses or data: it
// provides layers' arithmetic only, and the nets package composes them.
package ops

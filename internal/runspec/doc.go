// Package runspec is what a training run is, as plain values: its Config
// (hashed to recognise identical runs), the metric and summary keys, and the
// progress events a trainer emits. It links no graph code and no OpenBLAS,
// so the store, the experiment specs, the tables and the TUI describe runs
// without the trainer; internal/train computes them.
package runspec

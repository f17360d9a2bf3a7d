// Package fault marks the moments where a crash must not lose or duplicate
// data (inside a metrics transaction, between a checkpoint's temporary file
// and its rename, ...), so that fault tests can kill the process exactly
// there.
//
// In a normal build Point does nothing and costs nothing. A binary built
// with the tag "faultinject" reads $WORKBENCH_FAULT, a comma-separated list
// of NAME:N, and kills itself with SIGKILL the N-th time it reaches the
// point NAME. Only tests build it that way.
package fault

// The points the workbench marks.
const (
	// MetricsBeforeCommit: inside a metrics transaction, after its inserts.
	MetricsBeforeCommit = "metrics-before-commit"
	// CheckpointHalfWritten: half of a checkpoint's temporary file written.
	CheckpointHalfWritten = "checkpoint-half-written"
	// CheckpointBeforeCommit: the temporary file is complete and synced,
	// the metric points of its steps are not yet committed.
	CheckpointBeforeCommit = "checkpoint-before-commit"
	// CheckpointBeforeRename: the points are committed, the file not yet
	// renamed into place.
	CheckpointBeforeRename = "checkpoint-before-rename"
)

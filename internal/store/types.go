package store

import (
	"fmt"
	"math"
	"time"
)

// Status is where a run stands.
type Status string

// The statuses of a run. A run is created queued, becomes running when a
// worker starts it, and ends finished, failed (an error), diverged (a loss
// became NaN or Inf) or interrupted (stopped by a signal or its process died;
// `workbench resume` continues it from its checkpoint).
const (
	Queued      Status = "queued"
	Running     Status = "running"
	Finished    Status = "finished"
	Failed      Status = "failed"
	Interrupted Status = "interrupted"
	Diverged    Status = "diverged"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{Queued, Running, Finished, Failed, Interrupted, Diverged}

// ParseStatus checks a status name.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown run status %q (allowed: queued, running, finished, failed, interrupted, diverged)", s)
}

// Done reports whether the status is final (the run will not change again
// unless it is rerun or resumed).
func (s Status) Done() bool { return s == Finished || s == Failed || s == Diverged }

// Study is one study spec as it was last run.
type Study struct {
	Name     string
	Title    string
	Spec     string // the spec file's text
	SpecHash string
	Created  time.Time
	Updated  time.Time
}

// StudyInfo is a study with its run counts.
type StudyInfo struct {
	Study
	Total    int            // runs the study uses (its own and reused ones), all statuses
	Finished int            // runs with status finished
	Counts   map[Status]int // runs per status
}

// Provenance records where and with what a run was computed.
type Provenance struct {
	Host        string
	PID         int
	GoVersion   string
	GitCommit   string
	GitDirty    bool
	CodeVersion string // what the config hash includes, e.g. the commit (+dirty)
	// BLAS is the OpenBLAS kernel set the process trains with (e.g.
	// "Cooperlake"): results are bit-reproducible only on the same one.
	BLAS               string
	Dataset            string // data set spec, e.g. "synthetic"
	DatasetFingerprint string
}

// Progress is where a running run is; the runner writes it with each heartbeat.
type Progress struct {
	Step         int
	Batch        int
	TotalBatches int
	Epoch        int
	ImagesPerSec float64
	// Latest holds the newest value of each metric key (losses, lr, acc.*).
	Latest map[string]float64
}

// Fraction is Batch/TotalBatches in [0, 1] (0 when unknown).
func (p Progress) Fraction() float64 {
	if p.TotalBatches <= 0 {
		return 0
	}
	return math.Min(1, float64(p.Batch)/float64(p.TotalBatches))
}

// Run is one training run: one variant of a study with one seed.
type Run struct {
	ID         int64
	Study      string
	Variant    string
	Seed       int64
	Config     string // canonical JSON of the effective train.Config
	ConfigHash string

	Status       Status
	Error        string
	DivergedStep int64 // the step at which the loss stopped being finite (Status == Diverged)
	// CheckpointStep is the step of the newest checkpoint whose metric
	// points are all committed (-1: none yet). A resume continues from the
	// checkpoint file, which is never ahead of it.
	CheckpointStep int64

	Created   time.Time
	Started   time.Time // first start (zero: never started)
	Ended     time.Time // zero while queued or running
	Heartbeat time.Time
	Attempts  int // starts, counting resumes

	Provenance
	Progress Progress
}

// Duration is the run's wall time from first start to end (or to the last
// heartbeat while it runs).
func (r Run) Duration() time.Duration {
	if r.Started.IsZero() {
		return 0
	}
	end := r.Ended
	if end.IsZero() {
		end = r.Heartbeat
	}
	if end.Before(r.Started) {
		return 0
	}
	return end.Sub(r.Started)
}

// Artifact is a file or blob that belongs to a run.
type Artifact struct {
	ID      int64
	RunID   int64
	Kind    string // ArtifactCheckpoint, "gradcam", ...
	Name    string
	Path    string // a file (recorded relative to Store.ArtifactDir when under it; Artifacts returns it resolved), or
	Blob    []byte // the bytes, when stored inline (nil from Artifacts; see ArtifactBlob)
	Size    int64  // bytes in Blob, when inline
	Created time.Time
}

// ArtifactCheckpoint is the kind of a run's training checkpoint.
const ArtifactCheckpoint = "checkpoint"

// Metric is one logged number.
type Metric struct {
	RunID int64
	Key   string // train.Key* names
	Step  int    // optimizer updates so far
	Epoch int
	Value float64 // NaN is stored as NULL and read back as NaN
	Time  time.Time
}

// Point is one point of a metric series.
type Point struct {
	Step  int
	Epoch int
	Value float64
	Time  time.Time
	N     int // logged points averaged into this one (1 unless downsampled)
}

// Series is the points of one metric key of one run, in step order.
type Series struct {
	RunID  int64
	Key    string
	Points []Point
}

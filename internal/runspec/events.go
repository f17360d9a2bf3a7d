package runspec

import (
	"errors"
	"fmt"
)

// Metric and summary keys. The same words are used in runs.db, the tables,
// the plots and the TUI.
const (
	// Per logged step (metrics).
	KeyLossCE2 = "loss.ce2"
	KeyLossCE3 = "loss.ce3"
	KeyLossCE4 = "loss.ce4"
	KeyLossKD  = "loss.kd"
	KeyLR      = "lr"
	// Per evaluated epoch (metrics) and at the end (summaries): top-1 in percent.
	KeyAccS2       = "acc.S2"
	KeyAccS3       = "acc.S3"
	KeyAccS4       = "acc.S4"
	KeyAccEnsemble = "acc.S3+S4"
	// Final evaluation under test-time flips (summaries), per head:
	// "acc.hflip.S4", "acc.vflip.S3", ... built with FlipKey.
	// Complexity (summaries, DESIGN §2 / paper Table 7).
	KeyParamsInference = "params.inference" // backbone + S4 OPM + S4 output layer
	KeyParamsExtra     = "params.extra"     // training-only OPMs and output layers
	KeyFLOPsInference  = "flops.inference"  // forward FLOPs (2 × multiply-adds) per image
	KeyFLOPsExtra      = "flops.extra"
	KeyTrainSeconds    = "train_seconds"
	KeyImagesPerSec    = "images_per_sec"
)

// FlipKey names the accuracy of head ("S2", "S3", "S4", "S3+S4") under a
// test-time flip ("hflip" or "vflip"), e.g. FlipKey("vflip", "S4") = "acc.vflip.S4".
func FlipKey(flip, head string) string { return "acc." + flip + "." + head }

// Logger receives progress events. The store, the CLI's progress bars and the
// TUI implement it; the trainer does not know them. Calls come from the
// training goroutine and must return quickly.
type Logger interface {
	Step(StepEvent)
	Epoch(EpochEvent)
}

// StepEvent is emitted every Config.LogEvery batches.
type StepEvent struct {
	Step         int                // optimizer updates so far (all updates of all batches)
	Batch        int                // batches done so far, over all epochs
	TotalBatches int                // batches in the whole run
	Epoch        int                // 1-based epoch in progress
	LR           float64            // learning rate of the last update
	Losses       map[string]float64 // KeyLossCE2 ... KeyLossKD, for the components the schedule has
	ImagesPerSec float64            // training images per second over the last interval
}

// EpochEvent is emitted after each evaluated epoch.
type EpochEvent struct {
	Epoch   int                // 1-based
	Step    int                // optimizer updates so far
	Metrics map[string]float64 // KeyAccS2 ..., for the heads that are trained
	Seconds float64            // wall time of the run so far
}

// Options are how a run is hosted, as opposed to what it computes (Config).
type Options struct {
	Logger Logger // may be nil
	// CheckpointPath is where the run's checkpoint file lives. When it exists
	// and Resume is set, the run continues from it exactly.
	CheckpointPath string
	Resume         bool
	// CheckpointEvery writes a checkpoint every N batches (0: only at epoch
	// ends and when cancelled).
	CheckpointEvery int
	// Commit, when set, is called with the step a new checkpoint is at,
	// after its file is written and before it replaces the previous one.
	// The host commits the metric points logged so far (see
	// store.MetricWriter.Commit); an error keeps the previous checkpoint
	// and stops the run.
	Commit func(step int) error
}

// Result is what a finished run leaves behind: its final numbers.
type Result struct {
	Summaries map[string]float64
	Steps     int
}

// ErrInterrupted is returned (wrapped) when the context is cancelled: the run
// stopped after its current update and wrote a checkpoint to resume from.
var ErrInterrupted = errors.New("run interrupted")

// DivergedError is returned when a loss became NaN or Inf.
type DivergedError struct {
	Step int
	Loss string
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("diverged: %s is not finite at step %d", e.Loss, e.Step)
}

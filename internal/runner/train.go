package runner

import (
	"context"
	"fmt"

	"github.com/mksmt/workbench/internal/data"
	"github.com/mksmt/workbench/internal/train"
)

// DefaultTrain is the workbench's TrainFunc: it opens the run's data set at
// the config's image size (data.Open keeps it for the next runs of the
// process) and trains with train.Run.
func DefaultTrain(ctx context.Context, cfg train.Config, opts train.Options) (train.Result, error) {
	ds, err := data.Open(cfg.Dataset, cfg.ImageSize)
	if err != nil {
		return train.Result{}, err
	}
	if ctx.Err() != nil {
		return train.Result{}, fmt.Errorf("before training: %w", train.ErrInterrupted)
	}
	return train.Run(ctx, cfg, ds, opts)
}

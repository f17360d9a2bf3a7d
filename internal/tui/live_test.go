package tui

import (
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/runspec"
	"github.com/mksmt/workbench/internal/store"
)

// The progress row follows the metric stream, not the heartbeat.
func TestStreamProgress(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	pts := func(key string, from, to int, every time.Duration, value func(step int) float64) []store.Point {
		var out []store.Point
		for s := from; s <= to; s++ {
			out = append(out, store.Point{Step: s, Epoch: 1 + s/100, Value: value(s), Time: t0.Add(time.Duration(s) * every), N: 1})
		}
		return out
	}
	run := store.Run{ID: 1, Status: store.Running, Started: t0, Heartbeat: t0.Add(time.Minute),
		// The heartbeat is behind: step 100 of 2 updates per batch.
		Progress: store.Progress{Step: 100, Batch: 50, TotalBatches: 1000, Epoch: 2, ImagesPerSec: 10}}
	for _, tc := range []struct {
		name   string
		run    store.Run
		stream map[string][]store.Point
		want   liveProgress
	}{
		{
			// Step 300 at 4 steps/s = 2 batches/s; 150 of 1000 batches done,
			// 850 left: 425 s.
			name: "stream ahead of the heartbeat",
			run:  run,
			stream: map[string][]store.Point{
				runspec.KeyLR:           pts(runspec.KeyLR, 281, 300, 250*time.Millisecond, func(int) float64 { return 0.1 }),
				runspec.KeyImagesPerSec: pts(runspec.KeyImagesPerSec, 281, 300, 250*time.Millisecond, func(s int) float64 { return float64(s) }),
			},
			want: liveProgress{step: 300, epoch: 4, batch: 150, total: 1000, imagesPerSec: 300, eta: 425 * time.Second, fromStream: true},
		},
		{
			// No heartbeat progress yet: one batch per step, no total, no ETA.
			name: "before the first heartbeat",
			run:  store.Run{ID: 2, Status: store.Running, Started: t0},
			stream: map[string][]store.Point{
				runspec.KeyLR: pts(runspec.KeyLR, 1, 9, time.Second, func(int) float64 { return 0.1 }),
			},
			want: liveProgress{step: 9, epoch: 1, batch: 9, eta: -1, fromStream: true},
		},
		{
			// The stream cannot be behind the heartbeat: older points (a
			// resumed run's first logs) are ignored, and the ETA is the pace
			// so far: 50 batches in a minute, 950 left.
			name:   "stream behind",
			run:    run,
			stream: map[string][]store.Point{runspec.KeyLR: pts(runspec.KeyLR, 1, 20, time.Second, func(int) float64 { return 0.1 })},
			want:   liveProgress{step: 100, epoch: 2, batch: 50, total: 1000, imagesPerSec: 10, eta: 19 * time.Minute},
		},
		{
			// The stream ends at the total: 100 %, nothing left.
			name: "done",
			run:  run,
			stream: map[string][]store.Point{
				runspec.KeyLR: pts(runspec.KeyLR, 1990, 2000, time.Second, func(int) float64 { return 0.1 }),
			},
			want: liveProgress{step: 2000, epoch: 21, batch: 1000, total: 1000, imagesPerSec: 10, eta: 0, fromStream: true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := streamProgress(tc.run, tc.stream)
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

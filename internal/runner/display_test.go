package runner

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/train"
)

func TestFmtDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{7 * time.Second, "7s"},
		{205*time.Second + 400*time.Millisecond, "3m25s"},
		{time.Hour + 2*time.Minute + 3*time.Second, "1h02m"},
	}
	for _, tt := range tests {
		if got := fmtDuration(tt.d); got != tt.want {
			t.Errorf("fmtDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// runningTask is a task 30 s into a 100-batch run that did batches 10..40.
func runningTask(now time.Time) *task {
	cfg := train.DefaultConfig()
	cfg.Epochs = 4
	tk := &task{id: 12, job: Job{Study: "table9", Variant: "two-step", Seed: 1, Config: cfg}, running: true, started: now.Add(-40 * time.Second)}
	tk.rateFrom.at, tk.rateFrom.batch = now.Add(-30*time.Second), 10
	tk.prog = store.Progress{Batch: 40, TotalBatches: 100, Epoch: 2, ImagesPerSec: 310.4}
	return tk
}

func TestSnapshot(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name string
		task func() *task
		bar  string
		line string
	}{
		{"midway", func() *task { return runningTask(now) },
			"#12  table9/two-step seed 1     [████████░░░░░░░░░░░░]  40% ETA 1m00s  epoch 2/4  310 img/s  elapsed 40s",
			"run 12 table9/two-step seed 1:  40%  epoch 2/4  310 img/s  elapsed 40s  ETA 1m00s"},
		{"no events yet", func() *task {
			tk := runningTask(now)
			tk.prog, tk.rateFrom.at = store.Progress{}, time.Time{}
			return tk
		}, "#12  table9/two-step seed 1     [░░░░░░░░░░░░░░░░░░░░]   0% ETA ?      elapsed 40s",
			"run 12 table9/two-step seed 1:   0%  elapsed 40s  ETA ?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := snapshotOf(tt.task(), now)
			if got := s.bar(); got != tt.bar {
				t.Errorf("bar:\n got %q\nwant %q", got, tt.bar)
			}
			if got := s.line(); got != tt.line {
				t.Errorf("line:\n got %q\nwant %q", got, tt.line)
			}
		})
	}
}

func TestDisplayModes(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tk := runningTask(now)
	tasks := func() []*task { return []*task{tk} }

	var tty bytes.Buffer
	d := newDisplay(&tty, true, tasks)
	d.now = func() time.Time { return now }
	d.refresh()
	d.logf("run %d finished", 11)
	d.finish()
	d.logf("after")
	got := tty.String()
	// bars drawn, erased (cursor up + clear) before the log line, redrawn,
	// erased for good at finish; lines after finish are plain.
	if strings.Count(got, "[████████░") != 2 || strings.Count(got, "\x1b[1A\x1b[J") != 2 ||
		!strings.Contains(got, "run 11 finished\n") || !strings.HasSuffix(got, "\x1b[1A\x1b[Jafter\n") {
		t.Fatalf("TTY output %q", got)
	}

	var plain bytes.Buffer
	d = newDisplay(&plain, false, tasks)
	d.now = func() time.Time { return now }
	d.refresh()
	d.refresh() // same tenth: not repeated
	tk.prog.Batch = 55
	d.refresh()
	want := "run 12 table9/two-step seed 1:  40%  epoch 2/4  310 img/s  elapsed 40s  ETA 1m00s\n" +
		"run 12 table9/two-step seed 1:  55%  epoch 2/4  310 img/s  elapsed 40s  ETA 30s\n"
	if plain.String() != want {
		t.Fatalf("plain output:\n%s\nwant:\n%s", plain.String(), want)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Fatal("escape sequences in plain output")
	}

	// Bars are cut to the terminal's width.
	var narrow bytes.Buffer
	d = newDisplay(&narrow, true, tasks)
	d.now, d.width = func() time.Time { return now }, 40
	d.refresh()
	if line := strings.TrimSuffix(narrow.String(), "\n"); len([]rune(line)) != 39 || !strings.HasSuffix(line, "…") {
		t.Fatalf("bar on a 40-column terminal: %q", line)
	}

	// A nil writer shows nothing and does not block.
	d = newDisplay(nil, true, tasks)
	d.logf("x")
	var wg sync.WaitGroup
	wg.Add(1)
	stop := make(chan struct{})
	close(stop)
	d.loop(stop, &wg)
	d.finish()
}

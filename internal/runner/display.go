package runner

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/mksmt/workbench/internal/report"
)

// display shows the runner's progress: on a terminal one bar per running
// run, redrawn in place under the log lines; otherwise plain log lines and a
// progress line per run at every tenth of it.
type display struct {
	w       io.Writer
	tty     bool
	tasks   func() []*task
	now     func() time.Time
	width   int // columns; bars are cut to width-1 so they never wrap
	mu      sync.Mutex
	drawn   int // bar lines on screen (TTY)
	stopped bool
}

func newDisplay(w io.Writer, tty bool, tasks func() []*task) *display {
	return &display{w: w, tty: tty, tasks: tasks, now: time.Now, width: 80}
}

// logf writes one log line (above the bars on a terminal).
func (d *display) logf(format string, args ...any) {
	if d.w == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clear()
	fmt.Fprintf(d.w, format+"\n", args...)
	if d.tty && !d.stopped {
		d.draw()
	}
}

// loop refreshes the display until stop is closed.
func (d *display) loop(stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	if d.w == nil {
		return
	}
	every := time.Second
	if d.tty {
		every = 250 * time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			d.refresh()
		}
	}
}

func (d *display) refresh() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	if d.tty {
		d.clear()
		d.draw()
		return
	}
	for _, t := range d.tasks() {
		s := snapshotOf(t, d.now())
		tenth := int(s.fraction * 10)
		t.mu.Lock()
		show := tenth > t.shown && tenth < 10
		if show {
			t.shown = tenth
		}
		t.mu.Unlock()
		if show {
			fmt.Fprintln(d.w, s.line())
		}
	}
}

// finish removes the bars for good.
func (d *display) finish() {
	if d.w == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clear()
	d.stopped = true
}

// clear erases the bars drawn last (TTY).
func (d *display) clear() {
	if !d.tty || d.drawn == 0 {
		return
	}
	fmt.Fprintf(d.w, "\x1b[%dA\x1b[J", d.drawn)
	d.drawn = 0
}

func (d *display) draw() {
	tasks := d.tasks()
	var b strings.Builder
	for _, t := range tasks {
		b.WriteString(trim(snapshotOf(t, d.now()).bar(), d.width-1))
		b.WriteByte('\n')
	}
	io.WriteString(d.w, b.String())
	d.drawn = len(tasks)
}

// snapshot is what the display shows of one run.
type snapshot struct {
	id       int64
	label    string
	fraction float64
	epoch    int
	epochs   int
	imgs     float64
	eta      time.Duration // <0: unknown
	elapsed  time.Duration
}

func snapshotOf(t *task, now time.Time) snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := snapshot{id: t.id, label: t.label(), fraction: t.prog.Fraction(), epoch: t.prog.Epoch,
		epochs: t.job.Config.Epochs, imgs: t.prog.ImagesPerSec, eta: -1}
	if !t.started.IsZero() {
		s.elapsed = now.Sub(t.started)
	}
	done := t.prog.Batch - t.rateFrom.batch
	if since := now.Sub(t.rateFrom.at); done > 0 && since > 0 && !t.rateFrom.at.IsZero() {
		perBatch := since / time.Duration(done)
		s.eta = perBatch * time.Duration(max(0, t.prog.TotalBatches-t.prog.Batch))
	}
	return s
}

const barWidth = 20

// bar renders "#12 table9/two-step seed 1 [██████░░░░]  45% ETA 12s  epoch 2/4  310 img/s  elapsed 20s".
func (s snapshot) bar() string {
	full := int(s.fraction*barWidth + 0.5)
	eta := "ETA ?"
	if s.eta >= 0 {
		eta = "ETA " + fmtDuration(s.eta)
	}
	return fmt.Sprintf("#%-3d %-26s [%s%s] %3.0f%% %-10s %s", s.id, trim(s.label, 26),
		strings.Repeat("█", full), strings.Repeat("░", barWidth-full), 100*s.fraction, eta, strings.Join(s.counters(), "  "))
}

// line renders the plain progress line.
func (s snapshot) line() string {
	return fmt.Sprintf("run %d %s: %3.0f%%  %s", s.id, s.label, 100*s.fraction, s.stats())
}

// counters are the epoch, rate and elapsed time that bar and line both show.
func (s snapshot) counters() []string {
	parts := []string{}
	if s.epochs > 0 && s.epoch > 0 {
		parts = append(parts, fmt.Sprintf("epoch %d/%d", s.epoch, s.epochs))
	}
	if s.imgs > 0 {
		parts = append(parts, fmt.Sprintf("%.0f img/s", s.imgs))
	}
	return append(parts, "elapsed "+fmtDuration(s.elapsed))
}

func (s snapshot) stats() string {
	parts := s.counters()
	if s.eta >= 0 {
		parts = append(parts, "ETA "+fmtDuration(s.eta))
	} else {
		parts = append(parts, "ETA ?")
	}
	return strings.Join(parts, "  ")
}

// fmtDuration is the workbench's one duration format (report.Duration:
// 7s, 3m25s, 1h02m), a negative span shown as 0s.
func fmtDuration(d time.Duration) string { return report.Duration(max(d, 0)) }

func trim(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	return string(r[:n-1]) + "…"
}

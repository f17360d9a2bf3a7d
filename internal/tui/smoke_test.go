package tui

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/runner"
	"github.com/mksmt/workbench/internal/store"
)

// TestSmokeStudyEndToEnd defines a study in the builder, runs it with the
// smoke profile through the real runner and trainer, and sees it finished
// on Runs and tabulated on Compare.
func TestSmokeStudyEndToEnd(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	st, err := store.Open("runs.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := runner.New(ctx, st, runner.Options{Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	q := &runner.Queue{Runner: r, Store: st, CodeVersion: "tui-test"}
	m, err := New(ctx, Options{Store: st, Runner: q, Refresh: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := start2(t, m)
	s.waitFor("No studies yet")
	s.keys("n")
	s.waitFor("Define a study")
	// name; profile: smoke (one left of quick); seeds: 1. Steps 0 and 2
	// (baseline, two-step) are the default axes.
	s.keys("enter", "smoke-e2e", "down", "down", "down", "left", "down", "enter", "backspace", "backspace", "backspace", "backspace", "1")
	s.until("a valid 2-run plan", func(m *Model) bool {
		p := m.screens[screenBuilder].(*builderScreen).plan
		return p.study != nil && len(p.runs) == 2 && p.study.Profile == "smoke"
	})
	s.keys("ctrl+r") // saves, runs, and shows Live
	s.waitFor("2 queued")
	if _, err := os.Stat("experiments/smoke-e2e.toml"); err != nil {
		t.Fatalf("the study was not saved: %v", err)
	}
	s.until("Live shown", func(m *Model) bool { return m.Active() == screenLive })
	s.keys("3") // Runs
	s.until("both runs finished on Runs", func(m *Model) bool {
		rs := m.screens[screenRuns].(*runsScreen)
		if len(rs.rows) != 2 {
			return false
		}
		for _, row := range rs.rows {
			if row.run.Status != store.Finished {
				if row.run.Status.Done() {
					t.Fatalf("run %d ended %s: %s", row.run.ID, row.run.Status, row.run.Error)
				}
				return false
			}
		}
		return true
	})
	s.keys("tab", "tab") // Live, Compare
	var text string
	s.until("the study tabulated on Compare", func(m *Model) bool {
		c := m.screens[screenCompare].(*compareScreen)
		text = c.text
		return c.textFor == "smoke-e2e" && strings.Contains(c.text, "two-step") && strings.Contains(c.text, "(1)")
	})
	m = s.finish()
	if m.Active() != screenCompare {
		t.Errorf("active screen %d, want Compare", m.Active())
	}
	for _, want := range []string{"baseline", "two-step", "profile smoke"} {
		if !strings.Contains(text, want) {
			t.Errorf("Compare lacks %q:\n%s", want, text)
		}
	}
	// Each variant's row has a cell computed from its one finished seed.
	for _, v := range []string{"│ baseline ", "│ two-step "} {
		ok := false
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, v) && strings.Contains(line, "(1)") {
				ok = true
			}
		}
		if !ok {
			t.Errorf("Compare has no finished cell for %q:\n%s", v, text)
		}
	}
}

package runner

import (
	"strings"
	"testing"

	"github.com/mksmt/workbench/internal/store"
)

func TestNotFinished(t *testing.T) {
	if s := NotFinished([]Outcome{{RunID: 1, Status: store.Finished}, {RunID: 2, Status: store.Diverged}}); s != "" {
		t.Fatalf("finished and diverged runs reported: %q", s)
	}
	got := NotFinished([]Outcome{
		{RunID: 1, Study: "t9", Variant: "a", Seed: 1, Status: store.Finished},
		{RunID: 2, Study: "t9", Variant: "a", Seed: 2, Status: store.Interrupted, Error: "interrupted: checkpoint x: write x.tmp: no space left on device"},
		{RunID: 3, Study: "t9", Variant: "b", Seed: 1, Status: store.Failed, Error: "config: bad\nmore"},
		{RunID: 4, Study: "t9", Variant: "b", Seed: 2, Status: store.Queued, Error: "interrupted: not started; could not record it in runs.db: database or disk is full"},
	})
	for _, want := range []string{
		"3 of 4 run(s) did not finish:",
		"  run 2     t9/a seed 2                      interrupted  checkpoint x: write x.tmp: no space left on device\n",
		"  run 3     t9/b seed 1                      failed       config: bad\n",
		"  run 4     t9/b seed 2                      queued       interrupted: not started;",
		"the disk is full: free space, then `workbench resume`",
		"`workbench resume 3` retries",
		"interrupted: `workbench resume` continues them",
		"queued: could not be marked",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}

package runner

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mksmt/workbench/internal/store"
)

// NotFinished describes every run of outcomes that did not finish, one line
// each with its status and error, then what to do about each kind: a study
// that stops early (a full disk, a failure, Ctrl-C) is reported whole, not
// by its first error. It is "" when every run finished (diverged runs are
// results, not failures).
func NotFinished(outcomes []Outcome) string {
	var b strings.Builder
	n, full := 0, false
	var failed []string
	seen := map[store.Status]bool{}
	for _, o := range outcomes {
		if o.Status == store.Finished || o.Status == store.Diverged {
			continue
		}
		n++
		seen[o.Status] = true
		if o.Status == store.Failed {
			failed = append(failed, fmt.Sprint(o.RunID))
		}
		full = full || strings.Contains(o.Error, "is full") || store.IsFull(errors.New(o.Error))
		why := strings.TrimPrefix(firstLine(o.Error), string(o.Status)+": ") // the status is its own column
		fmt.Fprintf(&b, "  run %-5d %-32s %-12s %s\n", o.RunID,
			fmt.Sprintf("%s/%s seed %d", o.Study, o.Variant, o.Seed), o.Status, why)
	}
	if n == 0 {
		return ""
	}
	head := fmt.Sprintf("%d of %d run(s) did not finish:\n", n, len(outcomes))
	b.WriteString("what next:\n")
	if full {
		b.WriteString("  the disk is full: free space, then `workbench resume` continues every run above\n")
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, "  failed: `workbench show RUN` has the whole error; `workbench resume %s` retries\n", strings.Join(failed, " "))
	}
	if seen[store.Interrupted] {
		b.WriteString("  interrupted: `workbench resume` continues them from their checkpoints\n")
	}
	if seen[store.Queued] {
		b.WriteString("  queued: could not be marked; the next workbench command marks them interrupted, then `workbench resume`\n")
	}
	return head + b.String()
}

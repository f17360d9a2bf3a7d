package tui

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/mksmt/workbench/internal/store"
)

func (d *driver) runs() *runsScreen { return d.m.screens[screenRuns].(*runsScreen) }

// shownIDs are the ids of the rows Runs shows.
func (d *driver) shownIDs() []int64 {
	var out []int64
	for _, r := range d.runs().order {
		out = append(out, r.run.ID)
	}
	return out
}

// filterTo replaces the filter with q and applies it.
func (d *driver) filterTo(q string) {
	d.t.Helper()
	rs := d.runs()
	d.press("/")
	rs.filter.input.SetValue("") // as if deleted while editing
	rs.resort()
	d.press(q)
	d.press("enter")
}

// The Runs screen's / is the filter language of runs --where: fields,
// params, comparisons on summaries, tags; an unknown field is an error
// with did-you-mean that leaves the last valid filter applied; bare words
// still match any cell.
func TestRunsFilterLanguage(t *testing.T) {
	f := newFixture(t)
	d := newDriver(t, f, &fakeRunner{}, screenRuns)
	rs := d.runs()
	d.filterTo("acc.S4>62")
	if len(rs.order) != 4 || rs.queryErr != nil {
		t.Fatalf("acc.S4>62: %v (err %v), want the 4 runs above 62", d.shownIDs(), rs.queryErr)
	}
	for _, r := range rs.order {
		if r.rec.Summaries["acc.S4"] <= 62 {
			t.Errorf("run %d has acc.S4 %v", r.run.ID, r.rec.Summaries["acc.S4"])
		}
	}
	d.filterTo("acc.S4 > 62 two")
	if len(rs.order) != 3 || rs.order[0].run.Variant != "two-step" {
		t.Errorf("acc.S4 > 62 two: %v", d.shownIDs())
	}
	d.filterTo("temprature=4")
	if rs.queryErr == nil || !strings.Contains(rs.queryErr.Error(), "temperature") {
		t.Fatalf("unknown field: err %v, want did-you-mean temperature", rs.queryErr)
	}
	if len(rs.order) != 3 {
		t.Errorf("an invalid filter changed the rows: %v", d.shownIDs())
	}
	shot := screenShot{d.m.View(), 80, 24}
	if !strings.Contains(shot.view, "✗ filter: ") {
		t.Errorf("the error is not shown:\n%s", shot.view)
	}
	defer requireScreen(t, shot)
	d.filterTo("steps=2 status:finished|failed")
	if len(rs.order) != 4 { // three two-step runs and other's failed two-step run
		t.Errorf("steps=2 status:finished|failed: %v", d.shownIDs())
	}
	ctx := context.Background()
	if _, err := f.st.AddTags(ctx, f.ids["two-step/2"], "best"); err != nil {
		t.Fatal(err)
	}
	_, cmd := d.m.Update(runsChangedMsg{})
	d.run(cmd)
	d.filterTo("tag:best")
	if got := d.shownIDs(); len(got) != 1 || got[0] != f.ids["two-step/2"] {
		t.Errorf("tag:best: %v", got)
	}
}

// x archives an ended run after asking (hidden from then on; archived:true
// shows it and x there unarchives it); X removes one for good after
// asking; neither touches a running run.
func TestRunsArchiveAndRemove(t *testing.T) {
	f := newFixture(t)
	d := newDriver(t, f, &fakeRunner{}, screenRuns)
	rs := d.runs()
	ctx := context.Background()
	base1 := f.ids["baseline/1"]

	d.filterTo("variant=baseline seed=1")
	d.press("x")
	if d.m.confirm == nil || !strings.HasPrefix(d.m.confirm.prompt, "Archive run 1?") {
		t.Fatalf("x asks %+v", d.m.confirm)
	}
	d.press("n")
	if mk, _ := f.st.Marks(ctx, base1); mk[base1].IsArchived() {
		t.Fatal("n archived the run")
	}
	d.press("x", "y")
	if mk, _ := f.st.Marks(ctx, base1); !mk[base1].IsArchived() {
		t.Fatal("x, y did not archive the run")
	}
	if len(rs.order) != 0 || rs.hidden != 1 || !strings.Contains(d.m.status, "archived run 1") {
		t.Fatalf("after archiving: shown %v, hidden %d, status %q", d.shownIDs(), rs.hidden, d.m.status)
	}
	d.filterTo("")
	if len(rs.order) != 9 || rs.hidden != 1 {
		t.Errorf("no filter: %d shown, %d hidden; want 9 and 1", len(rs.order), rs.hidden)
	}
	shot := screenShot{d.m.View(), 80, 24}
	d.filterTo("archived:true")
	if got := d.shownIDs(); len(got) != 1 || got[0] != base1 {
		t.Fatalf("archived:true: %v", got)
	}
	d.press("x")
	if d.m.confirm == nil || !strings.HasPrefix(d.m.confirm.prompt, "Unarchive run 1?") {
		t.Fatalf("x on an archived run asks %+v", d.m.confirm)
	}
	d.press("y")
	if mk, _ := f.st.Marks(ctx, base1); mk[base1].IsArchived() {
		t.Fatal("x, y did not unarchive the run")
	}

	failed := f.ids["failed"]
	d.filterTo("status:failed")
	d.press("enter", "X")
	if d.m.confirm == nil || !strings.HasPrefix(d.m.confirm.prompt, "Remove run "+itoa(failed)+" for good?") {
		t.Fatalf("X asks %+v", d.m.confirm)
	}
	d.press("y")
	if _, err := f.st.Run(ctx, failed); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the removed run: %v", err)
	}
	if rs.detail != nil || rs.rows[failed] != nil {
		t.Errorf("the removed run is still shown (detail %v)", rs.detail)
	}

	running := f.ids["running"]
	d.filterTo("status:running")
	d.press("X")
	if d.m.confirm != nil || !strings.Contains(d.m.status, "only ended runs can be removed") {
		t.Errorf("X on a running run: confirm %+v, status %q", d.m.confirm, d.m.status)
	}
	d.press("x")
	if d.m.confirm == nil || !strings.HasPrefix(d.m.confirm.prompt, "Cancel run "+itoa(running)) {
		t.Errorf("x on a running run asks %+v", d.m.confirm)
	}
	requireScreen(t, shot)
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// t tags the selected runs (-name removes a tag), n writes the note of the
// run under the cursor, in a prompt; both are filterable at once.
func TestRunsTagAndNote(t *testing.T) {
	f := newFixture(t)
	d := newDriver(t, f, &fakeRunner{}, screenRuns)
	rs := d.runs()
	ctx := context.Background()
	d.filterTo("variant=two-step status:finished")
	d.press("a", "t")
	if d.m.prompt == nil || !strings.HasPrefix(d.m.prompt.label, "Tags for runs 4, 5, 6") {
		t.Fatalf("t opens %v", promptLabel(d))
	}
	d.press("best lr-sweep")
	shot := screenShot{d.m.View(), 80, 24}
	d.press("enter")
	marks, err := f.st.Marks(ctx, f.ids["two-step/1"], f.ids["two-step/3"], f.ids["baseline/1"])
	must(t, err)
	if got := strings.Join(marks[f.ids["two-step/3"]].Tags, " "); got != "best lr-sweep" || len(marks[f.ids["baseline/1"]].Tags) != 0 {
		t.Fatalf("tags %v", marks)
	}
	d.filterTo("tag:lr-sweep")
	if len(rs.order) != 3 {
		t.Errorf("tag:lr-sweep: %v", d.shownIDs())
	}
	d.press("t", "-lr-sweep", "enter")
	d.filterTo("tag:lr-sweep")
	if len(rs.order) != 2 { // the selection was cleared: only the run under the cursor lost it
		t.Errorf("after -lr-sweep on one run: %v", d.shownIDs())
	}

	d.filterTo("variant=baseline seed=2")
	d.press("n", "ran on a busy machine", "enter")
	id := f.ids["baseline/2"]
	marks, err = f.st.Marks(ctx, id)
	must(t, err)
	if marks[id].Note != "ran on a busy machine" {
		t.Fatalf("note %q", marks[id].Note)
	}
	d.filterTo("note~busy")
	if got := d.shownIDs(); len(got) != 1 || got[0] != id {
		t.Errorf("note~busy: %v", got)
	}
	// In the detail: the note is shown, and n starts from it.
	d.press("enter")
	if text := strings.Join(rs.detail.text(80), "\n"); !strings.Contains(text, "note         ran on a busy machine") {
		t.Errorf("the detail lacks the note:\n%s", text)
	}
	d.press("n")
	if d.m.prompt == nil || d.m.prompt.input.Value() != "ran on a busy machine" {
		t.Fatalf("n in the detail: %q %q", promptLabel(d), promptText(d))
	}
	d.press("esc")
	if d.m.prompt != nil || rs.detail == nil {
		t.Error("esc did not just close the prompt")
	}
	requireScreen(t, shot)
}

func promptLabel(d *driver) string {
	if d.m.prompt == nil {
		return "no prompt"
	}
	return d.m.prompt.label
}

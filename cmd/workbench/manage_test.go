package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/testenv"
)

// ids are the run ids of a runs listing, in order.
func listedIDs(out string) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`(?m)^(\d+)\s+(?:queued|running|finished|failed|interrupted|diverged)\s`).FindAllStringSubmatch(out, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestRunsWhere(t *testing.T) {
	db := runsFixture(t)
	tests := []struct {
		args []string
		ids  string
		line string // a line of the output
	}{
		{[]string{"--where", "steps=2"}, "2 4", "filter: steps = 2 (param) (2 of 4 run(s) match)"},
		{[]string{"--where", "acc.S4>60"}, "1", "filter: acc.S4 > 60 (summary) (1 of 4 run(s) match)"},
		{[]string{"--where", "status:finished|diverged"}, "1 2", ""},
		{[]string{"--where", "profile=smoke, steps=2", "--where", "status:running"}, "4", ""},
		{[]string{"--where", "profile=smoke steps>=2 -status:running"}, "2", ""},
		{[]string{"--where", "study:table10"}, "1", ""}, // reused by table10
		{[]string{"--where", "error~memory"}, "3", ""},
		{[]string{"--where", "steps=2", "--limit", "1"}, "4", "filter: steps = 2 (param) (2 of 4 run(s) match)"}, // the newest matching run
		{[]string{"--where", "acc.S4>99"}, "", "no runs match acc.S4 > 99 (summary) (of 4 run(s) listed)"},
		{[]string{"--param", "steps=2", "--where", "profile:smoke"}, "2 4", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errs, code := cli(t, append([]string{"runs", "--db", db}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if got := strings.Join(listedIDs(out), " "); got != tt.ids {
				t.Errorf("ids %q, want %q:\n%s", got, tt.ids, out)
			}
			if tt.line != "" && !strings.Contains(out, tt.line+"\n") {
				t.Errorf("no line %q:\n%s", tt.line, out)
			}
		})
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--where", "temprature=4"}, `runs: --where: "temprature=4": unknown field "temprature" (did you mean temperature?)`},
		{[]string{"--where", "s4>20"}, `unknown field "s4" (did you mean acc.S4`},
		{[]string{"--where", "status:finised"}, `unknown status "finised" (did you mean finished?)`},
		{[]string{"--where", "acc.S4>high"}, `acc.S4 compares numbers; "high" is not one`},
		{[]string{"--param", "temprature=4"}, `runs: --param temprature=4: unknown param "temprature" (did you mean temperature?)`},
		{[]string{"--param", "step=2"}, `(did you mean steps?)`},
		{[]string{"--archived", "--all"}, "choose one of --archived and --all"},
	} {
		_, errs, code := cli(t, append([]string{"runs", "--db", db}, tt.args...)...)
		if code != 1 || !strings.Contains(errs, tt.want) {
			t.Errorf("runs %v: exit %d, stderr %q; want %q", tt.args, code, errs, tt.want)
		}
	}
}

// TestManageRuns: note, tag, untag, archive, unarchive and rm on the
// fixture, through the verbs, as runs, show and --where see them.
func TestManageRuns(t *testing.T) {
	db := runsFixture(t)
	ok := func(args ...string) string {
		t.Helper()
		out, errs, code := cli(t, append(args, "--db", db)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return out
	}
	fails := func(want string, args ...string) {
		t.Helper()
		_, errs, code := cli(t, append(args, "--db", db)...)
		if code != 1 || !strings.Contains(errs, want) {
			t.Fatalf("%v: exit %d, stderr %q; want %q", args, code, errs, want)
		}
	}

	if out := ok("note", "1", "lr too high; rerun with 0.05"); !strings.Contains(out, "noted run 1 (table9 / baseline, seed 1)") {
		t.Errorf("note: %s", out)
	}
	if out := ok("note", "1"); out != "lr too high; rerun with 0.05\n" {
		t.Errorf("note RUN: %q", out)
	}
	if out := ok("tag", "1", "keep", "paper"); !strings.Contains(out, "tagged run 1 (table9 / baseline, seed 1) keep, paper; tags: keep, paper") {
		t.Errorf("tag: %s", out)
	}
	ok("tag", "2,3", "bad")
	if out := ok("untag", "1", "paper"); !strings.Contains(out, "untagged run 1") || !strings.Contains(out, "tags: keep") {
		t.Errorf("untag: %s", out)
	}
	out := ok("runs")
	if !regexp.MustCompile(`(?m)^1\s+finished\s.*\s+keep\s+lr too high; rerun with 0\.05$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^2\s+diverged\s.*\s+bad\s+diverged at step 42$`).MatchString(out) {
		t.Errorf("runs with tags and notes:\n%s", out)
	}
	if got := strings.Join(listedIDs(ok("runs", "--where", "tag:bad")), " "); got != "2 3" {
		t.Errorf("--where tag:bad: %s", got)
	}
	if got := strings.Join(listedIDs(ok("runs", "--where", "note~RERUN")), " "); got != "1" {
		t.Errorf("--where note~RERUN: %s", got)
	}
	out = ok("show", "1")
	for _, re := range []string{`(?m)^Tags\s+keep$`, `(?m)^Note\s+lr too high; rerun with 0\.05$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("show lacks %s:\n%s", re, out)
		}
	}

	// Archive: hidden by default, listed by --archived and --all.
	fails("archive: run 4 (table9 / two-step, seed 2) is running (pid", "archive", "3", "4")
	if out := ok("archive", "3"); !strings.Contains(out, "archived run 3 (table9 / three-step, seed 1)") {
		t.Errorf("archive: %s", out)
	}
	out = ok("runs")
	if got := strings.Join(listedIDs(out), " "); got != "1 2 4" || !strings.Contains(out, "1 archived run(s) hidden (--all shows them)") {
		t.Errorf("runs after archive:\n%s", out)
	}
	if got := strings.Join(listedIDs(ok("runs", "--archived")), " "); got != "3" {
		t.Errorf("runs --archived: %s", got)
	}
	if got := strings.Join(listedIDs(ok("runs", "--all")), " "); got != "1 2 3 4" {
		t.Errorf("runs --all: %s", got)
	}
	if got := strings.Join(listedIDs(ok("runs", "--where", "archived:true")), " "); got != "3" {
		t.Errorf("--where archived:true: %s", got)
	}
	if out := ok("show", "3"); !regexp.MustCompile(`(?m)^Archived\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(workbench unarchive 3\)$`).MatchString(out) {
		t.Errorf("show of an archived run:\n%s", out)
	}
	var recs []markedRecord
	if err := json.Unmarshal([]byte(ok("runs", "--all", "--json")), &recs); err != nil || len(recs) != 4 {
		t.Fatalf("runs --json: %v %v", err, recs)
	}
	if recs[0].Note == "" || strings.Join(recs[0].Tags, ",") != "keep" || recs[2].Archived == nil || recs[0].Archived != nil {
		t.Errorf("runs --json marks: %+v", recs)
	}
	ok("unarchive", "3")
	if got := strings.Join(listedIDs(ok("runs")), " "); got != "1 2 3 4" {
		t.Errorf("runs after unarchive: %s", got)
	}

	// rm: refused for a running run, more than one needs --yes, then
	// every row and the checkpoint go, and nothing of the others.
	ckpt := filepath.Join(db+".d", "ckpt", "1.ckpt")
	other := filepath.Join(db+".d", "ckpt", "2.ckpt")
	for _, p := range []string{ckpt, ckpt + ".tmp99", other} {
		writeFile(t, p, "checkpoint")
	}
	fails("rm: run 4 (table9 / two-step, seed 2) is running (pid", "rm", "1", "4", "--yes")
	fails("rm: no run 99 in", "rm", "99")
	fails("rm: 2 runs to remove (1, 3): pass --yes to confirm; nothing removed", "rm", "1", "3")
	if _, err := os.Stat(ckpt); err != nil {
		t.Fatal("a refused rm removed a checkpoint")
	}
	out = ok("rm", "1", "--dry-run")
	if !strings.Contains(out, "would remove run 1 (table9 / baseline, seed 1), finished\n  and its checkpoint "+ckpt) {
		t.Errorf("rm --dry-run:\n%s", out)
	}
	out = ok("rm", "1,3", "--yes")
	if !strings.Contains(out, "removed run 1 (table9 / baseline, seed 1), finished") || !strings.Contains(out, "removed 2 run(s) and 2 file(s)") {
		t.Errorf("rm:\n%s", out)
	}
	for _, p := range []string{ckpt, ckpt + ".tmp99"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left (%v)", p, err)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("run 2's checkpoint removed: %v", err)
	}
	if got := strings.Join(listedIDs(ok("runs", "--all")), " "); got != "2 4" {
		t.Errorf("runs after rm: %s", got)
	}
	fails("show: no run 1 in", "show", "1")
	if got := strings.Join(listedIDs(ok("runs", "--study", "table10")), " "); got != "" {
		t.Errorf("table10 still lists %s", got)
	}

	// Bad input names the run or the flag.
	fails(`tag: tag "two words" has ' '`, "tag", "2", "two words")
	fails("tag: name at least one tag", "tag", "2")
	fails("tag: no run 99 in", "tag", "99", "x")
	fails("note: no run 99 in", "note", "99", "text")
	fails("note: --clear takes no text (run 2)", "note", "2", "x", "--clear")
	fails("archive: name the runs", "archive")
	fails(`rm: --where: "stauts:failed": unknown field "stauts" (did you mean status?)`, "rm", "--where", "stauts:failed")
	fails(`archive: "5-3" is not a range of run ids`, "archive", "5-3")
}

func TestTagAndArchiveWhere(t *testing.T) {
	db := runsFixture(t)
	out, errs, code := cli(t, "tag", "--where", "profile=smoke", "smoke-run", "--db", db)
	if code != 0 || strings.Count(out, "tagged run") != 3 {
		t.Fatalf("tag --where: exit %d %s\n%s", code, errs, out)
	}
	// A filter picks no queued or running run to archive: run 4 is skipped, and said so.
	out, errs, code = cli(t, "archive", "--where", "tag:smoke-run", "--db", db)
	if code != 0 || !strings.Contains(errs, "archive: skipped run 4 (table9 / two-step, seed 2): it is running") ||
		strings.Count(out, "archived run") != 2 {
		t.Fatalf("archive --where: exit %d %s\n%s", code, errs, out)
	}
	out, _, _ = cli(t, "runs", "--db", db)
	if got := strings.Join(listedIDs(out), " "); got != "3 4" {
		t.Errorf("runs: %s\n%s", got, out)
	}
	out, _, _ = cli(t, "unarchive", "--where", "study:table9", "--db", db)
	if strings.Count(out, "unarchived run") != 2 {
		t.Errorf("unarchive --where:\n%s", out)
	}
}

func TestDiffVerb(t *testing.T) {
	db := runsFixture(t)
	out, errs, code := cli(t, "diff", "1", "2", "--db", db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, re := range []string{
		`(?m)^\s+run 1\s+run 2$`,
		`(?m)^\* variant\s+baseline\s+two-step$`,
		`(?m)^  study\s+table9\s+table9$`,
		`(?m)^Params \(1 of 2 differ\)$`,
		`(?m)^\* steps\s+0\s+2\n  profile\s+smoke\s+smoke$`, // differences first
		`(?m)^\* acc\.S4\s+61\.25\s+-$`,
		`(?m)^\* loss\.final\s+NaN\s+-$`,
		`(?m)^Metrics, final value @ step \(0 of 1 differ\)$`,
		`(?m)^  loss\.ce4\s+0\.2 @10\s+0\.2 @10$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("diff does not match %s:\n%s", re, out)
		}
	}
	out, _, _ = cli(t, "diff", "1", "2", "--only-diff", "--db", db)
	if strings.Contains(out, "profile") || !strings.Contains(out, "Metrics, final value @ step: all 1 the same in every run") {
		t.Errorf("diff --only-diff:\n%s", out)
	}

	out, _, code = cli(t, "diff", "1", "2", "4", "--json", "--db", db)
	var doc diffDoc
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil {
		t.Fatalf("diff --json: %d %v\n%s", code, err, out)
	}
	if len(doc.Runs) != 3 || doc.Params[0].Key != "steps" || !doc.Params[0].Differ || doc.Differ.Params != 1 ||
		len(doc.Summaries) == 0 || doc.Summaries[0].Values[1] != nil || len(doc.Metrics) != 1 || *doc.Metrics[0].Steps[2] != 10 {
		t.Errorf("diff --json: %+v", doc)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"diff", "1"}, "diff: name two or more runs"},
		{[]string{"diff", "1", "99"}, "diff: no run 99 in"},
		{[]string{"diff", "1", "x"}, `diff: "x" is not a run id`},
	} {
		_, errs, code := cli(t, append(tt.args, "--db", db)...)
		if code != 1 || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, %q; want %q", tt.args, code, errs, tt.want)
		}
	}
}

// TestManageE2E drives the binary through a researcher's session on a
// trained store: tag and note two runs, filter by tag, archive one (hidden,
// then listed with --all), diff two as JSON, and remove two with --yes:
// their rows and checkpoints go, every other run and checkpoint stays, and
// the file passes SQLite's integrity check.
func TestManageE2E(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, seededDB(t), dir)
	db := filepath.Join(dir, "runs.db")
	n := seedRuns(t)
	if n < 4 {
		t.Fatalf("the seed has %d runs, want 4 or more", n)
	}
	workbench(t, "tag", "1-2", "keep", "--db", db)
	workbench(t, "note", "2", "lr looks high", "--db", db)
	out, _ := workbench(t, "runs", "--where", "tag:keep", "--db", db)
	if got := strings.Join(listedIDs(out), " "); got != "1 2" || !strings.Contains(out, "lr looks high") {
		t.Fatalf("runs --where tag:keep:\n%s", out)
	}
	workbench(t, "archive", "3", "--db", db)
	out, _ = workbench(t, "runs", "--db", db)
	if strings.Contains(" "+strings.Join(listedIDs(out), " ")+" ", " 3 ") || !strings.Contains(out, "1 archived run(s) hidden") {
		t.Fatalf("runs after archive:\n%s", out)
	}
	out, _ = workbench(t, "runs", "--all", "--db", db)
	if len(listedIDs(out)) != n {
		t.Fatalf("runs --all lists %d of %d:\n%s", len(listedIDs(out)), n, out)
	}

	out, _ = workbench(t, "diff", "1", "2", "--json", "--db", db)
	var doc diffDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Runs) != 2 || doc.Runs[1].Note != "lr looks high" ||
		len(doc.Params) == 0 || len(doc.Summaries) == 0 || len(doc.Metrics) == 0 {
		t.Fatalf("diff --json: %v\n%s", err, out)
	}

	cmd := workbenchCmd(t, "rm", "1", "3", "--db", db)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "pass --yes to confirm; nothing removed") {
		t.Fatalf("rm of two runs without --yes: %v\n%s", err, out)
	}
	ckpt := func(id string) string { return filepath.Join(dir, "runs.db.d", "ckpt", id+".ckpt") }
	for _, id := range []string{"1", "3", "4"} {
		if _, err := os.Stat(ckpt(id)); err != nil {
			t.Fatalf("checkpoint of run %s before rm: %v", id, err)
		}
	}
	out, _ = workbench(t, "rm", "1,3", "--yes", "--db", db)
	if !strings.Contains(out, "removed 2 run(s) and 2 file(s)") {
		t.Fatalf("rm:\n%s", out)
	}
	for _, id := range []string{"1", "3"} {
		if _, err := os.Stat(ckpt(id)); !os.IsNotExist(err) {
			t.Errorf("checkpoint of removed run %s: %v", id, err)
		}
	}
	if _, err := os.Stat(ckpt("4")); err != nil {
		t.Errorf("checkpoint of run 4: %v", err)
	}
	out, _ = workbench(t, "runs", "--all", "--db", db)
	if got := len(listedIDs(out)); got != n-2 {
		t.Errorf("%d runs left, want %d:\n%s", got, n-2, out)
	}
	out, _ = workbench(t, "gc", "--dry-run", "--keep-finished", "--db", db)
	if !strings.Contains(out, "would remove 0 checkpoint file(s)") {
		t.Errorf("gc finds leftovers after rm:\n%s", out)
	}
	if res := sqliteIntegrity(t, db); res != "ok" {
		t.Errorf("integrity_check: %s", res)
	}
}

// TestManagePostgres: the verbs on a PostgreSQL store: tag, note and
// archive need no artifacts directory; rm needs one, refuses a run a
// worker holds (a lease), and removes the checkpoint of the run it removes.
func TestManagePostgres(t *testing.T) {
	url := testenv.PGSchema(t, "manage_")
	art := t.TempDir()
	ctx := context.Background()
	st, err := store.OpenURL(url, store.Options{Artifacts: art})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutStudy(ctx, store.Study{Name: "s", Spec: "x", SpecHash: "h"}); err != nil {
		t.Fatal(err)
	}
	for i, temp := range []string{"4", "2", "4"} {
		id, err := st.CreateRun(ctx, store.NewRun{Study: "s", Variant: "v" + temp, Seed: int64(i), Config: "{}", ConfigHash: "h" + strconv.Itoa(i),
			Params: map[string]string{"temperature": temp}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 { // held by a worker
			if _, l, err := st.ClaimRun(ctx, store.Provenance{Host: "w1", PID: 7}, store.ClaimFilter{}); err != nil || l.RunID != id {
				t.Fatalf("claim: %v, %v", l, err)
			}
			continue
		}
		if err := st.StartRun(ctx, id, store.Provenance{Host: "h", PID: 1}); err != nil {
			t.Fatal(err)
		}
		if err := st.EndRun(ctx, id, store.End{Status: store.Finished, Summaries: map[string]float64{"acc.S4": 50}}); err != nil {
			t.Fatal(err)
		}
		writeFile(t, st.CheckpointPath(id), "ckpt")
		if _, err := st.AddArtifact(ctx, store.Artifact{RunID: id, Kind: store.ArtifactCheckpoint, Path: st.CheckpointPath(id)}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	ok := func(args ...string) string {
		t.Helper()
		out, errs, code := cli(t, append(args, "--db", url)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return out
	}
	ok("tag", "1", "keep")
	ok("note", "2", "too cold")
	ok("archive", "2")
	if got := strings.Join(listedIDs(ok("runs", "--where", "temperature=4")), " "); got != "1 3" {
		t.Errorf("runs --where temperature=4: %s", got)
	}
	if got := strings.Join(listedIDs(ok("runs", "--where", "tag:keep")), " "); got != "1" {
		t.Errorf("runs --where tag:keep: %s", got)
	}
	if _, errs, code := cli(t, "rm", "3", "--db", url, "--artifacts", art); code != 1 || !strings.Contains(errs, "rm: run 3 (s / v4, seed 2) is running (pid 7 on w1)") {
		t.Errorf("rm of a leased run: exit %d, %s", code, errs)
	}
	if _, errs, code := cli(t, "rm", "1", "--db", url); code != 1 || !strings.Contains(errs, "--artifacts DIR") {
		t.Errorf("rm without --artifacts on PostgreSQL: exit %d, %s", code, errs)
	}
	ok("rm", "1", "--artifacts", art)
	if _, err := os.Stat(filepath.Join(art, "ckpt", "1.ckpt")); !os.IsNotExist(err) {
		t.Errorf("checkpoint of run 1: %v", err)
	}
	if _, err := os.Stat(filepath.Join(art, "ckpt", "2.ckpt")); err != nil {
		t.Errorf("checkpoint of run 2: %v", err)
	}
	if got := strings.Join(listedIDs(ok("runs", "--all")), " "); got != "2 3" {
		t.Errorf("runs --all after rm: %s", got)
	}
}

// export (JSON and CSV) and runs --csv carry each run's archive time, tags
// and note, as runs --json does.
func TestExportCarriesMarks(t *testing.T) {
	db := filepath.Join(t.TempDir(), "runs.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.PutStudy(ctx, store.Study{Name: "m", Spec: "x", SpecHash: "x"}); err != nil {
		t.Fatal(err)
	}
	id, err := st.CreateRun(ctx, store.NewRun{Study: "m", Variant: "v", Seed: 1, Config: "{}", ConfigHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EndRun(ctx, id, store.End{Status: store.Finished}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, args := range [][]string{{"tag", "--db", db, "1", "keep"}, {"note", "--db", db, "1", "lr too high"}, {"archive", "--db", db, "1"}} {
		if _, errs, code := cli(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
	}
	out, errs, code := cli(t, "export", "--db", db)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	var doc struct {
		Runs []struct {
			Archived *time.Time `json:"archived"`
			Tags     []string   `json:"tags"`
			Note     string     `json:"note"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Runs) != 1 || doc.Runs[0].Archived == nil ||
		len(doc.Runs[0].Tags) != 1 || doc.Runs[0].Note != "lr too high" {
		t.Fatalf("export JSON marks: %+v, %v\n%s", doc, err, out)
	}
	for _, args := range [][]string{{"export", "--csv", "--db", db}, {"runs", "--csv", "--all", "--db", db}} {
		out, errs, code := cli(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		col := map[string]string{}
		for i, h := range recs[0] {
			col[h] = recs[1][i]
		}
		if col["archived"] == "" || col["tags"] != "keep" || col["note"] != "lr too high" {
			t.Fatalf("%v: marks columns %q %q %q", args, col["archived"], col["tags"], col["note"])
		}
	}
}

package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mksmt/workbench/internal/store"
)

func TestCancelVerb(t *testing.T) {
	db := filepath.Join(t.TempDir(), "runs.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.PutStudy(ctx, store.Study{Name: "q", Spec: "x", SpecHash: "x"}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i, h := range []string{"a", "b", "c"} {
		id, err := st.CreateRun(ctx, store.NewRun{Study: "q", Variant: h, Seed: int64(i), Config: "{}", ConfigHash: h})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, _, err := st.ClaimRun(ctx, store.Provenance{Host: "node3", PID: 7}, store.ClaimFilter{IDs: ids[1:2]}); err != nil {
		t.Fatal(err)
	}
	if err := st.EndRun(ctx, ids[2], store.End{Status: store.Finished}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, errs, code := cli(t, "cancel", "--db", db, "1-3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"cancelled run 1", "it will not start", "cancelled run 2", "its process on node3 stops at its next heartbeat",
		"was finished: nothing to cancel", "cancelled 2 run(s); workbench resume 1, 2 continues them"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = cli(t, "runs", "--db", db)
	if !strings.Contains(out, "3 run(s): 1 finished, 2 interrupted") {
		t.Fatalf("after cancel:\n%s", out)
	}
	if _, errs, code := cli(t, "cancel", "--db", db); code == 0 || !strings.Contains(errs, "name the runs") {
		t.Fatalf("cancel without runs: exit %d, %s", code, errs)
	}
	if _, errs, code := cli(t, "cancel", "--db", db, "99"); code == 0 || !strings.Contains(errs, "99") {
		t.Fatalf("cancel of an unknown run: exit %d, %s", code, errs)
	}
}

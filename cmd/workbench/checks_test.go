package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestConfirmRuns: up to 200 runs go ahead; more need --yes when stdin or
// stdout is not a terminal, and the refusal says how many and what to pass.
func TestConfirmRuns(t *testing.T) {
	io := IO{In: strings.NewReader("y\n"), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}
	if err := confirmRuns(io, "run", confirmAbove, false); err != nil {
		t.Fatalf("%d runs: %v", confirmAbove, err)
	}
	if err := confirmRuns(io, "run", 5000, true); err != nil {
		t.Fatalf("5000 runs with --yes: %v", err)
	}
	// A "y" on a stdin that is not a terminal is no confirmation.
	err := confirmRuns(io, "run", confirmAbove+1, false)
	if err == nil || !strings.Contains(err.Error(), "run: 201 runs to train (more than 200 in one command): pass --yes") {
		t.Fatalf("201 runs without a terminal: %v", err)
	}
	io.IsTTY = true // stdout a terminal, stdin still a pipe
	if err := confirmRuns(io, "resume", 300, false); err == nil || !strings.Contains(err.Error(), "pass --yes") {
		t.Fatalf("300 runs with stdin not a terminal: %v", err)
	}
}

func TestParseSeeds(t *testing.T) {
	if s, err := parseSeeds("run", " 0, 3 ,7"); err != nil || len(s) != 3 || s[0] != 0 || s[2] != 7 {
		t.Fatalf("parseSeeds: %v, %v", s, err)
	}
	if s, err := parseSeeds("run", ""); err != nil || s != nil {
		t.Fatalf("empty: %v, %v", s, err)
	}
	for in, want := range map[string]string{
		"1,-2":                 "run: --seeds: seed -2 is negative (allowed: 0 or more)",
		"1,2,1":                "run: --seeds: seed 1 is given twice",
		"1,,2":                 `run: --seeds: "" is not an integer`,
		"a":                    `run: --seeds: "a" is not an integer`,
		seq(1, 1001):           "run: --seeds has 1001 seeds (allowed: at most 1000",
		"99999999999999999999": "is not an integer",
	} {
		if _, err := parseSeeds("run", in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseSeeds(%.20q) = %v, want %q", in, err, want)
		}
	}
	if s, err := parseSeeds("run", seq(1, 1000)); err != nil || len(s) != 1000 {
		t.Fatalf("1000 seeds: %d, %v", len(s), err)
	}
}

// failingWriter fails every write, like a closed pipe.
type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

// TestLostOutputFails: a verb whose standard output cannot be written
// exits 1 with the cause, whether the verb checks its writes (export) or
// not (runs, version).
func TestLostOutputFails(t *testing.T) {
	db := runsFixture(t)
	for _, args := range [][]string{
		{"export", "--json", "--db", db},
		{"runs", "--db", db},
		{"show", "1", "--db", db},
		{"version"},
		{"datasets"},
	} {
		var errb bytes.Buffer
		code := runMain(context.Background(), args, IO{In: strings.NewReader(""), Out: failingWriter{syscall.EPIPE}, Err: &errb,
			Getenv: func(string) string { return "" }})
		if code != 1 || !strings.Contains(errb.String(), "broken pipe") || !strings.HasPrefix(errb.String(), "workbench: "+args[0]+": ") {
			t.Errorf("%v to a broken pipe: exit %d, stderr %q", args, code, errb.String())
		}
	}
}

// TestErrorsPrefixedOnce runs failing commands whose errors pass through
// several layers (verb, runner, experiment, data, store) and checks that
// no prefix is said twice in a row.
func TestErrorsPrefixedOnce(t *testing.T) {
	db := runsFixture(t)
	missing := filepath.Join(t.TempDir(), "missing")
	for _, args := range [][]string{
		{"run", "../../experiments/table9.toml", "--profile", "smoke", "--dataset", "imagefolder:" + missing, "--db", filepath.Join(t.TempDir(), "r.db")},
		{"run", "../../experiments/table9.toml", "--profile", "smoke", "--dataset", "nosuch:x", "--db", filepath.Join(t.TempDir(), "r.db")},
		{"run", "no-such-study", "--db", db},
		{"run", "table9", "--jobs", "-1"},
		{"run", "table9", "--profile", "huge"},
		{"resume", "99", "--db", db},
		{"show", "99", "--db", db},
		{"show", "x", "--db", db},
		{"table", "no-such-study", "--db", db},
		{"plot", "table9", "--format", "gif", "--db", db},
		{"export", "--status", "nope", "--db", db},
		{"runs", "--status", "nope", "--db", db},
		{"runs", "--db", missing},
		{"datasets", "show", "imagefolder:" + missing},
		{"datasets", "show", "synthetic", "--split", "val"},
	} {
		_, stderr, code := cli(t, args...)
		if code == 0 {
			t.Errorf("%v succeeded", args)
			continue
		}
		if line := repeatedPrefix(stderr); line != "" {
			t.Errorf("%v: a prefix repeats: %s", args, line)
		}
		if n := strings.Count(stderr, "workbench: "); n != 1 {
			t.Errorf("%v: %q said %d times:\n%s", args, "workbench: ", n, stderr)
		}
	}
	// The check itself finds what it is meant to find.
	for _, bad := range []string{"workbench: run: run: x", "workbench: data set a: data set a: root b: gone", "workbench: a: b: a: b: c"} {
		if repeatedPrefix(bad) == "" {
			t.Errorf("repeatedPrefix misses %q", bad)
		}
	}
	if line := repeatedPrefix("workbench: run: --seeds: seed 1 is given twice"); line != "" {
		t.Errorf("repeatedPrefix flags %q", line)
	}
}

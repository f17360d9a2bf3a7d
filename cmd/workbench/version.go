package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"runtime"

	"github.com/mksmt/workbench/internal/ops"
	"github.com/mksmt/workbench/internal/runner"
	"github.com/mksmt/workbench/internal/store"
)

func init() {
	register(&command{
		Name:    "version",
		Summary: "print the workbench's code version, git commit and Go version",
		Run:     runVersion,
	})
}

func runVersion(ctx context.Context, args []string, io IO) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	asJSON := fs.Bool("json", false, "write JSON")
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB) (accepted as by every verb; version does not open it)")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err // -h: main exits 0
	}
	if err := checkDBFlag("version", *db); err != nil {
		return err
	}
	v := runner.DetectVersion(".")
	if *asJSON {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{
			"code_version":   v.Code,
			"git_commit":     v.GitCommit,
			"git_dirty":      v.GitDirty,
			"go_version":     v.GoVersion,
			"blas":           ops.BLASCore,
			"blas_note":      ops.BLASCoreNote,
			"conv_kernels":   ops.ConvKernels(),
			"platform":       runtime.GOOS + "/" + runtime.GOARCH,
			"schema_version": store.LatestSchemaVersion(),
		})
	}
	commit := v.GitCommit
	if commit == "" {
		commit = "unknown"
	} else if len(commit) > 12 {
		commit = commit[:12]
	}
	if v.GitDirty {
		commit += " (dirty)"
	}
	fmt.Fprintf(io.Out, "workbench %s\ngit commit %s\n%s %s/%s, runs.db schema %d\n",
		v.Code, commit, v.GoVersion, runtime.GOOS, runtime.GOARCH, store.LatestSchemaVersion())
	fmt.Fprintf(io.Out, "OpenBLAS kernels %s\n", ops.BLASCore)
	if ops.BLASCoreNote != "" {
		fmt.Fprintf(io.Out, "  (%s)\n", ops.BLASCoreNote)
	}
	fmt.Fprintf(io.Out, "convolutions %s\n", ops.ConvKernels())
	return nil
}

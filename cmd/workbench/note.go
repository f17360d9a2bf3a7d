package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/mksmt/workbench/internal/filter"
	"github.com/mksmt/workbench/internal/store"
)

func init() {
	register(&command{
		Name:    "note",
		Summary: "write, show or clear a run's note",
		Run:     runNote,
	})
	register(&command{
		Name:    "tag",
		Summary: "tag runs (filter them with --where tag:NAME)",
		Run:     func(ctx context.Context, args []string, io IO) error { return runTag(ctx, "tag", args, io) },
	})
	register(&command{
		Name:    "untag",
		Summary: "remove tags from runs",
		Run:     func(ctx context.Context, args []string, io IO) error { return runTag(ctx, "untag", args, io) },
	})
}

func runNote(ctx context.Context, args []string, io IO) error {
	fs := flag.NewFlagSet("note", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB)")
	clear := fs.Bool("clear", false, "remove the note")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench note RUN \"TEXT\" | workbench note RUN [--clear] [--db runs.db]")
		fmt.Fprintln(io.Err, "\nWith TEXT, the run's note becomes TEXT (replacing the one it had); without, the note")
		fmt.Fprintln(io.Err, "is shown. workbench runs shows its first line, workbench show all of it, and")
		fmt.Fprintln(io.Err, "--where note~WORD finds it.")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		fs.Usage()
		return fmt.Errorf("note: name one run id (see workbench runs)")
	}
	id, err := parseRunID("note", rest[0])
	if err != nil {
		return err
	}
	text := strings.Join(rest[1:], " ")
	if *clear && len(rest) > 1 {
		return fmt.Errorf("note: --clear takes no text (run %d)", id)
	}
	if err := store.CheckNote(text); err != nil {
		return fmt.Errorf("note: run %d: %w", id, err)
	}
	show := len(rest) == 1 && !*clear
	var st *store.Store
	if show {
		if err := checkDBFlag("note", *db); err != nil {
			return err
		}
		st, err = openForRead(io, *db)
	} else {
		st, err = openForMarks(io, "note", *db, "", false)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := namedRuns(ctx, st, "note", []int64{id})
	if err != nil {
		return err
	}
	if show {
		m, err := st.Marks(ctx, id)
		if err != nil {
			return err
		}
		if m[id].Note == "" {
			fmt.Fprintf(io.Err, "%s has no note (workbench note %d \"TEXT\" writes one)\n", runLabel(runs[0]), id)
			return nil
		}
		fmt.Fprintln(io.Out, m[id].Note)
		return nil
	}
	if err := st.SetNote(ctx, id, text); err != nil {
		return storeErr("note", err)
	}
	if text == "" {
		fmt.Fprintf(io.Out, "cleared the note of %s\n", runLabel(runs[0]))
	} else {
		fmt.Fprintf(io.Out, "noted %s\n", runLabel(runs[0]))
	}
	return nil
}

func runTag(ctx context.Context, verb string, args []string, io IO) error {
	add := verb == "tag"
	fs := flag.NewFlagSet(verb, flag.ContinueOnError)
	fs.SetOutput(io.Err)
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB)")
	var where multiFlag
	fs.Var(&where, "where", "the runs matching this filter (repeatable, ANDed; see workbench runs -h); then every argument is a tag")
	fs.Usage = func() {
		fmt.Fprintf(io.Err, "usage: workbench %s RUN TAG... | workbench %s --where FILTER TAG... [--db runs.db]\n", verb, verb)
		if add {
			fmt.Fprintln(io.Err, "\nRUN is an id, a range (3-7) or a list (3,5,9). A tag is one word (no spaces, quotes")
			fmt.Fprintln(io.Err, "or , | = < > ! ~). workbench runs --where tag:NAME lists the runs with it.")
		}
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	var ids []int64
	tags := rest
	if len(where) == 0 {
		if len(rest) == 0 {
			fs.Usage()
			return fmt.Errorf("%s: name the runs (ids, or --where FILTER) and the tags", verb)
		}
		if ids, err = parseRunIDs(verb, rest[:1]); err != nil {
			return err
		}
		tags = rest[1:]
	}
	if len(tags) == 0 {
		fs.Usage()
		return fmt.Errorf("%s: name at least one tag", verb)
	}
	if add {
		for _, t := range tags {
			if err := store.CheckTag(t); err != nil {
				return fmt.Errorf("%s: %w", verb, err)
			}
		}
	}
	st, err := openForMarks(io, verb, *db, "", false)
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := namedRuns(ctx, st, verb, ids)
	if err != nil {
		return err
	}
	if len(where) > 0 {
		sel, f, err := selectRuns(ctx, st, verb, store.RunFilter{}, nil, where, filter.WithArchived)
		if err != nil {
			return err
		}
		if len(sel.Records) == 0 {
			fmt.Fprintf(io.Out, "nothing to %s: no runs match %s\n", verb, f)
			return nil
		}
		for _, rec := range sel.Records {
			runs = append(runs, rec.Run)
		}
	}
	for _, r := range runs {
		var changed []string
		if add {
			changed, err = st.AddTags(ctx, r.ID, tags...)
		} else {
			changed, err = st.RemoveTags(ctx, r.ID, tags...)
		}
		if err != nil {
			return storeErr(verb, err)
		}
		m, err := st.Marks(ctx, r.ID)
		if err != nil {
			return err
		}
		now := strings.Join(m[r.ID].Tags, ", ")
		if now == "" {
			now = "none"
		}
		switch {
		case add && len(changed) == 0:
			fmt.Fprintf(io.Out, "%s had these tags already; tags: %s\n", runLabel(r), now)
		case add:
			fmt.Fprintf(io.Out, "tagged %s %s; tags: %s\n", runLabel(r), strings.Join(changed, ", "), now)
		case len(changed) == 0:
			fmt.Fprintf(io.Out, "%s had none of these tags; tags: %s\n", runLabel(r), now)
		default:
			fmt.Fprintf(io.Out, "untagged %s %s; tags: %s\n", runLabel(r), strings.Join(changed, ", "), now)
		}
	}
	return nil
}

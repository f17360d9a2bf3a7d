package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/png"
	goio "io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/mksmt/workbench/internal/data"
)

func init() {
	register(&command{
		Name:    "datasets",
		Summary: "list the built-in and detected data sets; 'datasets show SPEC' writes a contact sheet",
		Run:     runDatasets,
	})
}

func runDatasets(ctx context.Context, args []string, io IO) error {
	if len(args) > 0 && args[0] == "show" {
		return runDatasetsShow(ctx, args[1:], io)
	}
	fs := flag.NewFlagSet("datasets", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	asJSON := fs.Bool("json", false, "print the list as JSON")
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB) (accepted as by every verb; listing data sets does not open it)")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench datasets [--json] [--db runs.db]")
		fmt.Fprintln(io.Err, "       workbench datasets show SPEC [--out plots/] [--split test] [--per-class 8] [--classes 20] [--scale 3] [--size 32] [--db runs.db]")
		fmt.Fprintln(io.Err, "\nLists the built-in synthetic set, Fashion-MNIST when Debian's dataset-fashion-mnist")
		fmt.Fprintf(io.Err, "is installed, and the data sets one level below each directory of $%s\n", data.EnvDataDir)
		fmt.Fprintln(io.Err, "(default ./data), with class and image counts. Specs: "+strings.Join(data.Kinds(), ", ")+".")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("datasets: unexpected argument %q", fs.Arg(0))
	}
	if err := checkDBFlag("datasets", *db); err != nil {
		return err
	}
	var sums []data.Summary
	var errs []error
	for _, spec := range data.Detect() {
		s, err := data.Summarize(spec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sums = append(sums, s)
	}
	if *asJSON {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sums); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SPEC\tCLASSES\tTRAIN\tTEST\tSOURCE")
		for _, s := range sums {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", s.Spec, s.Classes, s.Train, s.Test, s.Source)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, s := range sums {
			for _, n := range s.Notes {
				fmt.Fprintf(io.Out, "note: %s: %s\n", s.Spec, n)
			}
		}
	}
	// A detected set whose lists do not read is reported, not hidden.
	for _, err := range errs {
		fmt.Fprintf(io.Err, "datasets: %v\n", err)
	}
	if len(errs) > 0 {
		return errors.New("datasets: some detected data sets cannot be read (see above)")
	}
	return nil
}

func runDatasetsShow(ctx context.Context, args []string, io IO) error {
	fs := flag.NewFlagSet("datasets show", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	out := fs.String("out", "plots", "directory to write the contact sheet PNG to")
	splitName := fs.String("split", "train", "split to show: train or test")
	perClass := fs.Int("per-class", 8, "images per class (one row per class)")
	classes := fs.Int("classes", 20, "at most this many classes (the first ones)")
	scale := fs.Int("scale", 3, "enlarge each image pixel to scale x scale")
	size := fs.Int("size", 32, "network input side the images are prepared for")
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB), which the contact sheet must not overwrite")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench datasets show SPEC [flags]")
		fmt.Fprintln(io.Err, "\nOpens the data set SPEC (e.g. synthetic, synthetic:difficulty=0.8, fashion-mnist,")
		fmt.Fprintln(io.Err, "cub:/data/CUB_200_2011) and writes a contact sheet: one row of examples per class,")
		fmt.Fprintln(io.Err, "as the network sees them at test time.")
		fs.PrintDefaults()
	}
	// Accept the spec before or after the flags.
	var spec string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		spec, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if spec == "" && fs.NArg() > 0 {
		spec = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("datasets show: unexpected argument %q", fs.Arg(0))
	}
	if spec == "" {
		fs.Usage()
		return errors.New("datasets show: missing SPEC")
	}
	var split data.SplitKind
	switch *splitName {
	case "train":
		split = data.Train
	case "test":
		split = data.Test
	default:
		return fmt.Errorf("datasets show: --split %q: unknown split (allowed: train, test)", *splitName)
	}
	if err := checkSheetFlags(*perClass, *classes, *scale, *size); err != nil {
		return err
	}
	if err := checkDBFlag("datasets show", *db); err != nil {
		return err
	}
	guard, err := newStoreGuard(*db)
	if err != nil {
		return fmt.Errorf("datasets show: %w", err)
	}
	if err := guard.check("--out", *out); err != nil {
		return fmt.Errorf("datasets show: %w", err)
	}
	start := time.Now()
	var opts data.Options
	if io.IsTTY {
		var mu sync.Mutex
		var last time.Time
		opts.Progress = func(done, total int) {
			mu.Lock() // called from several goroutines
			defer mu.Unlock()
			if now := time.Now(); now.Sub(last) > 200*time.Millisecond || done == total {
				last = now
				fmt.Fprintf(io.Err, "\rloading %s: %d/%d images", spec, done, total)
			}
		}
	}
	d, err := data.OpenWith(ctx, spec, *size, opts)
	if opts.Progress != nil {
		fmt.Fprintln(io.Err)
	}
	if err != nil {
		return err
	}
	sheet := d.ContactSheet(data.SheetOptions{Split: split, PerClass: *perClass, MaxClasses: *classes, Scale: *scale})
	if err := prepareOutDir(guard, "--out", *out); err != nil {
		return fmt.Errorf("datasets show: %w", err)
	}
	path := filepath.Join(*out, "dataset-"+fileSafe(spec)+"-"+split.String()+".png")
	if err := writeOutput(guard, "--out", path, func(w goio.Writer) error { return png.Encode(w, sheet) }); err != nil {
		return fmt.Errorf("datasets show: %w", err)
	}
	fmt.Fprintf(io.Out, "%s: %d classes, %d train / %d test images, fingerprint %s (opened in %.1fs)\n",
		d.Spec(), d.NumClasses(), d.Len(data.Train), d.Len(data.Test), d.Fingerprint(), time.Since(start).Seconds())
	for _, n := range d.Notes() {
		fmt.Fprintf(io.Out, "note: %s\n", n)
	}
	fmt.Fprintf(io.Out, "wrote %s\n", path)
	return nil
}

// Contact sheet limits: the sheet is one RGBA image in memory.
const (
	maxSheetPerClass = 64
	maxSheetClasses  = 1000
	maxSheetScale    = 16
	maxSheetPixels   = 64 << 20 // 256 MB as RGBA
)

// checkSheetFlags bounds the contact sheet's flags, each and together.
func checkSheetFlags(perClass, classes, scale, size int) error {
	const verb = "datasets show"
	if err := checkRange(verb, "per-class", perClass, 1, maxSheetPerClass, ""); err != nil {
		return err
	}
	if err := checkRange(verb, "classes", classes, 1, maxSheetClasses, ""); err != nil {
		return err
	}
	if err := checkRange(verb, "scale", scale, 1, maxSheetScale, ""); err != nil {
		return err
	}
	if err := checkRange(verb, "size", size, 8, 1024, "the network input sizes a data set accepts"); err != nil {
		return err
	}
	cell := size * scale
	if px := (perClass * cell) * (classes * cell); px > maxSheetPixels {
		return fmt.Errorf("%s: the sheet would be %d × %d pixels (--per-class %d × --classes %d images of %d px: --size %d × --scale %d); at most %d megapixels: lower --scale, --per-class or --classes",
			verb, perClass*cell, classes*cell, perClass, classes, cell, size, scale, maxSheetPixels>>20)
	}
	return nil
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._=-]+`)

// fileSafe turns a spec into a file name part.
func fileSafe(spec string) string {
	s := strings.Trim(unsafeChars.ReplaceAllString(spec, "_"), "_")
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

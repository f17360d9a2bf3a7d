package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func datasetsVerb(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(context.Background(), append([]string{"datasets"}, args...),
		IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: os.Getenv})
	return out.String(), errb.String(), code
}

// writeTinyFolder writes an ImageFolder tree with two classes.
func writeTinyFolder(t *testing.T, root string) {
	t.Helper()
	for c, class := range []string{"larks", "finches"} {
		for k := 0; k < 3; k++ {
			img := image.NewRGBA(image.Rect(0, 0, 40, 40))
			for i := range img.Pix {
				img.Pix[i] = uint8(60 * (c + 1))
			}
			img.Set(0, 0, color.RGBA{255, 0, 0, 255})
			if err := os.MkdirAll(filepath.Join(root, class), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.Create(filepath.Join(root, class, strings.Repeat("x", k+1)+".png"))
			if err != nil {
				t.Fatal(err)
			}
			png.Encode(f, img)
			f.Close()
		}
	}
}

func TestDatasetsList(t *testing.T) {
	dataDir := t.TempDir()
	writeTinyFolder(t, filepath.Join(dataDir, "mybirds"))
	t.Setenv("WORKBENCH_DATA_DIR", dataDir)

	out, errs, code := datasetsVerb(t)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"SPEC", "synthetic", "10", "3000", "1000", "imagefolder:" + filepath.Join(dataDir, "mybirds")} {
		if !strings.Contains(out, want) {
			t.Errorf("listing lacks %q:\n%s", want, out)
		}
	}

	out, errs, code = datasetsVerb(t, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var sums []struct {
		Spec                 string
		Classes, Train, Test int
	}
	if err := json.Unmarshal([]byte(out), &sums); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, out)
	}
	found := false
	for _, s := range sums {
		if strings.HasPrefix(s.Spec, "imagefolder:") {
			found = s.Classes == 2 && s.Train+s.Test == 6
		}
	}
	if !found || sums[0].Spec != "synthetic" {
		t.Errorf("json listing %+v", sums)
	}
}

func TestDatasetsShow(t *testing.T) {
	outDir := t.TempDir()
	out, errs, code := datasetsVerb(t, "show", "synthetic:classes=3,train=4,test=2", "--out", outDir, "--per-class", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	path := filepath.Join(outDir, "dataset-synthetic_classes=3_train=4_test=2-train.png")
	if !strings.Contains(out, "wrote "+path) || !strings.Contains(out, "3 classes, 12 train / 6 test images") {
		t.Errorf("output:\n%s", out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// 3 rows of 3 images of 32x32 at scale 3, plus labels and a title.
	if b := img.Bounds(); b.Dx() < 3*96 || b.Dy() < 3*96 {
		t.Errorf("contact sheet is %v", b)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"show"}, "missing SPEC"},
		{[]string{"show", "cifar"}, `unknown kind "cifar"`},
		{[]string{"show", "synthetic", "--split", "val"}, "unknown split (allowed: train, test)"},
		{[]string{"show", "cub:" + filepath.Join(outDir, "none")}, "no such file"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		_, errs, code := datasetsVerb(t, append(tt.args, "--out", outDir)...)
		if code == 0 || !strings.Contains(errs, tt.want) {
			t.Errorf("datasets %v: exit %d, stderr %q; want failure with %q", tt.args, code, errs, tt.want)
		}
	}
}

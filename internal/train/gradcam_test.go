package train

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mksmt/workbench/internal/data"
	"github.com/mksmt/workbench/internal/nets"
)

// checkpointOf writes the checkpoint of a freshly initialised run of c.
func checkpointOf(t *testing.T, c Config) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.ckpt")
	tr, err := newTrainer(c, open(t, c), Options{CheckpointPath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	// Running statistics away from (0, 1), so the inference norms matter.
	for _, n := range tr.model.Norms {
		for i := range n.State.Mean {
			n.State.Mean[i], n.State.Var[i] = 0.1*float64(i%3), 1+0.2*float64(i%2)
		}
	}
	if err := tr.checkpoint(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGradCAM(t *testing.T) {
	for _, c := range []Config{tinyConfig(), tinySwinConfig()} {
		t.Run(c.Backbone, func(t *testing.T) {
			path := checkpointOf(t, c)
			ds := open(t, c)
			images := []int{0, 5, 11}
			res, err := GradCAM(path, c, ds, images, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != len(images) {
				t.Fatalf("%d results for %d images", len(res), len(images))
			}
			lit := 0
			for i, r := range res {
				_, label := ds.Image(data.Test, images[i], data.NoFlip)
				if r.Image != images[i] || r.Label != label || r.Class != label || r.Pred < 0 || r.Pred >= 4 {
					t.Errorf("result %d: %+v", i, r)
				}
				if len(r.Maps) != 3 || r.H != 16 || r.W != 16 {
					t.Fatalf("result %d: %d maps of %d×%d", i, len(r.Maps), r.H, r.W)
				}
				for s, m := range r.Maps {
					if len(m) != 16*16 {
						t.Fatalf("map %d has %d values", s, len(m))
					}
					var mx float32
					for _, v := range m {
						if v < 0 || v > 1 || math.IsNaN(float64(v)) {
							t.Fatalf("map S%d of image %d: value %v outside [0, 1]", GradCAMStages[s], images[i], v)
						}
						mx = max(mx, v)
					}
					if mx == 1 {
						lit++
					}
					if mx != 0 && mx != 1 {
						t.Errorf("map S%d of image %d: maximum %v, want 1 (or an all-zero map)", GradCAMStages[s], images[i], mx)
					}
				}
			}

			if lit < len(images) {
				t.Errorf("only %d of %d maps show anything", lit, 3*len(images))
			}

			// In inference mode every image is on its own: explaining one
			// image alone gives the same maps as within a batch, for any class.
			alone, err := GradCAM(path, c, ds, []int{5}, []int{2})
			if err != nil {
				t.Fatal(err)
			}
			within, err := GradCAM(path, c, ds, []int{0, 5}, []int{1, 2})
			if err != nil {
				t.Fatal(err)
			}
			if alone[0].Class != 2 {
				t.Errorf("explained class %d, want 2", alone[0].Class)
			}
			for s := range alone[0].Maps {
				for p, v := range alone[0].Maps[s] {
					if d := math.Abs(float64(v - within[1].Maps[s][p])); d > 1e-4 {
						t.Fatalf("S%d pixel %d: %v alone, %v in a batch", GradCAMStages[s], p, v, within[1].Maps[s][p])
					}
				}
			}
		})
	}
}

func TestGradCAMErrors(t *testing.T) {
	c := tinyConfig()
	path := checkpointOf(t, c)
	ds := open(t, c)
	other := c
	other.Seed = 9
	for _, tc := range []struct {
		cfg     Config
		path    string
		images  []int
		classes []int
		want    string
	}{
		{c, path, []int{0, 1}, []int{1}, "2 images but 1 classes"},
		{c, path, []int{999}, nil, "image 999 out of range"},
		{c, path, []int{0}, []int{7}, "class 7 out of range"},
		{other, path, []int{0}, nil, "seed is 1 in the checkpoint, 9 now"},
		{c, filepath.Join(t.TempDir(), "missing"), []int{0}, nil, "no such file"},
	} {
		_, err := GradCAM(tc.path, tc.cfg, ds, tc.images, tc.classes)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want an error containing %q", err, tc.want)
		}
	}
}

func TestCAMMapAndUpsample(t *testing.T) {
	// Two channels on a 1×2 map, channel-major: A0 = (1, 2), A1 = (3, −4);
	// gradients average to w0 = 1, w1 = 0.5: cam = (1+1.5, 2−2) = (2.5, 0).
	l := nets.Layout{C: 2, H: 1, W: 2}
	cam := camMap([]float32{1, 2, 3, -4}, []float32{1, 1, 0, 1}, l)
	if cam[0] != 2.5 || cam[1] != 0 {
		t.Errorf("cam %v, want [2.5 0]", cam)
	}
	// The same map as tokens (position-major).
	l.Tokens = true
	if tok := camMap([]float32{1, 3, 2, -4}, []float32{1, 0, 1, 1}, l); tok[0] != 2.5 || tok[1] != 0 {
		t.Errorf("token layout: cam %v, want [2.5 0]", tok)
	}
	// Bilinear 1×2 → 2×4 with centres aligned: 0.75·a + 0.25·b inside.
	up := upsample([]float64{4, 0}, 1, 2, 2, 4)
	want := []float32{1, 0.75, 0.25, 0}
	for y := range 2 {
		for x := range 4 {
			if math.Abs(float64(up[y*4+x]-want[x])) > 1e-6 {
				t.Fatalf("upsampled row %d: %v, want %v", y, up[y*4:y*4+4], want)
			}
		}
	}
}

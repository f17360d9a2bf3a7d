package data

import (
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in      string
		kind    string
		path    string
		opts    map[string]string
		canon   string
		wantErr string
	}{
		{in: "synthetic", kind: "synthetic", canon: "synthetic"},
		{in: " Synthetic:seed=3,classes=5 ", kind: "synthetic", opts: map[string]string{"seed": "3", "classes": "5"}, canon: "synthetic:classes=5,seed=3"},
		{in: "synthetic:difficulty=0.7,train=50,test=20", kind: "synthetic", opts: map[string]string{"difficulty": "0.7", "train": "50", "test": "20"}},
		{in: "cub:/data/CUB_200_2011", kind: "cub", path: "/data/CUB_200_2011", canon: "cub:/data/CUB_200_2011"},
		{in: "cub:/data/CUB,bbox=true", kind: "cub", path: "/data/CUB", opts: map[string]string{"bbox": "true"}},
		{in: "imagefolder:/a,b/c,test=0.3,split_seed=2", kind: "imagefolder", path: "/a,b/c", opts: map[string]string{"test": "0.3", "split_seed": "2"}, canon: "imagefolder:/a,b/c,split_seed=2,test=0.3"},
		{in: "imagefolder:/a,x=1", kind: "imagefolder", path: "/a,x=1"}, // unknown key: part of the path
		{in: "nabirds:nab", kind: "nabirds", path: "nab"},
		{in: "imagefolder:bbox=true", kind: "imagefolder", path: "bbox=true"}, // not an imagefolder key: part of the path
		{in: "dogs:/d,train_per_class=5", kind: "dogs", path: "/d", opts: map[string]string{"train_per_class": "5"}},
		{in: "fashion-mnist", kind: "fashion-mnist", path: DefaultFashionMNISTPath},
		{in: "fashion-mnist:", kind: "fashion-mnist", path: DefaultFashionMNISTPath},
		{in: "fashion-mnist:/x/y", kind: "fashion-mnist", path: "/x/y"},
		{in: "fashion-mnist:test_per_class=3", kind: "fashion-mnist", path: DefaultFashionMNISTPath, opts: map[string]string{"test_per_class": "3"}},

		{in: "", wantErr: "empty"},
		{in: "cifar", wantErr: `unknown kind "cifar"`},
		{in: "cub", wantErr: "needs a root directory"},
		{in: "cub:", wantErr: "needs a root directory"},
		{in: "synthetic:seed", wantErr: "not key=value"},
		{in: "synthetic:colour=red", wantErr: `unknown option "colour"`},
		{in: "synthetic:seed=1,seed=2", wantErr: "given twice"},
		{in: "synthetic:seed=x", wantErr: "seed="},
		{in: "synthetic:classes=1", wantErr: "must be in [2, 200]"},
		{in: "synthetic:difficulty=1.5", wantErr: "must be in [0, 1]"},
		{in: "synthetic:train=0", wantErr: "images per class"},
		{in: "imagefolder:/a,test=1", wantErr: "test fraction"},
		{in: "cub:/a,bbox=maybe", wantErr: "bbox="},
		{in: "dogs:/a,train_per_class=0", wantErr: "at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sp, err := ParseSpec(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSpec(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSpec(%q): %v", tt.in, err)
			}
			if sp.Kind != tt.kind || sp.Path != tt.path {
				t.Errorf("ParseSpec(%q) = kind %q path %q, want %q %q", tt.in, sp.Kind, sp.Path, tt.kind, tt.path)
			}
			if len(sp.Options) != len(tt.opts) {
				t.Errorf("options = %v, want %v", sp.Options, tt.opts)
			}
			for k, v := range tt.opts {
				if sp.Options[k] != v {
					t.Errorf("option %s = %q, want %q", k, sp.Options[k], v)
				}
			}
			if tt.canon != "" && sp.String() != tt.canon {
				t.Errorf("String() = %q, want %q", sp.String(), tt.canon)
			}
			// The canonical form parses back to the same spec.
			back, err := ParseSpec(sp.String())
			if err != nil || back.String() != sp.String() {
				t.Errorf("round trip of %q: %q, %v", sp.String(), back.String(), err)
			}
		})
	}
}

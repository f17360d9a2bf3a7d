package data

import (
	"math"
	"strconv"
	"testing"
)

// nearestClassMean classifies the test split by the nearest class mean of
// the raw (normalised, centre-cropped) training pixels and returns the
// top-1 accuracy in percent.
func nearestClassMean(d *Dataset) float64 {
	k := d.NumClasses()
	dim := 3 * d.size * d.size
	means := make([][]float64, k)
	counts := make([]int, k)
	for c := range means {
		means[c] = make([]float64, dim)
	}
	for i := 0; i < d.Len(Train); i++ {
		x, l := d.Image(Train, i, NoFlip)
		for j, v := range x {
			means[l][j] += float64(v)
		}
		counts[l]++
	}
	for c := range means {
		for j := range means[c] {
			means[c][j] /= float64(counts[c])
		}
	}
	right := 0
	for i := 0; i < d.Len(Test); i++ {
		x, l := d.Image(Test, i, NoFlip)
		best, bestD := -1, math.Inf(1)
		for c := range means {
			var s float64
			for j, v := range x {
				e := float64(v) - means[c][j]
				s += e * e
			}
			if s < bestD {
				best, bestD = c, s
			}
		}
		if best == l {
			right++
		}
	}
	return 100 * float64(right) / float64(d.Len(Test))
}

// The synthetic set must need features: a nearest-class-mean classifier on
// raw pixels, which sees global colour and layout but cannot find small
// parts of a bird that moves, is far from perfect at the default
// difficulty; and the difficulty knob works (easier is more separable).
func TestSyntheticNeedsFeatures(t *testing.T) {
	def := strconv.FormatFloat(DefaultSyntheticDifficulty, 'g', -1, 64)
	acc := map[string]float64{}
	for _, diff := range []string{"0", def, "1"} {
		d, err := Open("synthetic:classes=10,train=100,test=50,difficulty="+diff, 32)
		if err != nil {
			t.Fatal(err)
		}
		acc[diff] = nearestClassMean(d)
		t.Logf("difficulty %s: nearest class mean on raw pixels %.1f%% (chance 10%%)", diff, acc[diff])
	}
	if acc[def] > 40 {
		t.Errorf("default difficulty: raw-pixel nearest class mean reaches %.1f%%; the task does not need features", acc[def])
	}
	if !(acc["0"] > acc["1"]+5) {
		t.Errorf("difficulty 0 (%.1f%%) is not clearly more separable than difficulty 1 (%.1f%%)", acc["0"], acc["1"])
	}
}

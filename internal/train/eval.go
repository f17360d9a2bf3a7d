package train

import (
	"context"
	"fmt"
	"math"

	"github.com/mksmt/workbench/internal/data"
)

// headName is the name of stage h's head in metric keys: "S2", "S3", "S4".
func headName(h int) string { return fmt.Sprintf("S%d", h) }

// ensembleName is the S3+S4 ensemble: the mean of the two heads' softmax
// probabilities.
const ensembleName = "S3+S4"

func isPlainAccuracy(k string) bool {
	switch k {
	case KeyAccS2, KeyAccS3, KeyAccS4, KeyAccEnsemble:
		return true
	}
	return false
}

// evaluate computes the top-1 accuracy (percent) of every trained head and
// of the S3+S4 ensemble (when both are trained) on the test split, once per
// flip: keys "acc.S4" for NoFlip, FlipKey("hflip", "S4") and so on.
func (t *trainer) evaluate(ctx context.Context, flips ...data.Flip) (map[string]float64, error) {
	heads := t.cfg.TrainedHeads()
	ensemble := len(heads) >= 2 // S3 and S4 are trained whenever two heads are
	k := t.ds.NumClasses()
	names := []string{}
	for _, h := range heads {
		names = append(names, headName(h))
	}
	if ensemble {
		names = append(names, ensembleName)
	}
	metrics := map[string]float64{}
	for _, flip := range flips {
		correct := make([]int, len(names)) // indexed like names
		total := 0
		it := t.ds.Batches(ctx, data.IterOptions{Split: data.Test, BatchSize: t.cfg.BatchSize, Flip: flip})
		for it.Next() {
			b := it.Batch()
			x := t.eval.net.XValue.Data().([]float32)
			copy(x, b.X)
			clear(x[len(b.X):]) // pad a short last batch; its rows are ignored
			if err := t.eval.run(); err != nil {
				it.Close()
				return nil, err
			}
			for i := 0; i < b.N; i++ {
				for j, h := range heads {
					if argmax(t.logitsRow(h, i, k)) == b.Y[i] {
						correct[j]++
					}
				}
				if ensemble {
					p := softmax(t.logitsRow(3, i, k))
					for c, q := range softmax(t.logitsRow(4, i, k)) {
						p[c] += q
					}
					if argmax(p) == b.Y[i] {
						correct[len(heads)]++
					}
				}
			}
			total += b.N
		}
		it.Close()
		if err := it.Err(); err != nil {
			return nil, err
		}
		for j, name := range names {
			key := "acc." + name
			if flip != data.NoFlip {
				key = FlipKey(flip.String(), name)
			}
			metrics[key] = 100 * float64(correct[j]) / float64(total)
		}
	}
	return metrics, nil
}

// logitsRow is row i of head h's logits in the last evaluation run.
func (t *trainer) logitsRow(h, i, k int) []float32 {
	return t.eval.logits[h].Data().([]float32)[i*k : (i+1)*k]
}

func argmax[T float32 | float64](v []T) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func softmax(z []float32) []float64 {
	p := make([]float64, len(z))
	mx := float64(z[argmax(z)])
	var s float64
	for i, v := range z {
		p[i] = math.Exp(float64(v) - mx)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

package train

import (
	"fmt"
	"slices"
	"strings"
)

// A term is one weighted loss of an update: cross-entropy of a head's
// logits, or distillation from S4 (the teacher, detached) into a student
// stage.
type term struct {
	kd     bool    // false: CE(z_stage); true: KD(stage ← 4)
	stage  int     // the CE head, or the KD student
	weight float64 // λ
}

func (t term) String() string {
	w := ""
	if t.weight != 1 {
		w = fmt.Sprintf("%g·", t.weight)
	}
	if t.kd {
		return fmt.Sprintf("%sKD(%d←4)", w, t.stage)
	}
	return fmt.Sprintf("%sCE(z%d)", w, t.stage)
}

// An update is one optimizer update: forward, backward, AdamW step, on the
// sum of its terms.
type update []term

func (u update) String() string {
	parts := make([]string, len(u))
	for i, t := range u {
		parts[i] = t.String()
	}
	return strings.Join(parts, " + ")
}

// upTo is the deepest stage the update's forward pass needs: S4 as soon
// as a term reads z4 (CE) or the teacher (KD).
func (u update) upTo() int {
	d := 0
	for _, t := range u {
		if t.kd {
			return 4
		}
		d = max(d, t.stage)
	}
	return d
}

// heads are the stages whose OPM and output layer the forward builds.
func (u update) heads() []int {
	var hs []int
	for _, t := range u {
		hs = append(hs, t.stage)
		if t.kd {
			hs = append(hs, 4)
		}
	}
	slices.Sort(hs)
	return slices.Compact(hs)
}

// schedule is DESIGN §1's table: the optimizer updates made with each
// batch, in order.
//
//	steps 0 (baseline)    CE(z4)
//	steps 1 (single-step) CE(z3) + CE(z4) + λ2·KD(3←4)
//	steps 2 (MKSMT)       (a) CE(z3), through S1..S3 only
//	                      (b) λ1·CE(z4) + λ2·KD(3←4)
//	steps 3               (a) CE(z2), through S1..S2 only
//	                      (b) CE(z3), through S1..S3 only
//	                      (c) λ1·CE(z4) + λ2·(KD(2←4) + KD(3←4))
//
// The last update's KD terms follow mode and distill (see last).
func schedule(c Config) []update {
	ce := func(stage int, w float64) term { return term{stage: stage, weight: w} }
	switch c.Steps {
	case 0:
		return []update{{ce(4, 1)}}
	case 1:
		return last(c, []term{ce(3, 1), ce(4, 1)}, 3)
	case 2:
		return append([]update{{ce(3, 1)}},
			last(c, []term{ce(4, c.Lambda1)}, 3)...)
	case 3:
		return append([]update{{ce(2, 1)}, {ce(3, 1)}},
			last(c, []term{ce(4, c.Lambda1)}, 2, 3)...)
	}
	panic(fmt.Sprintf("train: steps = %d passed validation", c.Steps))
}

// last is a batch's final update: its CE terms plus λ2·KD(s←4) for each
// student s. distill = none drops the KD terms; mode = sync sums CE and KD
// into one update, async makes the KD terms a second update of their own
// (a fresh forward).
func last(c Config, ces []term, students ...int) []update {
	var kds []term
	if c.Distill != "none" {
		for _, s := range students {
			kds = append(kds, term{kd: true, stage: s, weight: c.Lambda2})
		}
	}
	switch {
	case len(kds) == 0:
		return []update{ces}
	case c.Mode == "async":
		return []update{ces, kds}
	default:
		return []update{append(ces, kds...)}
	}
}

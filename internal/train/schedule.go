package train

import (
	"fmt"
	"slices"
	"strings"
)

// A term is one weighted loss of an update: cross-entropy of a head's
// logits, or distillation from a deeper teacher stage (S4, or S3 with
// three_step_pairs = "3>2,4>3") into a student stage.
type term struct {
	kd      bool    // false: CE(z_stage); true: KD(stage ← teacher)
	stage   int     // the CE head, or the KD student
	teacher int     // the KD teacher
	weight  float64 // λ
}

func (t term) String() string {
	w := ""
	if t.weight != 1 {
		w = fmt.Sprintf("%g·", t.weight)
	}
	if t.kd {
		return fmt.Sprintf("%sKD(%d←%d)", w, t.stage, t.teacher)
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

// upTo is the deepest stage the update's forward pass needs: the deepest
// CE head or KD teacher.
func (u update) upTo() int {
	d := 0
	for _, t := range u {
		d = max(d, t.stage, t.teacher)
	}
	return d
}

// heads are the stages whose OPM and output layer the forward builds.
func (u update) heads() []int {
	var hs []int
	for _, t := range u {
		hs = append(hs, t.stage)
		if t.kd {
			hs = append(hs, t.teacher)
		}
	}
	slices.Sort(hs)
	return slices.Compact(hs)
}

// schedule is DESIGN §1's table: the optimizer updates made with each
// batch, in order.
//
//	steps 0 (baseline)    CE(z4), repeated updates times (1..3)
//	steps 1 (single-step) CE(z3) + CE(z4) + λ2·KD(3←4)
//	steps 2 (MKSMT)       (a) CE(z3), through S1..S3 only
//	                      (b) λ1·CE(z4) + λ2·KD(3←4)
//	steps 3               (a) CE(z2), through S1..S2 only
//	                      (b) CE(z3), through S1..S3 only
//	                      (c) λ1·CE(z4) + λ2·(KD(2←4) + KD(3←4))
//
// The last update's KD terms follow mode, distill, three_step_pairs and
// async_order (see last). The baseline's repeated updates (updates = 2, 3)
// are the update-count control: as many optimizer updates per batch as
// two-step (or async) makes, without its heads or distillation.
func schedule(c Config) []update {
	ce := func(stage int, w float64) term { return term{stage: stage, weight: w} }
	switch c.Steps {
	case 0:
		us := make([]update, c.UpdatesPerBatch())
		for i := range us {
			us[i] = update{ce(4, 1)}
		}
		return us
	case 1:
		return last(c, []term{ce(3, 1), ce(4, 1)}, [2]int{4, 3})
	case 2:
		return append([]update{{ce(3, 1)}},
			last(c, []term{ce(4, c.Lambda1)}, [2]int{4, 3})...)
	case 3:
		pairs := [][2]int{{4, 2}, {4, 3}}
		if c.ThreeStepPairsOrDefault() == "3>2,4>3" {
			pairs[0] = [2]int{3, 2}
		}
		return append([]update{{ce(2, 1)}, {ce(3, 1)}},
			last(c, []term{ce(4, c.Lambda1)}, pairs...)...)
	}
	panic(fmt.Sprintf("train: steps = %d passed validation", c.Steps))
}

// last is a batch's final update: its CE terms plus λ2·KD(s←t) for each
// (teacher t, student s) pair. distill = none drops the KD terms; mode =
// sync sums CE and KD into one update, async makes the KD terms an update
// of their own (a fresh forward), after the CE update or, with async_order
// = "kd-first", before it.
func last(c Config, ces []term, pairs ...[2]int) []update {
	var kds []term
	if c.Distill != "none" {
		for _, p := range pairs {
			kds = append(kds, term{kd: true, stage: p[1], teacher: p[0], weight: c.Lambda2})
		}
	}
	switch {
	case len(kds) == 0:
		return []update{ces}
	case c.Mode == "async" && c.AsyncOrderOrDefault() == "kd-first":
		return []update{kds, ces}
	case c.Mode == "async":
		return []update{ces, kds}
	default:
		return []update{append(ces, kds...)}
	}
}

// Package train is the workbench's one shared trainer: every ablation runs
// through Run, so that a difference between two runs comes from the
// ablated factor and from nothing else.
//
// Run trains a nets.Model with the MKSMT schedules of DESIGN §1 (baseline,
// single-step, two-step, three-step; sync or async; decision, feature or no
// distillation), AdamW with warm-up and cosine decay, evaluates the trained
// heads after each epoch, and writes checkpoints from which an interrupted
// run resumes exactly. Each kind of update in a batch has its own gorgonia
// graph and tape machine, built once per run; all of them share the model's
// parameter tensors, which the optimizer updates in place.
//
// The package reports progress through the Logger interface and returns
// numbers; it must not know about the store, the CLI, the TUI or the
// reports, and it must not print.
package train

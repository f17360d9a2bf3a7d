// Package train is the workbench's one shared trainer: every ablation runs
// through Run, so that a difference between two runs comes from the
// ablated factor and from nothing else.
//
// Run trains a nets.Model with the MKSMT schedules of DESIGN §1 (baseline,
// single-step, two-step, three-step; sync or async; decision, feature or no
// distillation), AdamW with warm-up and cosine decay, evaluates the trained
// heads after each epoch, and writes checkpoints from which an interrupted
// run resumes exactly. Each kind of update in a batch has its own gorgonia
// graph, built once per run and run by the executor (exec.go); all of them
// share the model's parameter tensors, which the optimizer updates in place.
//
// What DESIGN §1 infers rather than the paper states is a Config setting
// whose zero value is the workbench's reading (issue 12): updates (the
// baseline's CE(z4) update repeated 1–3 times per batch, the update-count
// control), kd_scale_t2 and kd_detach (the T² factor and the teacher's
// stop-gradient), three_step_pairs, async_order, optimizer (skip-unreached,
// or pytorch-shared: one AdamW that also steps parameters an update did not
// reach, as PyTorch 1.6 with zero_grad()), and the recipe: decay_norms,
// lr_schedule (cosine, or PyTorch's OneCycleLR) and resize.
//
// The package reports progress through the Logger interface and returns
// numbers; it must not know about the store, the CLI, the TUI or the
// reports, and it must not print.
package train

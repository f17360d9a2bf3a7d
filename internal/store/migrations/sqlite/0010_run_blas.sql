-- 0010: the OpenBLAS kernels a run trained on (e.g. Cooperlake, Haswell),
-- set with the rest of its provenance when a process starts or claims it.
-- Different kernels give different (all correct) floating-point results, so
-- a run is bit-reproducible only on the same kernels. '' for older runs.

ALTER TABLE runs ADD COLUMN blas TEXT NOT NULL DEFAULT '';
